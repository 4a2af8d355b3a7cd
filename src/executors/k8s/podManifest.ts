/**
 * The pod of one attempt: name, labels, and the manifest (pod template merged
 * with the executor's settings and the task's `pod` overrides, hardened like
 * the `sluice deploy k8s` workloads where neither says otherwise).
 */
import { createHash } from "node:crypto";
import type { V1Container, V1EnvVar, V1Pod } from "@kubernetes/client-node";
import type { TaskPodSpec } from "../../core/dagSpec.js";
import { attemptAnnotations, LABEL_PREFIX, labelValue } from "../../kube/labels.js";
import { containerSecurityContext, podSecurityContext } from "../../kube/security.js";

/** Selects every task pod of every Sluice scheduler (adoption needs the dead ones' pods too). */
export const TASK_POD_SELECTOR = `app.kubernetes.io/managed-by=sluice,${LABEL_PREFIX}/component=task-pod`;
export const TI_LABEL = `${LABEL_PREFIX}/ti-id`;
export const TRY_LABEL = `${LABEL_PREFIX}/try-number`;
export const MAIN_CONTAINER = "base";
/** Set by Sluice on the task container; a template's or task's value for them is dropped. */
const SLUICE_ENV = new Set(["SLUICE_API_URL", "SLUICE_TASK_TOKEN"]);

export interface PodAttempt {
  tiId: number;
  tryNumber: number;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  /** The scheduler job that created the pod. */
  ownerJob: number | null;
}

/** DNS-1123, at most 63 characters, readable, unique per attempt (ti id and try, plus a hash of the identity). */
export function podName(a: PodAttempt): string {
  const hash = createHash("sha256").update(JSON.stringify([a.dagId, a.runId, a.taskId, a.mapIndex, a.tryNumber, a.tiId])).digest("hex").slice(0, 6);
  const tail = `-${a.tiId}-${a.tryNumber}-${hash}`;
  const readable = `${a.dagId}-${a.taskId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63 - 3 - tail.length)
    .replace(/-+$/, "");
  return `sl-${readable || "task"}${tail}`;
}

export function podLabels(a: PodAttempt): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "sluice",
    [`${LABEL_PREFIX}/component`]: "task-pod",
    [TI_LABEL]: String(a.tiId),
    [TRY_LABEL]: String(a.tryNumber),
    [`${LABEL_PREFIX}/map-index`]: String(a.mapIndex),
    [`${LABEL_PREFIX}/dag-id`]: labelValue(a.dagId),
    [`${LABEL_PREFIX}/run-id`]: labelValue(a.runId),
    [`${LABEL_PREFIX}/task-id`]: labelValue(a.taskId),
    ...(a.ownerJob != null ? { [`${LABEL_PREFIX}/scheduler-job`]: String(a.ownerJob) } : {}),
  };
}


export interface PodInputs {
  attempt: PodAttempt;
  template: V1Pod | undefined;
  image: string;
  command: string[];
  apiUrl: string;
  /** The attempt token, as a plain env value (see docs/kubernetes.md: a per-pod Secret would keep it out of the pod spec). */
  token: string;
  overrides: TaskPodSpec | undefined;
  /**
   * Git bundles, passed as SLUICE_BUNDLES so the pod checks out its run's commit
   * itself. Literal tokens are left out (they would sit in the pod spec): give
   * a private repository's token with tokenEnv and a secret in the pod template.
   */
  bundles?: readonly { name: string; token?: string }[];
}

/** The container that runs the task: the template's "base" container, else its first, else a new one. */
function mainContainer(pod: V1Pod): V1Container {
  const spec = (pod.spec ??= { containers: [] });
  spec.containers ??= [];
  let c = spec.containers.find((x) => x.name === MAIN_CONTAINER) ?? spec.containers[0];
  if (!c) spec.containers.push((c = { name: MAIN_CONTAINER }));
  return c;
}

export function buildPod(i: PodInputs): V1Pod {
  const a = i.attempt;
  const o = i.overrides ?? {};
  const pod: V1Pod = structuredClone(i.template ?? {});
  pod.apiVersion = "v1";
  pod.kind = "Pod";
  pod.metadata = {
    ...pod.metadata,
    name: podName(a),
    labels: { ...pod.metadata?.labels, ...podLabels(a) },
    annotations: { ...pod.metadata?.annotations, ...attemptAnnotations(a) },
  };
  delete pod.metadata.generateName;
  const c = mainContainer(pod);
  const spec = pod.spec!;
  // The attempt is retried by Sluice's policy, not by the kubelet restarting the container.
  spec.restartPolicy = "Never";
  c.image = o.image ?? c.image ?? i.image;
  c.command = [...i.command];
  c.args = ["task", "run", "--remote", i.apiUrl];
  // The task's variables replace the template's of the same name: env is a list keyed by name, and a
  // repeated name is refused by server-side apply (and, on create, hides the earlier entry with a warning).
  const fromTask = new Map<string, V1EnvVar>();
  for (const [name, value] of Object.entries(o.env ?? {})) fromTask.set(name, { name, value });
  for (const [name, s] of Object.entries(o.secretEnv ?? {})) fromTask.set(name, { name, valueFrom: { secretKeyRef: { name: s.secret, key: s.key } } });
  for (const name of SLUICE_ENV) fromTask.delete(name);
  const env: V1EnvVar[] = (c.env ?? []).filter((e) => !SLUICE_ENV.has(e.name) && !fromTask.has(e.name));
  env.push({ name: "SLUICE_API_URL", value: i.apiUrl }, { name: "SLUICE_TASK_TOKEN", value: i.token }, ...fromTask.values());
  if (i.bundles?.length && !env.some((e) => e.name === "SLUICE_BUNDLES")) env.push({ name: "SLUICE_BUNDLES", value: JSON.stringify(i.bundles.map(({ token: _token, ...b }) => b)) });
  c.env = env;
  if (o.resources) c.resources = o.resources as V1Container["resources"];
  if (o.nodeSelector) spec.nodeSelector = { ...spec.nodeSelector, ...o.nodeSelector };
  if (o.tolerations) spec.tolerations = [...(spec.tolerations ?? []), ...(o.tolerations as NonNullable<typeof spec.tolerations>)];
  if (o.affinity) spec.affinity = o.affinity as typeof spec.affinity;
  if (o.serviceAccount) spec.serviceAccountName = o.serviceAccount;
  // Copies: the defaults below must not be written into the task's spec.
  if (o.extraContainers) spec.containers.push(...(structuredClone(o.extraContainers) as unknown as V1Container[]));
  harden(spec, Boolean(o.serviceAccount));
  return pod;
}

/**
 * The deploy workloads' hardening (PodSecurity "restricted"), where the template
 * and the task set none: a securityContext they set, even `{}`, is kept whole,
 * at pod level and per container, so a template can run a container as root.
 * The root filesystem stays writable: a task pod mounts nothing of its own,
 * and the runner writes git bundle checkouts under $SLUICE_HOME
 * (/var/lib/sluice in the image) and tasks write temporary files to /tmp.
 */
function harden(spec: NonNullable<V1Pod["spec"]>, taskNamesServiceAccount: boolean): void {
  spec.securityContext ??= podSecurityContext();
  for (const x of [...(spec.initContainers ?? []), ...spec.containers]) x.securityContext ??= containerSecurityContext(false);
  // The runner talks to Sluice's API, not Kubernetes': no token unless the task names a service account
  // (Spark on Kubernetes does), or the template decides. Unset, the ServiceAccount's own setting applies.
  if (spec.automountServiceAccountToken === undefined && !taskNamesServiceAccount) spec.automountServiceAccountToken = false;
}
