/**
 * The few Kubernetes calls Spark tasks make, through @kubernetes/client-node:
 * create / read / delete a SparkApplication, delete a pod, follow a pod's
 * log. The client library is imported on first use: it takes ~0.4 s to load,
 * which every task process would otherwise pay.
 */
import type { Writable } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubernetesTarget } from "./sparkConnection.js";

export const SPARK_GROUP = "sparkoperator.k8s.io";
export const SPARK_VERSION = "v1beta2";
export const SPARK_PLURAL = "sparkapplications";
/** The container Spark names in driver pods (spark-submit and the operator alike). */
export const DRIVER_CONTAINER = "spark-kubernetes-driver";

type K8s = typeof import("@kubernetes/client-node");
let lib: Promise<K8s> | undefined;
const k8s = (): Promise<K8s> => (lib ??= import("@kubernetes/client-node"));

/** A kubeconfig for the connection: in-cluster, a kubeconfig file, or the API server URL with the password as bearer token. */
export async function kubeConfigFor(t: KubernetesTarget): Promise<KubeConfig> {
  const { KubeConfig } = await k8s();
  const kc = new KubeConfig();
  const s = t.kubernetes;
  if (s.inCluster) kc.loadFromCluster();
  else if (s.kubeconfigPath) {
    kc.loadFromFile(s.kubeconfigPath);
    if (s.context) kc.setCurrentContext(s.context);
  } else {
    kc.loadFromOptions({
      clusters: [{ name: "spark", server: t.apiServer, caData: s.caData, skipTLSVerify: s.insecureSkipTlsVerify }],
      users: [{ name: "sluice", token: t.token }],
      contexts: [{ name: "spark", cluster: "spark", user: "sluice", namespace: s.namespace }],
      currentContext: "spark",
    });
  }
  return kc;
}

/** The HTTP status of a failed client-node call (ApiException.code), if it has one. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
}

/** The message of a Kubernetes Status object in a failed call, else the error's own. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown })?.body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      /* plain text */
    }
  }
  const m = (parsed as { message?: unknown })?.message;
  if (typeof m === "string") return m;
  // client-node's ApiException text: "HTTP-Code: 401\nMessage: Unauthorized\nBody: …\nHeaders: …"; keep the message line.
  const text = (err as Error)?.message ?? String(err);
  return /^Message: (.*)$/m.exec(text)?.[1] ?? text.split("\n")[0];
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
