/**
 * Mapped tasks and DuckDB / Spark results written straight into a store (no
 * scheduler), for the browser tests that need states a real run would take
 * long to reach or cannot reach on this machine: a task mapped 1,100 ways, a
 * DuckDB task's recorded result (the DuckDB runtime is not what these tests
 * are about), a Spark application's result, and a run in which the mapped
 * tasks have not expanded yet.
 *
 * The DAG is declared with the real SDK and stored with the store's own
 * upsert; runs are created with RunQueries.create and expanded with
 * MappedQueries.expand, as the scheduler does; only the end states (try
 * numbers, times, results, errors) are written directly.
 */
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { dag } from "../../src/sdk/dag.js";
import type { Store } from "../../src/store/store.js";

export const MAPPED_DAG = "partitioned_features";
/** Map length of the big mapped task: more than one page (100) of the panel's list, and more than the default maximum of 1024. */
export const BIG_MAP = 1100;
/** Every BIG_FAIL_EVERY-th instance of `score` failed. */
export const BIG_FAIL_EVERY = 7;
export const FEATURIZE_MAP = 6;
/** featurize's instance that failed, and its log line. */
export const FEATURIZE_FAILED = 4;
export const FEATURIZE_ERROR = "Binder Error: Referenced column \"amount\" not found in FROM clause";
export const FEATURIZE_LOG = "reading partition 4 of 6 (bytes 83886080-104857600)";
export const SPARK_APP_ID = "app-20260314101500-0007";
export const DUCKDB_OUTPUT = "/lake/features/part-0001.parquet";

const spec = dag({ id: MAPPED_DAG, description: "Features per partition with DuckDB, a Spark aggregate", schedule: null, owner: "data-platform", tags: ["features", "duckdb", "spark"] }, (d) => {
  const parts = d.task("list_partitions", async () => [] as string[]);
  const featurize = d.duckdb("featurize", { expand: parts, sql: "select customer_id, sum(amount) as total from input group by 1", output: "/lake/features/part.parquet" });
  d.task("score", async () => 0, { expand: parts, maxMapLength: 2000 });
  d.spark("aggregate_on_spark", { application: "jobs/aggregate.py", upstream: [featurize] });
}).toSpec("features/partitioned_features.ts");

export interface MappedSeed {
  /** Everything ran: featurize has one failed instance, score 1,100 instances, the Spark task a result. */
  runId: string;
  /** Created but not started: the mapped tasks are single placeholder instances, not expanded. */
  pendingRunId: string;
}

export async function seedMapped(store: Store, now = Date.now()): Promise<MappedSeed> {
  const versionHash = dagVersionHash(spec);
  await store.dags.upsert(spec, versionHash, now, false, "// partitioned_features.ts\n");
  const db = store.handle.db;

  const at = (minutesAgo: number) => now - minutesAgo * 60_000;
  const newRun = (runId: string, logical: number, state: "running" | "queued") =>
    store.runs.create({ dagId: MAPPED_DAG, runId, runType: "manual", state, logicalDate: logical, intervalStart: logical, intervalEnd: logical, versionHash, conf: {}, params: {}, tasks: spec.tasks, now: logical });

  const run = await newRun(`manual__${new Date(at(60)).toISOString()}`, at(60), "running");
  const pending = await newRun(`manual__${new Date(at(1)).toISOString()}`, at(1), "queued");

  const finish = async (taskId: string, mapIndex: number, patch: { state: string; result?: unknown; error?: string; minutesAgo?: number; tryNumber?: number }) => {
    const end = patch.state === "running" ? null : at(patch.minutesAgo ?? 30);
    const start = at((patch.minutesAgo ?? 30) + 1);
    const tryNumber = patch.tryNumber ?? 1;
    const row = await db
      .updateTable("task_instance")
      .set({
        state: patch.state,
        try_number: tryNumber,
        queued_at: start - 2_000,
        start_date: start,
        end_date: end,
        duration_ms: end === null ? null : end - start,
        hostname: "worker-1",
        pid: 4100 + Math.max(0, mapIndex),
        result: patch.result === undefined ? null : JSON.stringify(patch.result),
        error: patch.error ?? null,
        updated_at: now,
      })
      .where("run_pk", "=", run.id)
      .where("task_id", "=", taskId)
      .where("map_index", "=", mapIndex)
      .returning("id")
      .executeTakeFirstOrThrow();
    if (end !== null) {
      await store.tasks.recordTry({ ti_id: row.id, try_number: tryNumber, state: patch.state, start_date: start, end_date: end, duration_ms: end - start, hostname: "worker-1", pid: 4100 + Math.max(0, mapIndex), error: patch.error ?? null });
    }
    return row.id;
  };

  await finish("list_partitions", -1, { state: "success", result: Array.from({ length: FEATURIZE_MAP }, (_, i) => `part-${i}`), minutesAgo: 55 });
  await store.transaction((tx) => tx.mapped.expand(run.id, "featurize", { count: FEATURIZE_MAP }, now));
  await store.transaction((tx) => tx.mapped.expand(run.id, "score", { count: BIG_MAP }, now));

  for (let i = 0; i < FEATURIZE_MAP; i++) {
    if (i === FEATURIZE_FAILED) {
      const id = await finish("featurize", i, { state: "failed", error: FEATURIZE_ERROR, minutesAgo: 40 });
      await store.logs.append([
        { ti_id: id, try_number: 1, ts: at(41), stream: "stdout", line: FEATURIZE_LOG },
        { ti_id: id, try_number: 1, ts: at(40), stream: "stderr", line: FEATURIZE_ERROR },
      ]);
    } else if (i === FEATURIZE_MAP - 1) {
      await finish("featurize", i, { state: "running", minutesAgo: 2 });
    } else {
      await finish("featurize", i, {
        state: "success",
        minutesAgo: 45 - i,
        result: {
          rows: 48_211 + i * 1000,
          schema: [
            { name: "customer_id", type: "BIGINT" },
            { name: "total", type: "DOUBLE" },
          ],
          output: { path: DUCKDB_OUTPUT.replace("0001", String(i).padStart(4, "0")), bytes: 1_874_512 + i },
          elapsedMs: 812 + i,
        },
      });
    }
  }

  // 1,100 instances in a few statements: states by index, no tries (the list is what is tested).
  const failed = Array.from({ length: BIG_MAP }, (_, i) => i).filter((i) => i % BIG_FAIL_EVERY === 0);
  await db.updateTable("task_instance").set({ state: "success", try_number: 1, start_date: at(20), end_date: at(19), duration_ms: 60_000, result: "1" }).where("run_pk", "=", run.id).where("task_id", "=", "score").execute();
  for (let k = 0; k < failed.length; k += 200) {
    await db
      .updateTable("task_instance")
      .set({ state: "failed", error: "score out of range", result: null })
      .where("run_pk", "=", run.id)
      .where("task_id", "=", "score")
      .where("map_index", "in", failed.slice(k, k + 200))
      .execute();
  }

  await finish("aggregate_on_spark", -1, {
    state: "success",
    minutesAgo: 10,
    result: { appId: SPARK_APP_ID, driverId: "driver-20260314101455-0003", state: "FINISHED", master: "spark://127.0.0.1:7077", deployMode: "cluster", elapsedMs: 84_250 },
  });
  return { runId: run.run_id, pendingRunId: pending.run_id };
}
