import type { TaskState } from "./states.js";

export const TRIGGER_RULES = [
  "all_success",
  "all_failed",
  "all_done",
  "one_success",
  "one_failed",
  "none_failed",
  "none_failed_min_one_success",
  "always",
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** What to do with a task whose upstream tasks are in the given states. */
export type TriggerDecision = "run" | "wait" | "skip" | "upstream_failed";

interface Counts {
  total: number;
  success: number;
  failed: number; // failed + upstream_failed
  skipped: number;
  done: number;
}

function count(states: readonly TaskState[]): Counts {
  const c: Counts = { total: states.length, success: 0, failed: 0, skipped: 0, done: 0 };
  for (const s of states) {
    if (s === "success") c.success++;
    else if (s === "failed" || s === "upstream_failed") c.failed++;
    else if (s === "skipped") c.skipped++;
    else continue;
    c.done++;
  }
  return c;
}

/**
 * Airflow-compatible trigger-rule evaluation. `upstream` holds the current
 * states of every direct upstream task instance. Rules that can be decided
 * early (one_success, one_failed) fire as soon as they can; the others wait
 * until every upstream is done. A task with no upstream always runs.
 */
export function evaluateTriggerRule(rule: TriggerRule, upstream: readonly TaskState[]): TriggerDecision {
  if (upstream.length === 0) return "run";
  const c = count(upstream);
  const allDone = c.done === c.total;
  switch (rule) {
    case "always":
      return "run";
    case "all_success":
      if (c.failed > 0) return "upstream_failed";
      if (c.skipped > 0) return "skip";
      return allDone ? "run" : "wait";
    case "all_failed":
      if (c.success > 0 || c.skipped > 0) return "skip";
      return allDone ? "run" : "wait";
    case "all_done":
      return allDone ? "run" : "wait";
    case "one_success":
      if (c.success > 0) return "run";
      if (!allDone) return "wait";
      return c.failed > 0 ? "upstream_failed" : "skip";
    case "one_failed":
      if (c.failed > 0) return "run";
      return allDone ? "skip" : "wait";
    case "none_failed":
      if (c.failed > 0) return "upstream_failed";
      return allDone ? "run" : "wait";
    case "none_failed_min_one_success":
      if (c.failed > 0) return "upstream_failed";
      if (!allDone) return "wait";
      return c.success > 0 ? "run" : "skip";
  }
}
