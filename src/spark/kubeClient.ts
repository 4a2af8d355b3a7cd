/**
 * The few Kubernetes calls Spark tasks make, through @kubernetes/client-node:
 * create / read / delete a SparkApplication, delete a pod, follow a pod's
 * log. The client library is imported on first use: it takes ~0.4 s to load,
 * which every task process would otherwise pay.
 */
import type { Writable } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesTarget } from "./sparkConnection.js";
import { apiStatus, kubeConfigFrom, loadK8s, type K8s } from "../kube/client.js";

export { apiMessage, apiStatus } from "../kube/client.js";

export const SPARK_GROUP = "sparkoperator.k8s.io";
export const SPARK_VERSION = "v1beta2";
export const SPARK_PLURAL = "sparkapplications";
/** The container Spark names in driver pods (spark-submit and the operator alike). */
export const DRIVER_CONTAINER = "spark-kubernetes-driver";

const k8s = loadK8s;

/** A kubeconfig for the connection: in-cluster, a kubeconfig file, or the API server URL with the password as bearer token. */
export function kubeConfigFor(t: KubernetesTarget): Promise<KubeConfig> {
  return kubeConfigFrom({ ...t.kubernetes, server: t.apiServer, token: t.token ?? undefined }, () => new Error("the Spark connection names no Kubernetes API server"));
}


export class KubeSparkApi {
  private constructor(
    private readonly kc: KubeConfig,
    private readonly lib: K8s,
  ) {}

  static async connect(kc: KubeConfig): Promise<KubeSparkApi> {
    return new KubeSparkApi(kc, await k8s());
  }

  private custom() {
    return this.kc.makeApiClient(this.lib.CustomObjectsApi);
  }

  async create(namespace: string, body: Record<string, unknown>): Promise<Record<string, any>> {
    return this.custom().createNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, namespace, plural: SPARK_PLURAL, body });
  }

  async get(namespace: string, name: string): Promise<Record<string, any>> {
    return this.custom().getNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, namespace, plural: SPARK_PLURAL, name });
  }

  /** Delete; false when it was already gone. The operator deletes the driver and executor pods with it. */
  async delete(namespace: string, name: string): Promise<boolean> {
    try {
      await this.custom().deleteNamespacedCustomObject({ group: SPARK_GROUP, version: SPARK_VERSION, namespace, plural: SPARK_PLURAL, name, propagationPolicy: "Background" });
      return true;
    } catch (err) {
      if (apiStatus(err) === 404) return false;
      throw err;
    }
  }

  async deletePod(namespace: string, name: string): Promise<boolean> {
    try {
      await this.kc.makeApiClient(this.lib.CoreV1Api).deleteNamespacedPod({ namespace, name });
      return true;
    } catch (err) {
      if (apiStatus(err) === 404) return false;
      throw err;
    }
  }

  /** Follow a container's log into `out` until the container ends; abort() stops following. */
  async followLog(namespace: string, pod: string, container: string, out: Writable): Promise<AbortController> {
    return new this.lib.Log(this.kc).log(namespace, pod, container, out, { follow: true });
  }

  /** The kubeconfig as text (handed to the kill process, which must act after this process is gone). */
  exportConfig(): string {
    return this.kc.exportConfig();
  }
}
