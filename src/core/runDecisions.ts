import type { DagSpec } from "./dagSpec.js";
import { FINISHED_TASK_STATES, type RunState, type TaskState } from "./states.js";
import { evaluateTriggerRule } from "./triggerRules.js";

export interface TiStateView {
  id: number;
  task_id: string;
  state: string;
}

export interface RunDecisions {
  schedule: number[];
  skip: number[];
  upstreamFailed: number[];
  /** The run's final state once every task instance is finished, else null. */
  runState: Extract<RunState, "success" | "failed"> | null;
}

/**
 * Given a DAG version and the current states of one run's task instances,
 * decide which waiting instances become scheduled, skipped or
 * upstream_failed, and whether the run is finished. Decisions cascade within
 * one call (a skip propagates down the whole chain at once), so a run never
 * needs several scheduler loops to settle.
 */
export function decideRun(spec: Pick<DagSpec, "tasks">, tis: readonly TiStateView[]): RunDecisions {
  const state = new Map<string, TaskState>();
  const byTask = new Map<string, TiStateView>();
  for (const ti of tis) {
    state.set(ti.task_id, ti.state as TaskState);
    byTask.set(ti.task_id, ti);
  }
  const out: RunDecisions = { schedule: [], skip: [], upstreamFailed: [], runState: null };
  // Tasks in topological-friendly order: repeat until nothing changes, bounded by the task count.
  let changed = true;
  for (let pass = 0; changed && pass <= spec.tasks.length; pass++) {
    changed = false;
    for (const task of spec.tasks) {
      const ti = byTask.get(task.id);
      if (!ti || state.get(task.id) !== "none") continue;
      const ups = task.upstream.map((u) => state.get(u) ?? "none");
      const d = evaluateTriggerRule(task.triggerRule, ups);
      if (d === "wait") continue;
      if (d === "run") {
        out.schedule.push(ti.id);
        state.set(task.id, "scheduled");
      } else if (d === "skip") {
        out.skip.push(ti.id);
        state.set(task.id, "skipped");
        changed = true;
      } else {
        out.upstreamFailed.push(ti.id);
        state.set(task.id, "upstream_failed");
        changed = true;
      }
    }
  }
  let allDone = true;
  let failed = false;
  for (const s of state.values()) {
    if (!FINISHED_TASK_STATES.has(s)) allDone = false;
    if (s === "failed" || s === "upstream_failed") failed = true;
  }
  if (allDone) out.runState = failed ? "failed" : "success";
  return out;
}
