/**
 * A big, realistic metadata database for the UI/API benchmark and for UI tests
 * that need history: `dags` DAGs declared with the real SDK and stored with
 * the store's own upsert (mixed owners, tags, schedules, a few paused, a few
 * with params), a few finished runs for each, and one DAG, "big_dag", with
 * `tasksPerDag` tasks in layers with fan-in and `bigRuns` hourly runs of
 * history: 10,000 × 50 = 500,000 task instances by default.
 *
 * Runs and task instances are written directly with multi-row inserts in
 * batched transactions (the rows RunQueries.create writes, plus the states,
 * tries and timestamps the scheduler would have set), because creating 10,000
 * runs one by one and walking each through the state machine would take many
 * minutes. Measured on 2 busy cores: ~6 s on SQLite, ~15–25 s on PostgreSQL
 * with fsync on. The rows look like a real history: mostly successful runs,
 * some failed ones (upstream_failed downstream, all_done tasks still run),
 * retries (try 2), skipped tasks, a few manual runs, an older DAG version in
 * which two tasks had other names (the grid shows empty cells there), and at
 * the newest end one running and one queued run; task tries for the newest
 * 200 runs of big_dag and all runs of the others; no log lines.
 * Everything comes from a seeded PRNG: the same options and `now` write the
 * same data.
 */
import { z } from "zod";
import { dagVersionHash, downstreamMap, type DagSpec } from "../../src/core/dagSpec.js";
import { makeRunId } from "../../src/runs/createRun.js";
import { dag, type DagBuilder } from "../../src/sdk/dag.js";
import type { Store } from "../../src/store/store.js";
import { prng } from "./prng.js";
import type { TaskInstanceTable } from "../../src/store/schema.js";
import type { Insertable } from "kysely";

export const BIG_DAG_ID = "big_dag";
const HOUR = 3_600_000;
/** Rows per INSERT: ~20 columns × 1,000 rows stays far below PostgreSQL's 65,535 and SQLite's 32,766 bound parameters. */
const MAX_PARAMS = 30_000;
/** Runs per transaction: 500 runs of big_dag = 25,000 task instances per commit. */
const RUNS_PER_TX = 500;

export interface SeedBigOptions {
  /** DAGs in total, big_dag included. */
  dags?: number;
  /** Finished (plus 2 active) runs of big_dag. */
  bigRuns?: number;
  /** Tasks of big_dag's current version (at least 10). */
  tasksPerDag?: number;
  /** Runs of every other DAG. */
  runsPerDag?: number;
  /** The newest runs of big_dag whose finished task instances get their task_try rows (other DAGs: all runs). */
  triesForNewest?: number;
  /** The newest run's logical date is the start of the hour before `now`. */
  now?: number;
  progress?: (message: string) => void;
}

export interface SeedBigResult {
  bigDagId: string;
  dags: number;
  runs: number;
  taskInstances: number;
  /** task_try rows (the tries list of the task panel). */
  taskTries: number;
  /** Runs of big_dag (its grid's totalRuns). */
  bigRuns: number;
  /** Number of big_dag runs per state. */
  bigRunStates: Record<string, number>;
  /** Newest first, as the grid shows them. */
  bigNewestRunId: string;
  /** Seconds spent per phase. */
  seconds: { dags: number; bigDag: number; otherRuns: number; tries: number; total: number };
}

// ---- deterministic randomness ----

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
const between = (rnd: () => number, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

// ---- DAG definitions ----

const OWNERS = ["ana", "bob", "chen", "dana", "data-platform", "ml-team", "finance-eng", "growth"] as const;
const DOMAINS = ["finance", "marketing", "ml", "sales", "ops", "growth", "search", "risk", "support", "ads"] as const;
const VERBS = ["ingest", "features", "train", "report", "export", "sync", "score", "clean", "aggregate", "backfill"] as const;
const TAGS = ["etl", "ml", "daily", "hourly", "reporting", "pii", "experimental", "critical", "features", "ingest", "team:data", "v2"] as const;
const SCHEDULES = ["@daily", "0 2 * * *", "@hourly", "*/15 * * * *", "15m", "0 6 * * 1", "30 4 * * *", null] as const;
const noop = async () => null;

/** A small DAG: a chain or a diamond of 1–12 tasks, some shell, some with retries. */
function smallDag(i: number, rnd: () => number) {
  const domain = DOMAINS[i % DOMAINS.length];
  const verb = pick(rnd, VERBS);
  const id = `${domain}_${verb}_${String(i).padStart(4, "0")}`;
  const tags = [...new Set([domain, pick(rnd, TAGS), ...(rnd() < 0.5 ? [pick(rnd, TAGS)] : [])])];
  const withParams = rnd() < 0.1;
  const build = (d: DagBuilder<unknown>) => {
    const n = between(rnd, 1, 12);
    const ids: string[] = [];
    for (let t = 0; t < n; t++) {
      const tid = `${pick(rnd, ["extract", "load", "transform", "check", "publish", "compute", "merge"])}_${t}`;
      // Fan-in every few tasks so not every small DAG is a plain chain.
      const upstream = t === 0 ? [] : t % 4 === 3 && t >= 2 ? [ids[t - 1], ids[t - 2]] : [ids[t - 1]];
      if (rnd() < 0.25) d.shell(tid, `echo ${tid}`, { upstream, retries: rnd() < 0.3 ? 2 : 0 });
      else d.task(tid, noop, { upstream, retries: rnd() < 0.3 ? 1 : 0 });
      ids.push(tid);
    }
  };
  const spec = dag(
    {
      id,
      description: `${domain[0].toUpperCase()}${domain.slice(1)} ${verb} pipeline #${i}`,
      owner: pick(rnd, OWNERS),
      tags,
      schedule: pick(rnd, SCHEDULES),
      start: "2025-01-01",
      ...(withParams ? { params: z.object({ rows: z.number().int().min(1).default(1000), mode: z.enum(["fast", "full"]).default("fast") }) } : {}),
    },
    build,
  ).toSpec(`${domain}/${id}.ts`);
  return spec;
}

/**
 * big_dag: sources -> validation (1:1) -> transforms (fan-in of 2) -> features
 * (fan-in of 3) -> training -> evaluation -> publishing -> notifications
 * (all_done, so they run after failures too). `tasks` below 50 shrinks the
 * wide layers; in the old version the last two notify tasks had other names.
 */
function bigDagSpec(tasks: number, version: "old" | "current"): DagSpec {
  const layers: [string, number][] = [
    ["extract", 5],
    ["validate", 5],
    ["transform", 10],
    ["features", 10],
    ["train", 8],
    ["evaluate", 6],
    ["publish", 3],
    ["notify", 3],
  ];
  // Remove from the widest layers until the count matches (keeps the shape for other sizes).
  let extra = layers.reduce((s, [, n]) => s + n, 0) - tasks;
  while (extra > 0) {
    const widest = layers.reduce((a, b) => (b[1] > a[1] ? b : a));
    widest[1]--;
    extra--;
  }
  while (extra < 0) {
    layers[3][1]++;
    extra++;
  }
  return dag(
    {
      id: BIG_DAG_ID,
      description: "Hourly feature pipeline with a long history (UI/API benchmark)",
      owner: "ml-team",
      tags: ["ml", "features", "hourly", "critical"],
      schedule: "@hourly",
      start: "2024-01-01",
      maxActiveRuns: 2,
      docs: "# big_dag\n\nSeeded by `seedBig()`: 10,000 hourly runs × 50 tasks.",
    },
    (d) => {
      let prev: string[] = [];
      for (const [li, [name, n]] of layers.entries()) {
        const cur: string[] = [];
        for (let k = 0; k < n; k++) {
          // The old version's last two notifications had other names: renamed tasks leave empty grid cells.
          const legacy = version === "old" && name === "notify" && k >= n - 2 && k > 0;
          const id = legacy ? `alert_legacy_${String(k + 1).padStart(2, "0")}` : `${name}_${String(k + 1).padStart(2, "0")}`;
          let upstream: string[];
          if (li === 0) upstream = [];
          else if (name === "validate") upstream = [prev[k % prev.length]];
          else {
            const fanIn = name === "transform" ? 2 : name === "features" ? 3 : name === "notify" ? prev.length : 2;
            upstream = [...new Set(Array.from({ length: fanIn }, (_, j) => prev[(k + j) % prev.length]))];
          }
          const opts = {
            upstream,
            retries: name === "extract" || name === "train" ? 2 : 1,
            ...(name === "notify" ? { triggerRule: "all_done" as const } : {}),
            ...(name === "train" ? { pool: "default_pool", priorityWeight: 10 } : {}),
          };
          if (name === "extract" || name === "publish") d.shell(id, `./bin/${name}.sh ${k + 1}`, opts);
          else d.task(id, noop, opts);
          cur.push(id);
        }
        prev = cur;
      }
    },
  ).toSpec("ml/big_dag.ts");
}

// ---- runs and task instances ----

interface RunPlan {
  runId: string;
  runType: string;
  state: string;
  logical: number;
  /** The DAG version this run was created with: its tasks become the run's task instances. */
  spec: DagSpec;
  versionHash: string;
}

/** The task-instance columns the seed writes (the rest keep their defaults). */
type TiRow = Required<Omit<Insertable<TaskInstanceTable>, "id" | "next_try_at" | "owner_job" | "heartbeat_at" | "result">>;
const TI_COLUMNS = 20;
const RUN_COLUMNS = 15;

/** Every task's transitive downstream, for failure propagation. */
function descendants(spec: DagSpec): Map<string, Set<string>> {
  const down = downstreamMap(spec);
  const memo = new Map<string, Set<string>>();
  const visit = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const out = new Set<string>();
    for (const c of down.get(id) ?? []) {
      out.add(c);
      for (const x of visit(c)) out.add(x);
    }
    memo.set(id, out);
    return out;
  };
  for (const t of spec.tasks) visit(t.id);
  return memo;
}

/** Topological layer of each task (0 = no upstream): its start offset within a run. */
function depths(spec: DagSpec): Map<string, number> {
  const out = new Map<string, number>();
  const byId = new Map(spec.tasks.map((t) => [t.id, t]));
  const depth = (id: string): number => {
    const d = out.get(id);
    if (d !== undefined) return d;
    const ups = byId.get(id)!.upstream;
    const v = ups.length === 0 ? 0 : 1 + Math.max(...ups.map(depth));
    out.set(id, v);
    return v;
  };
  for (const t of spec.tasks) depth(t.id);
  return out;
}

/** Task-instance rows for one run, with states, tries and timestamps that agree with the run's state. */
function taskRows(plan: RunPlan, runPk: number, dagId: string, rnd: () => number, cache: Map<string, { desc: Map<string, Set<string>>; depth: Map<string, number> }>): TiRow[] {
  let shape = cache.get(plan.versionHash);
  if (!shape) {
    shape = { desc: descendants(plan.spec), depth: depths(plan.spec) };
    cache.set(plan.versionHash, shape);
  }
  const states = new Map<string, string>();
  const tasks = plan.spec.tasks;
  if (plan.state === "failed") {
    // One task fails for good; everything downstream is upstream_failed except all_done tasks, which run.
    const failing = tasks[Math.floor(rnd() * tasks.length)];
    states.set(failing.id, "failed");
    for (const d of shape.desc.get(failing.id)!) {
      const t = tasks.find((x) => x.id === d)!;
      states.set(d, t.triggerRule === "all_done" ? "success" : "upstream_failed");
    }
  }
  const maxDepth = Math.max(...shape.depth.values());
  const activeDepth = plan.state === "running" ? Math.floor(maxDepth / 2) : -1;
  const start = plan.logical + HOUR + between(rnd, 1_000, 20_000);
  let runEnd = start;
  const rows: TiRow[] = [];
  for (const t of tasks) {
    const depth = shape.depth.get(t.id)!;
    let state = states.get(t.id) ?? "success";
    if (plan.state === "queued") state = "none";
    else if (plan.state === "running") state = depth < activeDepth ? "success" : depth === activeDepth ? pick(rnd, ["running", "running", "queued", "success"]) : depth === activeDepth + 1 ? "scheduled" : "none";
    else if (state === "success" && t.upstream.length > 0 && rnd() < 0.004) state = "skipped";
    const ran = state === "success" || state === "failed" || state === "running";
    const retried = ran && (state === "failed" ? t.retries > 0 : rnd() < 0.02 && t.retries > 0);
    const tryNumber = !ran && state !== "queued" ? 0 : state === "failed" ? t.retries + 1 : retried ? 2 : 1;
    const taskStart = start + depth * 40_000 + between(rnd, 0, 5_000) + (retried ? 30_000 : 0);
    const duration = between(rnd, 2_000, 35_000);
    const finished = state === "success" || state === "failed";
    const end = finished ? taskStart + duration : null;
    if (end !== null && end > runEnd) runEnd = end;
    rows.push({
      run_pk: runPk,
      dag_id: dagId,
      run_id: plan.runId,
      task_id: t.id,
      map_index: -1,
      state,
      try_number: tryNumber,
      max_tries: t.retries + 1,
      priority_weight: t.priorityWeight,
      pool: t.pool,
      pool_slots: t.poolSlots,
      queue: t.queue,
      queued_at: ran || state === "queued" ? taskStart - between(rnd, 50, 800) : null,
      start_date: ran ? taskStart : null,
      end_date: end,
      duration_ms: finished ? duration : null,
      hostname: ran ? `worker-${between(rnd, 1, 8)}` : null,
      pid: ran ? between(rnd, 1_000, 60_000) : null,
      error: state === "failed" ? pick(rnd, ["ValueError: column \"amount\" has 12 nulls", "Error: connect ETIMEDOUT 10.0.3.7:5432", "exit code 1: ./bin/extract.sh: upstream file missing", "Error: task timed out after 600 s"]) : null,
      updated_at: end ?? taskStart,
    });
  }
  return rows;
}

function runValues(plan: RunPlan, dagId: string, ti: TiRow[]) {
  const starts = ti.map((r) => r.start_date).filter((x): x is number => x !== null);
  const ends = ti.map((r) => r.end_date).filter((x): x is number => x !== null);
  const started = plan.state !== "queued";
  const finished = plan.state === "success" || plan.state === "failed";
  const queuedAt = plan.logical + HOUR;
  const start = started ? Math.min(queuedAt + 500, ...starts) : null;
  const end = finished ? Math.max(start ?? queuedAt, ...ends) : null;
  return {
    dag_id: dagId,
    run_id: plan.runId,
    run_type: plan.runType,
    state: plan.state,
    logical_date: plan.logical,
    interval_start: plan.logical,
    interval_end: plan.logical + HOUR,
    version_hash: plan.versionHash,
    conf: "{}",
    params: JSON.stringify(plan.spec.params),
    queued_at: queuedAt,
    start_date: start,
    end_date: end,
    updated_at: end ?? start ?? queuedAt,
    note: null,
  };
}

/** Insert runs (returning their ids) and then all their task instances, in one transaction. */
async function insertRuns(store: Store, plans: RunPlan[], dagId: (p: RunPlan) => string, rnd: () => number, cache: Map<string, { desc: Map<string, Set<string>>; depth: Map<string, number> }>): Promise<number> {
  let tiCount = 0;
  await store.transaction(async (tx) => {
    const runBatch = Math.floor(MAX_PARAMS / RUN_COLUMNS);
    const tiBatch = Math.floor(MAX_PARAMS / TI_COLUMNS);
    // The run's start/end come from its task rows, which exist before the run has a pk: generate
    // them once with a placeholder pk and patch it after the runs are inserted.
    const planned = plans.map((p) => ({ plan: p, tis: taskRows(p, 0, dagId(p), rnd, cache) }));
    const ids = new Map<string, number>();
    for (let i = 0; i < planned.length; i += runBatch) {
      const chunk = planned.slice(i, i + runBatch);
      const inserted = await tx.db
        .insertInto("dag_run")
        .values(chunk.map(({ plan, tis }) => runValues(plan, dagId(plan), tis)))
        .returning(["id", "dag_id", "run_id"])
        .execute();
      // Matched by key, not by position: neither database promises RETURNING order.
      for (const r of inserted) ids.set(`${r.dag_id}\u0000${r.run_id}`, r.id);
    }
    let pending: TiRow[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      await tx.db.insertInto("task_instance").values(pending).execute();
      tiCount += pending.length;
      pending = [];
    };
    for (const { plan, tis } of planned) {
      const pk = ids.get(`${dagId(plan)}\u0000${plan.runId}`)!;
      for (const r of tis) {
        r.run_pk = pk;
        pending.push(r);
        if (pending.length >= tiBatch) await flush();
      }
    }
    await flush();
  });
  return tiCount;
}

/**
 * task_try rows for the finished task instances of the given runs, as the
 * runner records them when an attempt ends: one per try, earlier tries failed.
 */
async function insertTries(store: Store, runPks: number[]): Promise<number> {
  let count = 0;
  const batch = Math.floor(MAX_PARAMS / 10);
  for (let i = 0; i < runPks.length; i += 500) {
    await store.transaction(async (tx) => {
      const tis = await tx.db
        .selectFrom("task_instance")
        .select(["id", "try_number", "state", "start_date", "end_date", "duration_ms", "hostname", "pid", "error"])
        .where("run_pk", "in", runPks.slice(i, i + 500))
        .where("state", "in", ["success", "failed"])
        .execute();
      const rows = tis.flatMap((ti) =>
        Array.from({ length: ti.try_number }, (_, k) => {
          const n = k + 1;
          if (n === ti.try_number) {
            return { ti_id: ti.id, try_number: n, state: ti.state, start_date: ti.start_date, end_date: ti.end_date, duration_ms: ti.duration_ms, hostname: ti.hostname, pid: ti.pid, error: ti.error };
          }
          const start = ti.start_date! - (ti.try_number - n) * 30_000;
          return { ti_id: ti.id, try_number: n, state: "failed", start_date: start, end_date: start + 4_000, duration_ms: 4_000, hostname: ti.hostname, pid: ti.pid, error: "Error: read ECONNRESET (retrying)" };
        }),
      );
      for (let j = 0; j < rows.length; j += batch) await tx.db.insertInto("task_try").values(rows.slice(j, j + batch)).execute();
      count += rows.length;
    });
  }
  return count;
}

/** Write the big history described at the top of this file. Expects a migrated, empty store. */
export async function seedBig(store: Store, opts: SeedBigOptions = {}): Promise<SeedBigResult> {
  const nDags = opts.dags ?? 1000;
  const bigRuns = opts.bigRuns ?? 10_000;
  const tasksPerDag = opts.tasksPerDag ?? 50;
  const runsPerDag = opts.runsPerDag ?? 5;
  const triesForNewest = opts.triesForNewest ?? 200;
  const now = opts.now ?? Date.now();
  const progress = opts.progress ?? (() => {});
  if (nDags < 1 || bigRuns < 3 || tasksPerDag < 10 || runsPerDag < 0) throw new Error("seedBig: needs dags >= 1, bigRuns >= 3, tasksPerDag >= 10, runsPerDag >= 0");
  const t0 = performance.now();
  const rnd = prng(20260301);
  const newest = Math.floor(now / HOUR) * HOUR - HOUR;
  await store.pools.ensureDefault(128);

  // 1. DAGs, through the same upsert the parser uses, 100 per transaction (one commit each, not 1,000).
  const oldBig = bigDagSpec(tasksPerDag, "old");
  const curBig = bigDagSpec(tasksPerDag, "current");
  const oldHash = dagVersionHash(oldBig);
  const curHash = dagVersionHash(curBig);
  const small: DagSpec[] = [];
  for (let i = 1; i < nDags; i++) small.push(smallDag(i, rnd));
  // Every tenth DAG is paused.
  const paused = new Set(small.filter((_, i) => i % 10 === 6).map((s) => s.id));
  await store.transaction(async (tx) => {
    // Oldest history first: the old version must be created before the current one.
    await tx.dags.upsert(oldBig, oldHash, newest - bigRuns * HOUR, false);
    await tx.dags.upsert(curBig, curHash, newest - Math.floor(bigRuns * 0.4) * HOUR, false);
  });
  for (let i = 0; i < small.length; i += 100) {
    await store.transaction(async (tx) => {
      for (const spec of small.slice(i, i + 100)) await tx.dags.upsert(spec, dagVersionHash(spec), now - between(rnd, 1, 90) * 86_400_000, paused.has(spec.id));
    });
  }
  const tDags = performance.now();
  progress(`seed: ${nDags} DAGs in ${((tDags - t0) / 1000).toFixed(1)} s`);

  // 2. big_dag's history, newest first in planning order; the oldest 60% ran on the old version.
  const cache = new Map<string, { desc: Map<string, Set<string>>; depth: Map<string, number> }>();
  const bigRunStates: Record<string, number> = {};
  let runs = 0;
  let tis = 0;
  const plans: RunPlan[] = [];
  for (let i = 0; i < bigRuns; i++) {
    const logical = newest - i * HOUR;
    const old = i >= Math.floor(bigRuns * 0.4);
    const manual = i > 2 && rnd() < 0.01;
    const state = i === 0 ? "queued" : i === 1 ? "running" : rnd() < 0.06 ? "failed" : "success";
    bigRunStates[state] = (bigRunStates[state] ?? 0) + 1;
    plans.push({
      // A manual run sits between two scheduled ones (its own logical date), as a user's trigger would.
      runId: manual ? makeRunId("manual", new Date(logical + 17 * 60_000)) : makeRunId("scheduled", new Date(logical)),
      runType: manual ? "manual" : "scheduled",
      state,
      logical: manual ? logical + 17 * 60_000 : logical,
      spec: old ? oldBig : curBig,
      versionHash: old ? oldHash : curHash,
    });
  }
  // Insert oldest first, so ids grow with time as they would in a real database.
  plans.reverse();
  for (let i = 0; i < plans.length; i += RUNS_PER_TX) {
    tis += await insertRuns(store, plans.slice(i, i + RUNS_PER_TX), () => BIG_DAG_ID, rnd, cache);
    runs += Math.min(RUNS_PER_TX, plans.length - i);
    if ((i / RUNS_PER_TX) % 4 === 3) progress(`seed: ${BIG_DAG_ID} ${runs}/${bigRuns} runs, ${tis} task instances`);
  }
  const tBig = performance.now();
  progress(`seed: ${BIG_DAG_ID} ${runs} runs × ${tasksPerDag} tasks = ${tis} task instances in ${((tBig - tDags) / 1000).toFixed(1)} s`);

  // 3. A few finished runs for every other DAG, so the list shows last-run states and recent-run strips.
  const other: RunPlan[] = [];
  for (const spec of small) {
    const hash = dagVersionHash(spec);
    for (let k = 0; k < runsPerDag; k++) {
      const logical = newest - (k + 1) * 24 * HOUR - between(rnd, 0, 23) * HOUR;
      const runId = makeRunId(spec.schedule === null ? "manual" : "scheduled", new Date(logical));
      other.push({ runId, runType: spec.schedule === null ? "manual" : "scheduled", state: rnd() < 0.15 ? "failed" : "success", logical, spec, versionHash: hash });
    }
  }
  for (let i = 0; i < other.length; i += 2_000) {
    tis += await insertRuns(store, other.slice(i, i + 2_000), (p) => p.spec.id, rnd, cache);
  }
  runs += other.length;
  const tOther = performance.now();
  progress(`seed: ${other.length} runs of the other DAGs in ${((tOther - tBig) / 1000).toFixed(1)} s`);

  // 4. Tries: every run of the other DAGs, the newest of big_dag (where a user clicks first).
  const newestBig = await store.db.selectFrom("dag_run").select("id").where("dag_id", "=", BIG_DAG_ID).orderBy("logical_date", "desc").limit(triesForNewest).execute();
  const otherPks = await store.db.selectFrom("dag_run").select("id").where("dag_id", "!=", BIG_DAG_ID).execute();
  const tries = await insertTries(store, [...newestBig, ...otherPks].map((r) => r.id));
  const tEnd = performance.now();
  progress(`seed: ${tries} task tries in ${((tEnd - tOther) / 1000).toFixed(1)} s`);

  const s = (a: number, b: number) => Math.round((b - a) / 100) / 10;
  return {
    bigDagId: BIG_DAG_ID,
    dags: nDags,
    runs,
    taskInstances: tis,
    taskTries: tries,
    bigRuns,
    bigRunStates,
    bigNewestRunId: makeRunId("scheduled", new Date(newest)),
    seconds: { dags: s(t0, tDags), bigDag: s(tDags, tBig), otherRuns: s(tBig, tOther), tries: s(tOther, tEnd), total: s(t0, tEnd) },
  };
}
