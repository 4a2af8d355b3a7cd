import type { Logger } from "pino";
import { conditionUris, evaluate } from "../core/datasetSchedule.js";
import type { DagSpec } from "../core/dagSpec.js";
import { resolveParams } from "../core/params.js";
import { makeRunId } from "../runs/createRun.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";
import type { SpecCache } from "./specCache.js";

/** A DAG whose queue holds updates, as DatasetQueries.pendingTriggers lists it. */
export interface PendingTrigger {
  dagId: string;
  versionHash: string;
  uris: string[];
}

/**
 * Creates the runs of DAGs scheduled on datasets. Each sweep, for every
 * active unpaused DAG with queued updates (dataset_dag_queue, filled in the
 * transaction that records a producer's success): when its condition holds
 * over the queued URIs and it has a free run slot, one run is created and
 * the queue rows it used are consumed in the same transaction, with the
 * events linked to the run (dataset_run_event).
 *
 * - Once per batch: the caller holds the "runs" lock (Store.exclusive), so
 *   on PostgreSQL a second scheduler waits, then finds the queue empty.
 * - maxActiveRuns: no run is created while the DAG's queued + running runs
 *   fill its slots (as for time schedules); updates keep queueing, and the
 *   next run consumes all of them. So a slow consumer gets one catch-up run,
 *   not one run per update.
 * - Paused: the DAG's updates stay queued (DatasetQueries.enqueue keeps
 *   queueing them); unpausing runs it on everything that arrived meanwhile.
 *
 * The run: run_type "dataset_triggered", id "dataset_triggered__<logical
 * date>", logical date = when the newest consumed event was recorded, data
 * interval = from the oldest to the newest consumed event, default params.
 */
export async function createDatasetTriggeredRuns(
  store: Store,
  specs: SpecCache,
  pending: readonly PendingTrigger[],
  activeRuns: ReadonlyMap<string, number>,
  now: number,
  log: Logger,
): Promise<void> {
  for (const p of pending) {
    // One DAG's problem must not stop the others.
    try {
      const spec = await specs.get(p.dagId, p.versionHash);
      if (!spec?.datasetSchedule) continue; // its file changed to another schedule; the next parse drops the queue
      if (!evaluate(spec.datasetSchedule, new Set(p.uris))) continue;
      if ((activeRuns.get(p.dagId) ?? 0) >= spec.maxActiveRuns) continue;
      const run = await store.transaction((tx) => consumeIntoRun(tx, spec, p.versionHash, now));
      if (run) log.info({ dagId: p.dagId, runId: run.run.run_id, events: run.events }, "created dataset-triggered run");
    } catch (err) {
      log.error({ err, dagId: p.dagId }, "could not create a dataset-triggered run; the updates stay queued, will try again at the next sweep");
    }
  }
}

/** Take the DAG's queue, and if its condition still holds over the events not yet consumed, create the run. */
async function consumeIntoRun(tx: Store, spec: DagSpec, versionHash: string, now: number): Promise<{ run: DagRunRow; events: number } | null> {
  const condition = spec.datasetSchedule!;
  // Before the queue is taken: on PostgreSQL a throw after it would not undo the delete (the caller's transaction goes on).
  const params = resolveParams(spec, {});
  const taken = await tx.datasetTriggers.takeQueue(spec.id, conditionUris(condition));
  const events = await tx.datasetTriggers.unconsumedEvents(spec.id, taken);
  const fresh = new Set(events.map((e) => e.uri));
  if (!evaluate(condition, fresh)) {
    // The queue changed since it was read (a re-parse dropped a URI) or held only events a run already has:
    // put back what is still new and wait for more.
    await tx.datasetTriggers.requeue(taken.filter((r) => fresh.has(r.uri)));
    return null;
  }
  const first = Math.min(...events.map((e) => Number(e.created_at)));
  const last = Math.max(...events.map((e) => Number(e.created_at)));
  const logical = new Date(last);
  // Two batches recorded in the same millisecond would share an id: number the later ones.
  // Checked, not caught: on PostgreSQL a failed insert would abort the transaction holding the lock.
  let runId = makeRunId("dataset_triggered", logical);
  for (let n = 2; await tx.runs.get(spec.id, runId); n++) runId = makeRunId("dataset_triggered", logical, `.${n}`);
  const run = await tx.runs.create({
    dagId: spec.id,
    runId,
    runType: "dataset_triggered",
    state: "queued",
    logicalDate: last,
    intervalStart: first,
    intervalEnd: last,
    versionHash,
    conf: {},
    params,
    tasks: spec.tasks,
    now,
  });
  await tx.datasetTriggers.linkRunEvents(run.id, events.map((e) => Number(e.id)));
  return { run, events: events.length };
}
