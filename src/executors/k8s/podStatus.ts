/** What a pod's status says about its attempt: finished (and how), or stuck Pending (and why). */
import type { V1Pod } from "@kubernetes/client-node";
import { MAIN_CONTAINER } from "./podManifest.js";

export interface PodEnd {
  failed: boolean;
  /** Why it failed, for the task's error ("OOMKilled (exit 137)", "exit code 2", "Evicted: …"). */
  reason: string;
}

function main(pod: V1Pod) {
  const statuses = pod.status?.containerStatuses ?? [];
  const name = pod.spec?.containers?.find((c) => c.name === MAIN_CONTAINER)?.name ?? pod.spec?.containers?.[0]?.name;
  return statuses.find((s) => s.name === name) ?? statuses[0];
}

/**
 * Ended when the pod's phase is final or the task container has terminated
 * (sidecars from extraContainers may keep the pod Running after the task).
 */
export function podEnd(pod: V1Pod): PodEnd | undefined {
  const phase = pod.status?.phase;
  const t = main(pod)?.state?.terminated;
  if (phase !== "Succeeded" && phase !== "Failed" && !t) return undefined;
  if (t) {
    if (t.exitCode === 0) return { failed: false, reason: "exit code 0" };
    if (t.reason === "OOMKilled" || t.exitCode === 137) {
      return { failed: true, reason: t.reason === "OOMKilled" ? "OOMKilled (exit 137)" : "killed (exit 137: SIGKILL, often the out-of-memory killer)" };
    }
    return { failed: true, reason: `exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ""}${t.message ? `: ${t.message}` : ""}` };
  }
  if (phase === "Succeeded") return { failed: false, reason: "Succeeded" };
  // Failed without a terminated container: evicted, or the container never started.
  const s = pod.status;
  return { failed: true, reason: `${s?.reason ?? "Failed"}${s?.message ? `: ${s.message}` : ""}` };
}

/** Why a Pending pod is not running yet, when Kubernetes says (ImagePullBackOff, Unschedulable, …). */
export function pendingReason(pod: V1Pod | undefined): string | undefined {
  if (!pod) return undefined;
  const w = main(pod)?.state?.waiting;
  if (w?.reason && w.reason !== "ContainerCreating") return `${w.reason}${w.message ? `: ${w.message}` : ""}`;
  const sched = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (sched) return `${sched.reason ?? "Unschedulable"}${sched.message ? `: ${sched.message}` : ""}`;
  return w?.reason;
}
