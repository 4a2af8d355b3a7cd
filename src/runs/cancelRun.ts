import { ErrorCode, SluiceError } from "../core/errors.js";
import { TaskState } from "../core/states.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";

/** A task instance a cancel or a run mark finished, with the state it now has. */
export interface ForcedInstance {
  taskId: string;
  mapIndex: number;
  state: TaskState;
}

/** What each unfinished state becomes when a run is ended by hand. */
export interface ForceTargets {
  /** running attempts (their process stops at its next heartbeat). */
  running: TaskState;
  /** none, scheduled, queued: never started (or not yet claimed). */
  waiting: TaskState;
  /** up_for_retry: a try failed and another was due. */
  retrying: TaskState;
  /** Written to each instance's error unless it becomes success (and to the try record of a running attempt). */
  message: string;
}

const WAITING: TaskState[] = [TaskState.None, TaskState.Scheduled, TaskState.Queued];
/** Rounds of the three statements below before giving up on rows that keep changing under us. */
const MAX_ROUNDS = 5;

/**
 * Finish every unfinished task instance of a run, inside the caller's
 * transaction. Each statement is a compare-and-set on the state, so an attempt
 * that finishes on its own at the same moment keeps its own outcome, and a
 * task process that reports later loses its compare-and-set.
 *
 * Running attempts are not killed from here (an API server has no executor):
 * their heartbeat is a compare-and-set on `state = running` and this try
 * (TaskQueries.heartbeat), so it fails once the state changes, and
 * executeAttempt aborts the work at once: within one heartbeat interval
 * (scheduler.heartbeatIntervalMs). A queued attempt's claim fails the same way.
 *
 * Another process may move a row between states while this runs (a retry
 * becoming due, a dispatch): the statements are repeated until nothing
 * unfinished is left.
 */
export async function forceFinishInstances(tx: Store, runPk: number, to: ForceTargets, now: number): Promise<ForcedInstance[]> {
  const out: ForcedInstance[] = [];
  const common = { end_date: now, next_try_at: null, heartbeat_at: null, updated_at: now };
  // A successful instance shows no error; the run's note and the try record say who marked it.
  const patch = (state: TaskState) => ({ ...common, state, error: state === TaskState.Success ? null : to.message });
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const running = await tx.tasks.setForRun(runPk, [TaskState.Running], patch(to.running), now);
    for (const r of running) {
      // The try history shows what happened to the attempt that was running.
      await tx.tasks.recordTry({
        ti_id: r.id,
        try_number: r.try_number,
        state: to.running === TaskState.Success ? TaskState.Success : TaskState.Failed,
        start_date: r.start_date,
        end_date: now,
        duration_ms: r.start_date != null ? now - r.start_date : null,
        hostname: r.hostname,
        pid: r.pid,
        error: to.message,
      });
    }
    const retrying = await tx.tasks.setForRun(runPk, [TaskState.UpForRetry], patch(to.retrying));
    const waiting = await tx.tasks.setForRun(runPk, WAITING, patch(to.waiting));
    out.push(...running.map((r) => forced(r, to.running)), ...retrying.map((r) => forced(r, to.retrying)), ...waiting.map((r) => forced(r, to.waiting)));
    if ((await tx.tasks.countUnfinished(runPk)) === 0) break;
  }
  return out;
}

const forced = (r: { task_id: string; map_index: number }, state: TaskState): ForcedInstance => ({ taskId: r.task_id, mapIndex: r.map_index, state });

/**
 * Cancel a queued or running run: the run becomes failed (note "Cancelled by
 * <who>."), attempts that are running become failed with the same error and
 * stop, instances that had not started become skipped, and ones waiting for a
 * retry become failed. One transaction: the scheduler never sees a cancelled
 * run with tasks it could still dispatch.
 *
 * The run goes first: the scheduler only evaluates running runs, so nothing
 * new gets scheduled in it once the run is failed.
 */
export async function cancelRun(store: Store, run: DagRunRow, opts: { by: string; now?: number }): Promise<{ run: DagRunRow; stopped: ForcedInstance[] }> {
  const now = opts.now ?? Date.now();
  const message = `Cancelled by ${opts.by}.`;
  return store.transaction(async (tx) => {
    if (!(await tx.runs.setState(run.id, ["queued", "running"], { state: "failed", end_date: now, note: message, updated_at: now }))) {
      const current = await tx.runs.byPk(run.id);
      if (!current) throw new SluiceError(ErrorCode.RunNotFound, `DAG "${run.dag_id}" has no run "${run.run_id}" any more (it was deleted).`);
      throw new SluiceError(
        ErrorCode.StateConflict,
        `Run "${run.run_id}" of DAG "${run.dag_id}" already finished (${current.state}); only queued or running runs can be cancelled. Clear it to run it again.`,
        { details: { state: current.state } },
      );
    }
    const stopped = await forceFinishInstances(tx, run.id, { running: "failed", waiting: "skipped", retrying: "failed", message }, now);
    return { run: (await tx.runs.byPk(run.id))!, stopped };
  });
}

