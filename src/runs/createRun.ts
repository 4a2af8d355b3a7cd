import { type DagSpec } from "../core/dagSpec.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { resolveParams } from "../core/params.js";
import { intervalsBetween, manualDataInterval, parseSchedule, type DataInterval } from "../core/schedule.js";
import type { RunType } from "../core/states.js";
import { dagSpecOf } from "../store/dagQueries.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";

/** Run ids read well and sort by date: "manual__2026-01-01T02:00:00.000Z". */
export function makeRunId(type: RunType, logicalDate: Date, suffix = ""): string {
  return `${type}__${logicalDate.toISOString()}${suffix}`;
}

async function loadDag(store: Store, dagId: string): Promise<{ spec: DagSpec; versionHash: string }> {
  const row = await store.dags.get(dagId);
  if (!row || !row.is_active) {
    const known = (await store.dags.list({ activeOnly: true })).map((d) => d.dag_id);
    const { suggestion } = await import("../core/didYouMean.js");
    throw new SluiceError(ErrorCode.DagNotFound, `No DAG "${dagId}"${suggestion(dagId, known)}. \`sluice dags list\` shows the DAGs Sluice knows.`);
  }
  return { spec: dagSpecOf(row), versionHash: row.version_hash };
}

export interface TriggerOptions {
  conf?: Record<string, unknown>;
  runId?: string;
  /** Logical date of the run (default: now). */
  logicalDate?: Date;
  now?: number;
}

/** Create a manual run: conf validated against the DAG's params; queued until the scheduler starts it. */
export async function triggerRun(store: Store, dagId: string, opts: TriggerOptions = {}): Promise<DagRunRow> {
  const { spec, versionHash } = await loadDag(store, dagId);
  const conf = opts.conf ?? {};
  const params = resolveParams(spec, conf);
  const now = opts.now ?? Date.now();
  const at = opts.logicalDate ?? new Date(now);
  const interval = manualDataInterval(parseSchedule(spec.schedule, spec.timezone), at, spec.start ? new Date(spec.start) : undefined);
  return store.runs.create({
    dagId,
    runId: opts.runId ?? makeRunId("manual", at),
    runType: "manual",
    state: "queued",
    logicalDate: at.getTime(),
    intervalStart: interval.start.getTime(),
    intervalEnd: interval.end.getTime(),
    versionHash,
    conf,
    params,
    tasks: spec.tasks,
    now,
  });
}

/** Create one scheduled run for a data interval (the scheduler's path). */
export async function createScheduledRun(store: Store, spec: DagSpec, versionHash: string, interval: DataInterval, now: number): Promise<DagRunRow> {
  return store.runs.create({
    dagId: spec.id,
    runId: makeRunId("scheduled", interval.start),
    runType: "scheduled",
    state: "queued",
    logicalDate: interval.start.getTime(),
    intervalStart: interval.start.getTime(),
    intervalEnd: interval.end.getTime(),
    versionHash,
    conf: {},
    params: resolveParams(spec, {}),
    tasks: spec.tasks,
    now,
  });
}

export interface BackfillResult {
  created: DagRunRow[];
  existing: string[];
}

/**
 * Create backfill runs for every interval whose start lies in [from, to]. They
 * are queued; the scheduler runs them honouring max active runs. Intervals
 * that already have a run (scheduled or backfilled) are left alone.
 */
export async function backfill(store: Store, dagId: string, from: Date, to: Date, opts: { conf?: Record<string, unknown>; now?: number } = {}): Promise<BackfillResult> {
  const { spec, versionHash } = await loadDag(store, dagId);
  const schedule = parseSchedule(spec.schedule, spec.timezone);
  const intervals = intervalsBetween(schedule, from, to, spec.start ? new Date(spec.start) : undefined);
  const conf = opts.conf ?? {};
  const params = resolveParams(spec, conf);
  const existingRuns = await store.runs.list({ dagId });
  const taken = new Set(existingRuns.filter((r) => r.run_type !== "manual").map((r) => r.logical_date));
  const out: BackfillResult = { created: [], existing: [] };
  const now = opts.now ?? Date.now();
  for (const iv of intervals) {
    if (taken.has(iv.start.getTime())) {
      out.existing.push(iv.start.toISOString());
      continue;
    }
    try {
      out.created.push(
        await store.runs.create({
          dagId,
          runId: makeRunId("backfill", iv.start),
          runType: "backfill",
          state: "queued",
          logicalDate: iv.start.getTime(),
          intervalStart: iv.start.getTime(),
          intervalEnd: iv.end.getTime(),
          versionHash,
          conf,
          params,
          tasks: spec.tasks,
          now,
        }),
      );
    } catch (err) {
      if ((err as SluiceError).code === ErrorCode.RunExists) out.existing.push(iv.start.toISOString());
      else throw err;
    }
  }
  return out;
}
