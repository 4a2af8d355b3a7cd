import { ErrorCode } from "../core/errors.js";
import { nextDataInterval, parseSchedule, type DataInterval } from "../core/schedule.js";
import type { Logger } from "pino";
import { createScheduledRun } from "../runs/createRun.js";
import { createDatasetTriggeredRuns } from "./datasetRuns.js";
import type { Store } from "../store/store.js";
import type { SpecCache } from "./specCache.js";

/**
 * Creates scheduled runs when their data interval has ended, honouring
 * catchup and max active runs, creates the runs of DAGs scheduled on
 * datasets whose updates arrived (datasetRuns.ts), and starts queued runs
 * (manual, backfill, scheduled, dataset-triggered) as run slots free up.
 */
export class RunCreator {
  constructor(
    private readonly store: Store,
    private readonly specs: SpecCache,
    private readonly log: Logger,
  ) {}

  /** Create the scheduled and dataset-triggered runs that are due now (the scheduler calls this on every sweep, under the "runs" lock). */
  async createDue(now: number, store: Store = this.store): Promise<void> {
    const dags = await store.dags.listSchedulable();
    const triggers = await store.datasetTriggers.pendingTriggers();
    if (dags.length === 0 && triggers.length === 0) return;
    const active = await store.runs.countByDag(["queued", "running"]);
    for (const row of dags) {
      // One DAG's problem (say, params that its scheduled runs cannot satisfy) must not stop the others.
      try {
        await this.createDueFor(store, row, active.get(row.dag_id) ?? 0, now);
      } catch (err) {
        this.log.error({ err, dagId: row.dag_id }, "could not create a scheduled run; will try again at the next sweep");
      }
    }
    // A dataset-scheduled DAG has no time schedule, so it is never in `dags`: `active` counts are its own.
    if (triggers.length > 0) await createDatasetTriggeredRuns(store, this.specs, triggers, active, now, this.log);
  }

  private async createDueFor(
    store: Store,
    row: { dag_id: string; version_hash: string; next_interval_start: number | null; next_interval_end: number | null },
    activeRuns: number,
    now: number,
  ): Promise<void> {
    const spec = await this.specs.get(row.dag_id, row.version_hash);
    if (!spec) return;
    let schedule;
    try {
      schedule = parseSchedule(spec.schedule, spec.timezone);
    } catch {
      return; // the parser refused this DAG already
    }
    const start = spec.start ? new Date(spec.start) : undefined;
    const end = spec.end ? new Date(spec.end) : undefined;
    let running = activeRuns;
    let candidate: DataInterval | null =
      row.next_interval_start != null && row.next_interval_end != null ? { start: new Date(row.next_interval_start), end: new Date(row.next_interval_end) } : null;
    // Up to maxActiveRuns creations per DAG per pass (catchup fills the slots quickly).
    for (let i = 0; i < spec.maxActiveRuns + 1; i++) {
      if (!candidate || (!spec.catchup && candidate.end.getTime() <= now)) {
        const last = await store.runs.latestScheduled(row.dag_id);
        candidate = nextDataInterval(schedule, {
          last: last ? { start: new Date(last.interval_start), end: new Date(last.interval_end) } : undefined,
          start,
          end,
          catchup: spec.catchup,
          now: new Date(now),
        });
        await store.dags.setNextInterval(row.dag_id, candidate ? { start: candidate.start.getTime(), end: candidate.end.getTime() } : null);
      }
      if (!candidate) break;
      if (candidate.end.getTime() > now) break;
      if (running >= spec.maxActiveRuns) break;
      // A backfill may already cover this interval: never run the same data twice.
      if (!(await store.runs.existsAt(row.dag_id, candidate.start.getTime()))) {
        try {
          const run = await createScheduledRun(store, spec, row.version_hash, candidate, now);
          running++;
          this.log.info({ dagId: row.dag_id, runId: run.run_id }, "created scheduled run");
        } catch (err) {
          if ((err as { code?: string }).code !== ErrorCode.RunExists) throw err;
        }
      }
      const following = nextDataInterval(schedule, { last: candidate, start, end, catchup: true, now: new Date(now) });
      await store.dags.setNextInterval(row.dag_id, following ? { start: following.start.getTime(), end: following.end.getTime() } : null);
      candidate = following;
    }
  }

  /** queued -> running for runs whose DAG has a free run slot, oldest logical date first. Returns started run pks. */
  async startQueued(now: number, store: Store = this.store): Promise<number[]> {
    const queued = await store.runs.inStates(["queued"]);
    if (queued.length === 0) return [];
    const running = await store.runs.countByDag(["running"]);
    const started: number[] = [];
    for (const run of queued) {
      const spec = await this.specs.get(run.dag_id, run.version_hash);
      const dag = await store.dags.get(run.dag_id);
      if (!spec || !dag) continue;
      // A paused DAG keeps its queued runs waiting (manual triggers included), as in Airflow.
      if (dag.is_paused) continue;
      const n = running.get(run.dag_id) ?? 0;
      if (n >= spec.maxActiveRuns) continue;
      if (await store.runs.setState(run.id, ["queued"], { state: "running", start_date: now, updated_at: now })) {
        running.set(run.dag_id, n + 1);
        started.push(run.id);
      }
    }
    return started;
  }
}
