/**
 * What every part of Sluice that talks to Kubernetes shares (Spark on
 * Kubernetes, the Kubernetes executor, the autoscaler's Deployment actuator):
 * @kubernetes/client-node imported on first use (it takes ~0.4 s to load,
 * which a process that never talks to a cluster should not pay), one way to
 * build a kubeconfig from settings, and how a failed call is read.
 */
import type { KubeConfig } from "@kubernetes/client-node";

export type K8s = typeof import("@kubernetes/client-node");
let lib: Promise<K8s> | undefined;
export const loadK8s = (): Promise<K8s> => (lib ??= import("@kubernetes/client-node"));

/** How to reach a cluster: in-cluster, a kubeconfig file (and context), or an API server URL with a bearer token. */
export interface ClusterAccess {
  inCluster?: boolean;
  kubeconfigPath?: string;
  context?: string;
  server?: string;
  token?: string;
  caData?: string;
  insecureSkipTlsVerify?: boolean;
  namespace?: string;
}

/** A kubeconfig for `a`; `noServer` is the caller's error when none of the three ways is set. */
export async function kubeConfigFrom(a: ClusterAccess, noServer: () => Error): Promise<KubeConfig> {
  const { KubeConfig } = await loadK8s();
  const kc = new KubeConfig();
  if (a.inCluster) kc.loadFromCluster();
  else if (a.kubeconfigPath) {
    kc.loadFromFile(a.kubeconfigPath);
    if (a.context) kc.setCurrentContext(a.context);
  } else {
    if (!a.server) throw noServer();
    kc.loadFromOptions({
      clusters: [{ name: "sluice", server: a.server, caData: a.caData, skipTLSVerify: a.insecureSkipTlsVerify }],
      users: [{ name: "sluice", token: a.token }],
      contexts: [{ name: "sluice", cluster: "sluice", user: "sluice", namespace: a.namespace }],
      currentContext: "sluice",
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
