/**
 * The pod calls of the Kubernetes executor, through @kubernetes/client-node
 * (imported on first use: ~0.4 s to load, which a local-executor scheduler
 * should not pay).
 */
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import type { SluiceConfig } from "../../config/config.js";
import { apiStatus, kubeConfigFrom, loadK8s as k8s, type K8s } from "../../kube/client.js";

export type KubeSettings = SluiceConfig["kubernetes"];
export type WatchEvent = { type: string; object: any };

/** A kubeconfig for the executor: in-cluster, a kubeconfig file, or server + bearer token. */
function kubeConfig(s: KubeSettings): Promise<KubeConfig> {
  return kubeConfigFrom(s, () => new Error("kubernetes.server is not set: set kubernetes.inCluster, kubernetes.kubeconfigPath, or kubernetes.server with kubernetes.token."));
}


export class PodApi {
  private constructor(
    private readonly kc: KubeConfig,
    private readonly lib: K8s,
    readonly namespace: string,
  ) {}

  static async connect(s: KubeSettings): Promise<PodApi> {
    return new PodApi(await kubeConfig(s), await k8s(), s.namespace);
  }

  private core() {
    return this.kc.makeApiClient(this.lib.CoreV1Api);
  }

  create(body: V1Pod): Promise<V1Pod> {
    return this.core().createNamespacedPod({ namespace: this.namespace, body });
  }

  async get(name: string): Promise<V1Pod | undefined> {
    try {
      return await this.core().readNamespacedPod({ namespace: this.namespace, name });
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async list(labelSelector: string): Promise<{ items: V1Pod[]; resourceVersion: string | undefined }> {
    const l = await this.core().listNamespacedPod({ namespace: this.namespace, labelSelector });
    return { items: l.items, resourceVersion: l.metadata?.resourceVersion };
  }

  /** Delete now (no grace: the attempt is over or being failed); false when already gone. */
  async delete(name: string): Promise<boolean> {
    try {
      await this.core().deleteNamespacedPod({ namespace: this.namespace, name, gracePeriodSeconds: 0 });
      return true;
    } catch (err) {
      if (apiStatus(err) === 404) return false;
      throw err;
    }
  }

  /** The container's log (its last `limitBytes`). */
  log(name: string, container: string, limitBytes: number): Promise<string> {
    return this.core().readNamespacedPodLog({ namespace: this.namespace, name, container, limitBytes });
  }

  /**
   * Watch pods matching the selector from `resourceVersion`. `done` is called
   * once when the stream ends (dropped, closed by the server, or aborted).
   */
  watch(labelSelector: string, resourceVersion: string | undefined, onEvent: (e: WatchEvent) => void, done: (err: unknown) => void): Promise<AbortController> {
    return new this.lib.Watch(this.kc).watch(
      `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`,
      { labelSelector, resourceVersion, allowWatchBookmarks: true },
      (type: string, object: any) => onEvent({ type, object }),
      done,
    );
  }
}
