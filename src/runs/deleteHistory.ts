import { ErrorCode, SluiceError } from "../core/errors.js";
import { FINISHED_RUN_STATES, type RunState } from "../core/states.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";
import { cancelRun } from "./cancelRun.js";

/**
 * Runs deleted per statement. A run of a 50-task DAG is ~50 task instances
 * plus their tries and log lines (removed by ON DELETE CASCADE), so one batch
 * is a few thousand rows: a short transaction, and the scheduler and task
 * processes writing the same tables wait milliseconds, not seconds.
 */
export const DELETE_BATCH_RUNS = 20;

/** Delete one finished run with its task instances, tries and logs. 409 while it is queued or running. */
export async function deleteRun(store: Store, run: DagRunRow): Promise<void> {
  if (!FINISHED_RUN_STATES.has(run.state as RunState)) {
    throw new SluiceError(
      ErrorCode.StateConflict,
      `Run "${run.run_id}" of DAG "${run.dag_id}" is ${run.state}; cancel it first (POST .../runs/${run.run_id}/cancel), then delete it.`,
      { details: { state: run.state } },
    );
  }
  if (await store.runs.deleteFinished(run.id)) return;
  // Between the read and the delete someone cleared it (it runs again) or deleted it.
  const current = await store.runs.byPk(run.id);
  if (!current) throw new SluiceError(ErrorCode.RunNotFound, `DAG "${run.dag_id}" has no run "${run.run_id}" any more (it was deleted).`);
  throw new SluiceError(ErrorCode.StateConflict, `Run "${run.run_id}" of DAG "${run.dag_id}" became ${current.state} meanwhile; cancel it first, then delete it.`, {
    details: { state: current.state },
  });
}

export interface DeleteHistoryResult {
  /** Runs deleted (each with its task instances, tries and logs). */
  deleted: number;
  /** Run ids that were queued or running and were cancelled first (force only). */
  cancelled: string[];
}

/**
 * Delete every finished run of a DAG, in batches of DELETE_BATCH_RUNS runs.
 * Active (queued or running) runs make it refuse with 409, unless `force`:
 * then they are cancelled first and deleted with the rest. A run the
 * scheduler creates while this works is left alone.
 */
export async function deleteHistory(
  store: Store,
  dagId: string,
  opts: { force?: boolean; by: string; now?: number; batchRuns?: number },
): Promise<DeleteHistoryResult> {
  const active = await store.runs.list({ dagId, states: ["queued", "running"] });
  if (active.length > 0 && !opts.force) {
    throw new SluiceError(
      ErrorCode.StateConflict,
      `DAG "${dagId}" has ${active.length} active run(s) (${active
        .slice(0, 3)
        .map((r) => `"${r.run_id}"`)
        .join(", ")}${active.length > 3 ? ", …" : ""}); cancel them first, or pass force=true to cancel them and delete the whole history.`,
      { details: { activeRuns: active.length } },
    );
  }
  const cancelled: string[] = [];
  for (const run of active) {
    try {
      await cancelRun(store, run, { by: opts.by, now: opts.now });
      cancelled.push(run.run_id);
    } catch (err) {
      // It finished (or was deleted) on its own meanwhile: nothing left to cancel.
      if (!(err instanceof SluiceError) || (err.code !== ErrorCode.StateConflict && err.code !== ErrorCode.RunNotFound)) throw err;
    }
  }
  const batch = opts.batchRuns ?? DELETE_BATCH_RUNS;
  let deleted = 0;
  for (;;) {
    const n = await store.runs.deleteFinishedBatch(dagId, batch);
    deleted += n;
    if (n < batch) break;
  }
  return { deleted, cancelled };
}
