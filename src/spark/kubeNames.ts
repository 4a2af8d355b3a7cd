/**
 * Names and labels of what a Spark task creates on Kubernetes. Label values
 * are limited to 63 characters of [A-Za-z0-9._-] (a run id such as
 * "manual__2026-03-01T12:00:00Z" is not one), so labels carry a sanitised
 * value for selectors and annotations carry the exact ids.
 */
import { createHash } from "node:crypto";
import { LABEL_PREFIX, labelValue } from "../kube/labels.js";
import type { AttemptRef } from "./sparkJob.js";

export { attemptAnnotations, LABEL_PREFIX, labelValue } from "../kube/labels.js";

/** Labels identifying the attempt (on the SparkApplication, the driver and the executors). */
export function attemptLabels(a: AttemptRef): Record<string, string> {
  return {
    "app.kubernetes.io/managed-by": "sluice",
    [`${LABEL_PREFIX}/dag-id`]: labelValue(a.dagId),
    [`${LABEL_PREFIX}/run-id`]: labelValue(a.runId),
    [`${LABEL_PREFIX}/task-id`]: labelValue(a.taskId),
    [`${LABEL_PREFIX}/map-index`]: String(a.mapIndex),
    [`${LABEL_PREFIX}/try-number`]: String(a.tryNumber),
  };
}


/**
 * The SparkApplication's name for an attempt: readable (dag and task), unique
 * per attempt (a hash of the full identity, try included), and short enough
 * that the operator's "<name>-driver" pod and "<name>-ui-svc" service names
 * stay within Kubernetes' 63-character limit.
 */
export function attemptName(a: AttemptRef): string {
  const hash = createHash("sha256").update(JSON.stringify([a.dagId, a.runId, a.taskId, a.mapIndex, a.tryNumber])).digest("hex").slice(0, 10);
  const readable = `${a.dagId}-${a.taskId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32)
    .replace(/-+$/, "");
  return `sl-${readable ? `${readable}-` : ""}${hash}`;
}
