/**
 * The small vocabulary every rendered object shares: names, the
 * app.kubernetes.io labels, the non-root security context and the pod bits
 * (volumes, env) all Sluice containers get. Objects are plain JSON-shaped
 * values: the tests validate them against the Kubernetes OpenAPI schemas.
 */
import { containerSecurityContext, podSecurityContext } from "../kube/security.js";
import type { DeployOptions } from "./options.js";

// Shared with the Kubernetes executor's task pods; re-exported for the other deploy renderers.
export { containerSecurityContext, podSecurityContext, SLUICE_UID } from "../kube/security.js";

/** A Kubernetes object as rendered: plain data, serialised as YAML. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export type Component = "api" | "scheduler" | "worker" | "autoscaler" | "postgres" | "config" | "rbac" | "network";

export const APP_VERSION = "0.1.0";
/** Where a Sluice container keeps its state (logs, SQLite when unset); an emptyDir since the root filesystem is read-only. */
export const SLUICE_HOME = "/var/lib/sluice";

export function objectName(o: DeployOptions, suffix?: string): string {
  return suffix ? `${o.name}-${suffix}` : o.name;
}
export const secretName = (o: DeployOptions): string => o.secrets.name ?? objectName(o, "secrets");
export const configMapName = (o: DeployOptions): string => objectName(o, "config");
export const serviceAccountName = (o: DeployOptions): string => objectName(o);
/** The Sluice autoscaler's own service account: it may scale the workers, nothing else. */
export const autoscalerServiceAccountName = (o: DeployOptions): string => objectName(o, "autoscaler");

/** The Secret key holding the task-token HMAC key (executor "kubernetes"): every scheduler and API pod must sign and verify with the same one. */
export const TASK_TOKEN_KEY = "task-token-key";
/** Port of the API Service (the pods listen on api.port behind it). */
export const API_SERVICE_PORT = 80;
/** The API as task pods reach it: the Service's cluster DNS name. */
export const apiServiceUrl = (o: DeployOptions): string => `http://${objectName(o, "api")}.${o.namespace}.svc:${API_SERVICE_PORT}`;

/** Labels that select a component's pods: stable across upgrades (a Deployment's selector cannot change). */
export function selectorLabels(o: DeployOptions, component: Component): Record<string, string> {
  return { "app.kubernetes.io/name": "sluice", "app.kubernetes.io/instance": o.name, "app.kubernetes.io/component": component };
}

export function labels(o: DeployOptions, component: Component): Record<string, string> {
  return {
    ...selectorLabels(o, component),
    "app.kubernetes.io/part-of": "sluice",
    "app.kubernetes.io/version": APP_VERSION,
    "app.kubernetes.io/managed-by": "sluice-deploy",
  };
}

export function meta(o: DeployOptions, name: string, component: Component, annotations?: Record<string, string>): K8sObject["metadata"] {
  return { name, namespace: o.namespace, labels: labels(o, component), ...(annotations ? { annotations } : {}) };
}

function resources(r: DeployOptions["api"]["resources"]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.requests && Object.keys(r.requests).length) out.requests = { ...r.requests };
  if (r.limits && Object.keys(r.limits).length) out.limits = { ...r.limits };
  return out;
}

/** The DAG folder the Sluice containers read: the git-sync checkout when syncing, else the one in the image. */
export function dagsFolder(o: DeployOptions): string {
  const g = o.dags.gitSync;
  if (!g) return o.dags.folder;
  return g.subPath ? `/git/current/${g.subPath.replace(/\/+$/, "")}` : "/git/current";
}

/** A Sluice container running `sluice <role>`, configured from the ConfigMap and the Secret. */
export function sluiceContainer(
  o: DeployOptions,
  name: string,
  command: string[],
  res: DeployOptions["api"]["resources"],
  extra: { env?: { name: string; value: string }[]; ports?: unknown[]; probes?: Record<string, unknown>; dagSync?: boolean } = {},
): Record<string, unknown> {
  return {
    name,
    image: o.image,
    imagePullPolicy: o.imagePullPolicy,
    command,
    envFrom: [{ configMapRef: { name: configMapName(o) } }],
    env: [
      { name: "SLUICE_DB_URL", valueFrom: { secretKeyRef: { name: secretName(o), key: "db-url" } } },
      { name: "SLUICE_SECRETS__KEY", valueFrom: { secretKeyRef: { name: secretName(o), key: "secrets-key" } } },
      ...(o.executor === "kubernetes" ? [{ name: "SLUICE_API__TASK_TOKEN_KEY", valueFrom: { secretKeyRef: { name: secretName(o), key: TASK_TOKEN_KEY } } }] : []),
      ...(extra.env ?? []),
    ],
    ...(extra.ports ? { ports: extra.ports } : {}),
    ...(extra.probes ?? {}),
    resources: resources(res),
    securityContext: containerSecurityContext(),
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      { name: "home", mountPath: SLUICE_HOME },
      ...(extra.dagSync && o.dags.gitSync ? [{ name: "dags", mountPath: "/git", readOnly: true }] : []),
    ],
  };
}

/** git-sync: an init container for the first checkout (so the scheduler never starts on an empty folder) and a sidecar following the ref. */
export function gitSyncContainers(o: DeployOptions): { init: Record<string, unknown>[]; sidecars: Record<string, unknown>[] } {
  const g = o.dags.gitSync;
  if (!g) return { init: [], sidecars: [] };
  const base = (name: string, oneTime: boolean) => ({
    name,
    image: g.image,
    args: [`--repo=${g.repo}`, `--ref=${g.ref}`, "--root=/git", "--link=current", `--period=${g.period}`, ...(oneTime ? ["--one-time"] : [])],
    env: [{ name: "HOME", value: "/tmp" }],
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
    securityContext: containerSecurityContext(),
    volumeMounts: [
      { name: "dags", mountPath: "/git" },
      { name: "tmp", mountPath: "/tmp" },
    ],
  });
  return { init: [base("git-sync-init", true)], sidecars: [base("git-sync", false)] };
}

/** The pod template of a Sluice Deployment (API, scheduler or workers). */
export function sluicePodTemplate(o: DeployOptions, component: Component, container: Record<string, unknown>, opts: { dagSync: boolean; terminationGracePeriodSeconds?: number }): Record<string, unknown> {
  const sync = opts.dagSync ? gitSyncContainers(o) : { init: [], sidecars: [] };
  return {
    metadata: { labels: labels(o, component) },
    spec: {
      serviceAccountName: component === "autoscaler" ? autoscalerServiceAccountName(o) : serviceAccountName(o),
      // Only the scheduler (pods for tasks) and the autoscaler (the workers' scale) talk to the Kubernetes API; the others get no token.
      automountServiceAccountToken: component === "scheduler" || component === "autoscaler",
      securityContext: podSecurityContext(),
      ...(o.imagePullSecrets.length ? { imagePullSecrets: o.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(opts.terminationGracePeriodSeconds ? { terminationGracePeriodSeconds: opts.terminationGracePeriodSeconds } : {}),
      ...(sync.init.length ? { initContainers: sync.init } : {}),
      containers: [container, ...sync.sidecars],
      volumes: [
        { name: "tmp", emptyDir: {} },
        { name: "home", emptyDir: {} },
        ...(opts.dagSync && o.dags.gitSync ? [{ name: "dags", emptyDir: {} }] : []),
      ],
    },
  };
}
