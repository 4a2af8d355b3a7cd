import type { DagSpec } from "./dagSpec.js";
import { FINISHED_TASK_STATES, type RunState, type TaskState } from "./states.js";
import { evaluateTriggerRule } from "./triggerRules.js";

export interface TiStateView {
  id: number;
  task_id: string;
  /** -1 for an unmapped task (or a mapped task not expanded yet); 0..n-1 for mapped instances. */
  map_index?: number;
  state: string;
}

export interface RunDecisions {
  schedule: number[];
  skip: number[];
  upstreamFailed: number[];
  /**
   * Mapped tasks whose upstream allows them to run and none of whose
   * instances has started: the caller expands each (reads the list its
   * `expand.from` task returned and creates one instance per element).
   */
  expand: string[];
  /** The run's final state once every task instance is finished, else null. */
  runState: Extract<RunState, "success" | "failed"> | null;
}

/**
 * Given a DAG version and the current states of one run's task instances,
 * decide which waiting instances become scheduled, skipped or
 * upstream_failed, which mapped tasks are ready to expand, and whether the
 * run is finished. Decisions cascade within one call (a skip propagates down
 * the whole chain at once), so a run never needs several scheduler loops to
 * settle.
 *
 * A task's trigger rule sees every instance of each upstream task: a mapped
 * upstream with 8 instances counts as 8 states (as in Airflow), so
 * `all_success` waits for all of them and `one_failed` fires on the first.
 */
export function decideRun(spec: Pick<DagSpec, "tasks">, tis: readonly TiStateView[]): RunDecisions {
  /** Instances of each task, with their current (and, within this call, decided) states. */
  const byTask = new Map<string, { id: number; mapIndex: number; state: TaskState }[]>();
  for (const ti of tis) {
    const list = byTask.get(ti.task_id) ?? [];
    list.push({ id: ti.id, mapIndex: ti.map_index ?? -1, state: ti.state as TaskState });
    byTask.set(ti.task_id, list);
  }
  const out: RunDecisions = { schedule: [], skip: [], upstreamFailed: [], expand: [], runState: null };
  // Tasks in topological-friendly order: repeat until nothing changes, bounded by the task count.
  let changed = true;
  for (let pass = 0; changed && pass <= spec.tasks.length; pass++) {
    changed = false;
    for (const task of spec.tasks) {
      const instances = byTask.get(task.id);
      if (!instances) continue;
      const waiting = instances.filter((i) => i.state === "none");
      if (waiting.length === 0) continue;
      const ups = task.upstream.flatMap((u) => byTask.get(u)?.map((i) => i.state) ?? ["none" as TaskState]);
      const d = evaluateTriggerRule(task.triggerRule, ups);
      if (d === "wait") continue;
      if (d === "run") {
        // A mapped task none of whose instances has run yet (re)expands: its list may have
        // changed since (a cleared upstream ran again). A single cleared instance just runs.
        if (task.expand && waiting.length === instances.length) {
          if (!out.expand.includes(task.id)) out.expand.push(task.id);
          for (const i of instances) i.state = "scheduled";
          continue;
        }
        for (const i of waiting) {
          out.schedule.push(i.id);
          i.state = "scheduled";
        }
      } else {
        const state: TaskState = d === "skip" ? "skipped" : "upstream_failed";
        for (const i of waiting) {
          (d === "skip" ? out.skip : out.upstreamFailed).push(i.id);
          i.state = state;
        }
        changed = true;
      }
    }
  }
  let allDone = true;
  let failed = false;
  for (const list of byTask.values()) {
    for (const { state: s } of list) {
      if (!FINISHED_TASK_STATES.has(s)) allDone = false;
      if (s === "failed" || s === "upstream_failed") failed = true;
    }
  }
  if (allDone) out.runState = failed ? "failed" : "success";
  return out;
}

/** What a mapped task's list must look like before it is expanded; the error says what is wrong and how to fix it. */
export function checkMapList(taskId: string, from: string, value: unknown, maxLength: number): { ok: true; length: number } | { ok: false; error: string } {
  if (!Array.isArray(value)) {
    const got = value === undefined || value === null ? "nothing" : typeof value === "object" ? "an object" : `a ${typeof value}`;
    return { ok: false, error: `Mapped task "${taskId}" cannot expand: "${from}" returned ${got}, not a list. Make "${from}" return an array (one element per instance).` };
  }
  if (value.length > maxLength) {
    return {
      ok: false,
      error:
        `Mapped task "${taskId}" cannot expand: "${from}" returned ${value.length} elements, more than the maximum of ${maxLength}. ` +
        `Make the pieces bigger (e.g. a larger targetBytes in partition()), or raise maxMapLength on the task (or scheduler.maxMapLength).`,
    };
  }
  return { ok: true, length: value.length };
}
