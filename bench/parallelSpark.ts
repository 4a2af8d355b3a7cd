/**
 * (c) of parallelData: the same aggregation as a PySpark job (client mode)
 * on a local Spark standalone cluster of one master and two workers (1 core,
 * 1 GiB each) started from the pyspark of scripts/ensureSpark.mjs, submitted
 * by a real d.spark task through the scheduler and the local executor.
 * Reported: wall time (trigger -> run success, so spark-submit's JVM start
 * and the application's start-up are in it) and the peak RSS of the driver
 * and executor JVMs.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SecretBox } from "../src/secrets/secretBox.js";
import { startSparkCluster } from "../test/helpers/sparkCluster.js";
import { median, round, type BenchContext, type Metric } from "./common.js";
import { startSluice } from "./inProcess.js";
import { descendants, statusKb } from "./procs.js";

interface SparkVariantCommon {
  metrics: Metric[];
  samples: Record<string, number[]>;
  details: Record<string, unknown>;
}

/** Not measured (no Spark installed: details say why), or measured with the answer the driver printed. */
export type SparkVariant =
  | (SparkVariantCommon & { measured: false })
  | (SparkVariantCommon & {
      measured: true;
      /** Rows per sensor as "sensor:n,..." to compare with the other variants. */
      result: string;
    });

/**
 * The answer the driver printed (one `RESULT [...]` line of JSON) as
 * "sensor:n,...". A run without that line, or with one that is not the
 * expected JSON, is an error: the benchmark must not report a Spark time
 * whose answer was never checked.
 */
export function resultOf(log: readonly string[], where: string): string {
  const line = log.find((l) => l.includes("RESULT ["));
  if (line === undefined) {
    throw new Error(`The Spark variant's ${where} succeeded but its log has no "RESULT [...]" line from bench/spark/aggregate_sensors.py, so its answer cannot be checked against the DuckDB variants. Last lines of the log:\n${log.slice(-20).join("\n")}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.slice(line.indexOf("RESULT ") + 7));
  } catch (err) {
    throw new Error(`The Spark variant's ${where} printed a RESULT line that is not JSON: ${line.slice(0, 500)}`, { cause: err });
  }
  const rows = Array.isArray(parsed) ? (parsed as { sensor?: unknown; n?: unknown }[]) : [];
  if (rows.length === 0 || rows.some((r) => typeof r?.sensor !== "string" || !Number.isFinite(Number(r.n)))) {
    throw new Error(`The Spark variant's ${where} printed a RESULT line without rows of { sensor, n }: ${line.slice(0, 500)}`);
  }
  return rows.map((r) => `${r.sensor as string}:${Number(r.n)}`).sort().join(",");
}

const REPO = fileURLToPath(new URL("../../", import.meta.url));

function sparkDag(file: string): string {
  return `import { dag } from "sluice";
export default dag({ id: "bench_spark", schedule: null }, (d) => {
  d.spark("aggregate", { application: ${JSON.stringify(join(REPO, "bench", "spark", "aggregate_sensors.py"))}, args: [${JSON.stringify(file)}],
    deployMode: "client", executorCores: 1, executorMemory: "768m", numExecutors: 2,
    conf: { "spark.sql.files.maxPartitionBytes": "64m", "spark.ui.showConsoleProgress": "false" } });
});
`;
}

export async function sparkVariant(ctx: BenchContext, file: string, runs: number): Promise<SparkVariant> {
  if (!process.env.SLUICE_TEST_SPARK_HOME) {
    return { measured: false, metrics: [], samples: {}, details: { spark: "not measured: run through npm run bench, which installs pyspark (scripts/ensureSpark.mjs)" } };
  }
  const cluster = await startSparkCluster(ctx.scope.tempDir("spark-cluster"));
  ctx.scope.defer("stop the Spark cluster", () => cluster.stop());
  ctx.progress(`Spark cluster up in ${(cluster.startMs / 1000).toFixed(1)} s (master + 2 workers)`);
  const key = randomBytes(32).toString("base64");
  const s = await startSluice(ctx, "spark", { "bench_spark.ts": sparkDag(file) }, (c) => {
    c.secrets.key = key;
    c.executor.slots = 1;
  });
  const box = new SecretBox(s.config);
  const extra = { restUrl: cluster.restUrl, webUiUrl: cluster.webUiUrl, sparkHome: cluster.sparkHome, pythonPath: cluster.python };
  await s.sluice.store.connections.create({
    conn_id: "spark_default", conn_type: "spark", host: "spark://127.0.0.1", port: cluster.port, login: null, password: null, schema_name: null,
    extra: await box.encrypt(JSON.stringify(extra)), description: null, updated_at: Date.now(),
  });
  const ms: number[] = [];
  // JVMs: spark-submit's driver (a descendant of the task process) and the executors (children of the workers, outside this process tree).
  const peaks = new Map<number, { kb: number; role: string }>();
  const sample = () => {
    for (const p of descendants(process.pid)) {
      if (!p.cmd.includes("java")) continue;
      const role = p.cmd.includes("CoarseGrainedExecutorBackend") ? "executor" : p.cmd.includes("SparkSubmit") ? "driver" : "";
      if (!role) continue;
      const kb = statusKb(p.pid, "VmHWM");
      if (kb !== undefined) peaks.set(p.pid, { kb: Math.max(peaks.get(p.pid)?.kb ?? 0, kb), role });
    }
    for (const g of cluster.groups) {
      for (const p of descendants(g)) {
        if (!p.cmd.includes("CoarseGrainedExecutorBackend")) continue;
        const kb = statusKb(p.pid, "VmHWM");
        if (kb !== undefined) peaks.set(p.pid, { kb: Math.max(peaks.get(p.pid)?.kb ?? 0, kb), role: "executor" });
      }
    }
  };
  const timer = setInterval(sample, 200);
  try {
    for (let i = 1; i <= runs; i++) {
      ms.push(await s.timeRun("bench_spark", `spark_${i}`, 1_800_000));
      ctx.progress(`spark run ${i}/${runs}: ${(ms[ms.length - 1] / 1000).toFixed(1)} s`);
    }
  } finally {
    clearInterval(timer);
  }
  // The driver printed its result into the task log: compare it with the DuckDB variants.
  const run = await s.sluice.store.runs.get("bench_spark", `spark_${runs}`);
  const ti = (await s.sluice.store.tasks.forRun(run!.id))[0];
  const lines = await s.sluice.store.logs.read(ti.id, ti.try_number, { limit: 100_000 });
  const result = resultOf(lines.map((l) => l.line), `run spark_${runs} of bench_spark (task instance ${ti.id}, try ${ti.try_number})`);
  const t = median(ms);
  const driver = [...peaks.values()].filter((p) => p.role === "driver").map((p) => round(p.kb / 1024, 0));
  const executors = [...peaks.values()].filter((p) => p.role === "executor").map((p) => round(p.kb / 1024, 0));
  return {
    measured: true,
    result,
    metrics: [
      { name: "(c) Spark standalone, 2 workers", value: round(t / 1000, 2), unit: "s" },
      { name: "(c) peak RSS of the Spark driver", value: Math.max(0, ...driver), unit: "MB" },
      { name: "(c) peak RSS of a Spark executor", value: Math.max(0, ...executors), unit: "MB" },
    ],
    samples: { sparkMs: ms, sparkDriverPeaksMb: driver, sparkExecutorPeaksMb: executors },
    details: {
      spark: { master: cluster.master, workers: 2, coresPerWorker: 1, memoryPerWorker: "1g", executorMemory: "768m", mode: "client (spark-submit)", clusterStartMs: cluster.startMs },
    },
  };
}
