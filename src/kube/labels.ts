/**
 * Labels and annotations of what Sluice creates on Kubernetes (task pods,
 * SparkApplications). Label values are limited to 63 characters of
 * [A-Za-z0-9._-] (a run id such as "manual__2026-03-01T12:00:00Z" is not
 * one), so labels carry a sanitised value for selectors and annotations carry
 * the exact ids.
 */

/** The attempt an object belongs to. */
export interface AttemptIds {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

export const LABEL_PREFIX = "sluice.io";

/** A valid label value: allowed characters only, alphanumeric at both ends, at most 63 characters. */
export function labelValue(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 63);
  return cleaned.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}

/** The exact ids, as annotations (no length or character limits that matter here). */
export function attemptAnnotations(a: AttemptIds): Record<string, string> {
  return {
    [`${LABEL_PREFIX}/dag-id`]: a.dagId,
    [`${LABEL_PREFIX}/run-id`]: a.runId,
    [`${LABEL_PREFIX}/task-id`]: a.taskId,
    [`${LABEL_PREFIX}/map-index`]: String(a.mapIndex),
    [`${LABEL_PREFIX}/try-number`]: String(a.tryNumber),
  };
}
