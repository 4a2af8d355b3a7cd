import { ErrorCode, SluiceError } from "../core/errors.js";
import { RUN_STATES, TaskState } from "../core/states.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";
import { forceFinishInstances, type ForcedInstance } from "./cancelRun.js";

/**
 * Mark a whole run success or failed by hand, as Airflow's "mark run as"
 * does, whatever state it is in:
 * - success: every task instance that is not success or skipped becomes
 *   success (failed ones included; a running attempt stops at its next
 *   heartbeat and leaves no result);
 * - failed: unfinished instances end as a cancel ends them (running and
 *   up_for_retry -> failed, not started -> skipped); finished ones keep their state.
 * The run gets the state, an end date and a note naming who marked it.
 */
export async function markRun(
  store: Store,
  run: DagRunRow,
  state: "success" | "failed",
  opts: { by: string; now?: number },
): Promise<{ run: DagRunRow; changed: ForcedInstance[] }> {
  const now = opts.now ?? Date.now();
  const message = `Marked ${state} by ${opts.by}.`;
  return store.transaction(async (tx) => {
    if (!(await tx.runs.setState(run.id, RUN_STATES, { state, end_date: now, note: message, updated_at: now }))) {
      throw new SluiceError(ErrorCode.RunNotFound, `DAG "${run.dag_id}" has no run "${run.run_id}" any more (it was deleted).`);
    }
    const changed =
      state === "success"
        ? await forceFinishInstances(tx, run.id, { running: "success", waiting: "success", retrying: "success", message }, now)
        : await forceFinishInstances(tx, run.id, { running: "failed", waiting: "skipped", retrying: "failed", message }, now);
    if (state === "success") {
      // Finished but unsuccessful instances too: a run marked success shows no failure.
      const failed = await tx.tasks.setForRun(run.id, [TaskState.Failed, TaskState.UpstreamFailed], { state: "success", error: null, updated_at: now });
      changed.push(...failed.map((r) => ({ taskId: r.task_id, mapIndex: r.map_index, state: TaskState.Success })));
    }
    return { run: (await tx.runs.byPk(run.id))!, changed };
  });
}
