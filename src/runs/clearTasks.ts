import { downstreamMap, type DagSpec } from "../core/dagSpec.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { suggestion } from "../core/didYouMean.js";
import type { TaskState } from "../core/states.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";

export interface ClearOptions {
  /** Task ids to clear; all tasks when omitted. */
  taskIds?: string[];
  /** Also clear everything downstream of the given tasks. */
  downstream?: boolean;
  /** Also clear everything upstream of the given tasks. */
  upstream?: boolean;
  /** Only this map index of the given tasks (their downstream/upstream: every instance). */
  mapIndex?: number;
  /** Only clear instances in these states (e.g. failed + upstream_failed). */
  onlyStates?: TaskState[];
  /** Change nothing: answer what would be cleared (the UI's confirmation dialog). */
  dryRun?: boolean;
  now?: number;
}

/** One task instance a clear reset (or, in a dry run, would reset), with the state it had. */
export interface ClearedInstance {
  taskId: string;
  mapIndex: number;
  state: TaskState;
}

const ACTIVE: TaskState[] = ["queued", "running"];

/** `ids` plus everything reachable from them through `edges` (task id -> neighbour ids). */
function closure(ids: Set<string>, edges: (id: string) => readonly string[]): void {
  const stack = [...ids];
  while (stack.length) for (const d of edges(stack.pop()!)) if (!ids.has(d)) (ids.add(d), stack.push(d));
}

/**
 * Clear task instances of a run so the scheduler runs them again: state back
 * to none, with a fresh retry budget (max_tries = tries so far + retries + 1).
 * Running attempts are left alone (cancel them first); the run goes back to
 * running. Returns the cleared task ids.
 */
export async function clearTasks(store: Store, run: DagRunRow, spec: DagSpec, opts: ClearOptions = {}): Promise<string[]> {
  return [...new Set((await clearTaskInstances(store, run, spec, opts)).map((c) => c.taskId))];
}

/** clearTasks, answering each instance (mapped ones included) with the state it had. */
export async function clearTaskInstances(store: Store, run: DagRunRow, spec: DagSpec, opts: ClearOptions = {}): Promise<ClearedInstance[]> {
  const now = opts.now ?? Date.now();
  const tasks = new Map(spec.tasks.map((t) => [t.id, t]));
  const ids = new Set(opts.taskIds ?? spec.tasks.map((t) => t.id));
  for (const id of ids) {
    if (!tasks.has(id)) throw new SluiceError(ErrorCode.TaskNotFound, `DAG "${spec.id}" has no task "${id}"${suggestion(id, tasks.keys())}`);
  }
  // Both directions start from the tasks asked for, not from each other's additions.
  const picked = new Set(ids);
  if (opts.downstream) {
    const down = downstreamMap(spec);
    const more = new Set(picked);
    closure(more, (id) => down.get(id) ?? []);
    for (const id of more) ids.add(id);
  }
  if (opts.upstream) {
    const more = new Set(picked);
    closure(more, (id) => tasks.get(id)?.upstream ?? []);
    for (const id of more) ids.add(id);
  }
  const tis = await store.tasks.forRun(run.id);
  const cleared: ClearedInstance[] = [];
  for (const ti of tis) {
    if (!ids.has(ti.task_id) || ACTIVE.includes(ti.state as TaskState) || ti.state === "none") continue;
    if (opts.mapIndex !== undefined && picked.has(ti.task_id) && ti.map_index !== opts.mapIndex) continue;
    if (opts.onlyStates && !opts.onlyStates.includes(ti.state as TaskState)) continue;
    const entry: ClearedInstance = { taskId: ti.task_id, mapIndex: ti.map_index, state: ti.state as TaskState };
    if (opts.dryRun) {
      cleared.push(entry);
      continue;
    }
    const retries = tasks.get(ti.task_id)?.retries ?? 0;
    const ok = await store.tasks.cas(ti.id, [ti.state as TaskState], {
      state: "none",
      max_tries: ti.try_number + retries + 1,
      next_try_at: null,
      end_date: null,
      result: null,
      error: null,
      updated_at: now,
    });
    if (ok) cleared.push(entry);
  }
  if (cleared.length > 0 && !opts.dryRun) await reopenRun(store, run.id, now);
  return cleared;
}

/**
 * Put a run back to running so the scheduler re-evaluates it. A finished run
 * starts over (as Airflow's clear does): its run timeout counts from now,
 * otherwise a run reopened after it timed out would be failed again at once.
 */
async function reopenRun(store: Store, runPk: number, now: number): Promise<void> {
  const restarted = await store.runs.setState(runPk, ["success", "failed"], { state: "running", start_date: now, end_date: null, updated_at: now });
  // A queued run stays queued: it starts when its DAG has a free run slot (and then gets its start date).
  if (!restarted) await store.runs.setState(runPk, ["running"], { state: "running", end_date: null, updated_at: now });
}

/** Mark one task instance success or failed by hand (not while it is running). */
export async function markTask(store: Store, run: DagRunRow, taskId: string, state: "success" | "failed", now = Date.now(), mapIndex = -1): Promise<boolean> {
  const ti = await store.tasks.byKey(run.dag_id, run.run_id, taskId, mapIndex);
  if (!ti) throw new SluiceError(ErrorCode.TaskNotFound, `Run "${run.run_id}" of DAG "${run.dag_id}" has no task "${taskId}"${mapIndex >= 0 ? ` with map index ${mapIndex}` : ""}.`);
  if (ACTIVE.includes(ti.state as TaskState)) {
    throw new SluiceError(ErrorCode.StateConflict, `Task "${taskId}" is ${ti.state}; wait for it to finish (or clear the run) before marking it.`);
  }
  const ok = await store.tasks.cas(ti.id, [ti.state as TaskState], { state, end_date: ti.end_date ?? now, updated_at: now });
  if (ok) await reopenRun(store, run.id, now);
  return ok;
}
