import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { once } from "node:events";
import { z } from "zod";
import { dag, dataset, partition, Unrecoverable } from "sluice";

/**
 * An ML data pipeline that never grinds through the data in one worker:
 *
 *   generate -> partitions -> clean[0..n-1] (DuckDB, in parallel) -> train_stats -> fit -> evaluate -> report
 *
 * `generate` writes a raw CSV with dirty rows (missing values, bad sensor
 * readings, duplicates of ids are not an issue here); `partitions` splits it
 * into byte ranges of ~partitionMb without reading it into memory; `clean` is
 * mapped over those ranges: one DuckDB instance per partition filters bad
 * rows, derives features and writes a Parquet file. The reduce steps read all
 * the Parquet parts at once in DuckDB: the training sums (X'X, X'y of a linear
 * model, on the 80% train split), the fit (a 4x4 solve in JS), and the test
 * metrics. Every task result is a small summary; the data moves as files.
 */
const params = z.object({
  rows: z.number().int().min(1_000).max(100_000_000).default(1_000_000),
  partitionMb: z.number().min(1).max(2_048).default(16),
  /** Per clean instance. */
  memoryLimit: z.string().default("512MB"),
});

const RAW = dataset("file:///tmp/sluice-examples/ml_pipeline/raw");
const FEATURES = dataset("file:///tmp/sluice-examples/ml_pipeline/features");

/** Deterministic PRNG (mulberry32): a run's data is reproducible from its logical date. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Solve A x = b (small, dense) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    if (Math.abs(m[c][c]) < 1e-12) throw new Unrecoverable("the training data is degenerate (singular X'X): no model can be fitted");
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** The 80/20 split, stable per row id. */
const TRAIN = "id % 5 <> 0";
const TEST = "id % 5 = 0";

export default dag(
  {
    id: "ml_pipeline",
    description: "Generate a large raw data set, clean and featurize its partitions in parallel with DuckDB, train a linear model, report metrics",
    schedule: null,
    params,
    retries: 1,
    retryDelay: "5s",
    tags: ["ml", "example", "duckdb"],
    owner: "ml-platform",
  },
  (d) => {
    const generate = d.task(
      "generate",
      async (ctx) => {
        const dir = join(tmpdir(), "sluice-examples", ctx.dagId, ctx.runId.replace(/[^A-Za-z0-9_.-]/g, "_"));
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        const path = join(dir, "raw.csv");
        const out = createWriteStream(path);
        const rand = rng(ctx.logicalDate.getTime() / 1000);
        out.write("id,sensor,x1,x2,x3,y\n");
        let chunk = "";
        for (let id = 0; id < ctx.params.rows; id++) {
          const x1 = rand() * 10;
          const x2 = rand() * 5;
          const x3 = rand() * 2;
          const y = 3 * x1 - 2 * x2 + 0.5 * x3 + 4 + (rand() - 0.5) * 0.6;
          // About 2% dirty rows: a missing value, or a broken sensor's -999 reading.
          const dirt = rand();
          const v1 = dirt < 0.01 ? "" : x1.toFixed(4);
          const v2 = dirt >= 0.01 && dirt < 0.02 ? "-999" : x2.toFixed(4);
          chunk += `${id},s${id % 17},${v1},${v2},${x3.toFixed(4)},${y.toFixed(4)}\n`;
          if (chunk.length > 1 << 20) {
            if (!out.write(chunk)) await once(out, "drain");
            chunk = "";
          }
        }
        out.end(chunk);
        await once(out, "finish");
        ctx.outletExtra(RAW, { rows: ctx.params.rows, path });
        ctx.log.info("generated raw data", { rows: ctx.params.rows, path });
        return { path, dir, rows: ctx.params.rows };
      },
      { outlets: [RAW] },
    );

    const partitions = d.task(
      "partitions",
      async (ctx, { raw }) => {
        const parts = await partition(raw.path, { targetBytes: ctx.params.partitionMb * 1_048_576 });
        ctx.log.info(`split into ${parts.length} partitions of ~${ctx.params.partitionMb} MB`);
        return parts;
      },
      { inputs: { raw: generate }, inlets: [RAW] },
    );

    // One instance per partition: each reads only its byte range (the view `input`).
    const clean = d.duckdb("clean", {
      expand: partitions,
      sql: `select id, x1, x2, x3, x1 * x2 as x1x2, y
            from input
            where x1 is not null and x2 between 0 and 5 and y is not null`,
      output: (_ctx, { item }) => join(dirname(item.path), "clean", `part-${String(item.index).padStart(4, "0")}.parquet`),
      memoryLimit: "512MB",
      threads: 1,
      outlets: [FEATURES],
    });

    // The reduce: every Parquet part at once, summed in DuckDB (X'X and X'y for features 1, x1, x2, x3).
    const stats = d.duckdb("train_stats", {
      inputs: { parts: clean },
      sources: (_ctx, { parts }) => ({ features: parts.map((p) => p.output!.path) }),
      sql: `select count(*) as n,
              sum(x1) as s1, sum(x2) as s2, sum(x3) as s3,
              sum(x1*x1) as s11, sum(x1*x2) as s12, sum(x1*x3) as s13,
              sum(x2*x2) as s22, sum(x2*x3) as s23, sum(x3*x3) as s33,
              sum(y) as sy, sum(x1*y) as s1y, sum(x2*y) as s2y, sum(x3*y) as s3y
            from features where ${TRAIN}`,
      inlets: [FEATURES],
    });

    const fit = d.task(
      "fit",
      async (ctx, { stats }) => {
        const s = stats.data![0] as Record<string, number>;
        const xtx = [
          [s.n, s.s1, s.s2, s.s3],
          [s.s1, s.s11, s.s12, s.s13],
          [s.s2, s.s12, s.s22, s.s23],
          [s.s3, s.s13, s.s23, s.s33],
        ];
        const [bias, w1, w2, w3] = solve(xtx, [s.sy, s.s1y, s.s2y, s.s3y]);
        ctx.log.info("fitted", { bias, w1, w2, w3, trainRows: s.n });
        return { bias, weights: [w1, w2, w3], trainRows: s.n };
      },
      { inputs: { stats } },
    );

    const evaluate = d.duckdb("evaluate", {
      inputs: { parts: clean, model: fit },
      sources: (_ctx, { parts }) => ({ features: parts.map((p) => p.output!.path) }),
      sql: (_ctx, { model }) => {
        const [w1, w2, w3] = model.weights;
        const pred = `(${model.bias} + ${w1} * x1 + ${w2} * x2 + ${w3} * x3)`;
        return `select count(*) as test_rows,
                  avg(pow(y - ${pred}, 2)) as mse,
                  1 - avg(pow(y - ${pred}, 2)) / var_pop(y) as r2
                from features where ${TEST}`;
      },
    });

    d.task(
      "report",
      async (ctx, { metrics, cleaned, raw }) => {
        const m = metrics.data![0] as { test_rows: number; mse: number; r2: number };
        const kept = cleaned.reduce((a, c) => a + c.rows, 0);
        const summary = { rawRows: raw.rows, cleanRows: kept, dropped: raw.rows - kept, partitions: cleaned.length, testRows: m.test_rows, mse: Number(m.mse.toFixed(4)), r2: Number(m.r2.toFixed(4)) };
        ctx.log.info("model metrics", summary);
        if (m.r2 < 0.9) throw new Unrecoverable(`model quality too low: r2=${m.r2.toFixed(3)} (want >= 0.9)`);
        return summary;
      },
      { inputs: { metrics: evaluate, cleaned: clean, raw: generate } },
    );
  },
);
