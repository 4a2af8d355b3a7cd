import { mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { dag, dataset, Unrecoverable } from "sluice";

/**
 * An ML feature pipeline on a data set it generates itself:
 * extract -> validate -> transform -> train -> report.
 * Big data moves by reference (a file path); only small summaries are task results.
 */
const params = z.object({
  rows: z.number().int().min(100).max(1_000_000).default(5_000),
  noise: z.number().min(0).max(5).default(0.3),
  epochs: z.number().int().min(1).max(500).default(60),
});

type Row = { x1: number; x2: number; x3: number; y: number };

/**
 * What the pipeline produces, as datasets: each success of the producing task
 * records an event (Datasets page). One constant per dataset keeps producer
 * and consumers on the same URI.
 */
const RAW = dataset("sluice://examples/ml_features/raw");
const FEATURES = dataset("sluice://examples/ml_features/features");
const MODEL = dataset("sluice://examples/ml_features/model");

/** Deterministic PRNG (mulberry32) so a run's data is reproducible from its logical date. */
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

const round = (v: number) => Number(v.toFixed(4));

async function readCsv(path: string): Promise<Row[]> {
  const [header, ...lines] = (await readFile(path, "utf8")).trim().split("\n");
  const cols = header.split(",");
  return lines.map((l) => {
    const v = l.split(",").map(Number);
    return Object.fromEntries(cols.map((c, i) => [c, v[i]])) as Row;
  });
}

export default dag(
  {
    id: "ml_features",
    description: "Generate data, validate, build features, train a linear model, report metrics",
    schedule: "0 2 * * *",
    timezone: "Europe/Berlin",
    start: "2026-01-01",
    params,
    retries: 1,
    retryDelay: "5s",
    tags: ["ml", "example"],
    owner: "ml-platform",
    maxActiveRuns: 2,
  },
  (d) => {
    const extract = d.task("extract", async (ctx) => {
      const dir = join(tmpdir(), "sluice-examples", ctx.dagId, ctx.runId.replace(/[^A-Za-z0-9_.-]/g, "_"));
      await mkdir(dir, { recursive: true });
      const rand = rng(ctx.logicalDate.getTime() / 1000);
      const lines = ["x1,x2,x3,y"];
      for (let i = 0; i < ctx.params.rows; i++) {
        const x1 = rand() * 10, x2 = rand() * 5, x3 = rand() * 2;
        const y = 3 * x1 - 2 * x2 + 0.5 * x3 + 4 + (rand() - 0.5) * 2 * ctx.params.noise;
        lines.push([x1, x2, x3, y].map((v) => v.toFixed(5)).join(","));
      }
      const path = join(dir, "raw.csv");
      await writeFile(path, lines.join("\n"));
      ctx.log.info("generated raw data", { rows: ctx.params.rows, path });
      ctx.outletExtra(RAW, { rows: ctx.params.rows, path });
      return { path, rows: ctx.params.rows, dir };
    }, { outlets: [RAW] });

    const validate = d.task(
      "validate",
      async (ctx, { raw }) => {
        const rows = await readCsv(raw.path);
        const bad = rows.filter((r) => Object.values(r).some((v) => !Number.isFinite(v)));
        if (rows.length !== raw.rows) throw new Unrecoverable(`expected ${raw.rows} rows, found ${rows.length}`);
        if (bad.length > 0) throw new Unrecoverable(`${bad.length} rows have non-numeric values`);
        ctx.log.info("data valid", { rows: rows.length });
        return { rows: rows.length };
      },
      { inputs: { raw: extract }, inlets: [RAW] },
    );

    const transform = d.task(
      "transform",
      async (ctx, { raw }) => {
        const rows = await readCsv(raw.path);
        const keys = ["x1", "x2", "x3"] as const;
        const stats = keys.map((k) => {
          const mean = rows.reduce((s, r) => s + r[k], 0) / rows.length;
          const std = Math.sqrt(rows.reduce((s, r) => s + (r[k] - mean) ** 2, 0) / rows.length) || 1;
          return { k, mean, std };
        });
        const features = rows.map((r) => [...stats.map((s) => (r[s.k] - s.mean) / s.std), r.y]);
        const out = ["f1,f2,f3,y", ...features.map((f) => f.map((v) => v.toFixed(6)).join(","))];
        const path = join(raw.dir, "features.csv");
        await writeFile(path, out.join("\n"));
        ctx.outletExtra(FEATURES, { rows: rows.length, columns: ["f1", "f2", "f3"], path });
        // The first rows as objects: the UI previews an array of objects as a table ("Table: sample").
        const sample = features.slice(0, 10).map(([f1, f2, f3, y]) => ({ f1: round(f1), f2: round(f2), f3: round(f3), y: round(y) }));
        return { path, stats, sample };
      },
      { inputs: { raw: extract }, upstream: [validate], inlets: [RAW], outlets: [FEATURES] },
    );

    const train = d.task(
      "train",
      async (ctx, { features }) => {
        const rows = (await readFile(features.path, "utf8")).trim().split("\n").slice(1).map((l) => l.split(",").map(Number));
        const split = Math.floor(rows.length * 0.8);
        const [trainSet, testSet] = [rows.slice(0, split), rows.slice(split)];
        const w = [0, 0, 0];
        let b = 0;
        const lr = 0.05;
        for (let e = 0; e < ctx.params.epochs; e++) {
          const g = [0, 0, 0];
          let gb = 0;
          for (const r of trainSet) {
            const err = w[0] * r[0] + w[1] * r[1] + w[2] * r[2] + b - r[3];
            for (let j = 0; j < 3; j++) g[j] += err * r[j];
            gb += err;
          }
          for (let j = 0; j < 3; j++) w[j] -= (lr * g[j]) / trainSet.length;
          b -= (lr * gb) / trainSet.length;
        }
        const mse = (set: number[][]) => set.reduce((s, r) => s + (w[0] * r[0] + w[1] * r[1] + w[2] * r[2] + b - r[3]) ** 2, 0) / set.length;
        const meanY = testSet.reduce((s, r) => s + r[3], 0) / testSet.length;
        const varY = testSet.reduce((s, r) => s + (r[3] - meanY) ** 2, 0) / testSet.length;
        const testMse = mse(testSet);
        const r2 = 1 - testMse / varY;
        ctx.outletExtra(MODEL, { r2: Number(r2.toFixed(4)), epochs: ctx.params.epochs, trainRows: trainSet.length });
        return { weights: w, bias: b, trainMse: mse(trainSet), testMse, r2 };
      },
      { inputs: { features: transform }, inlets: [FEATURES], outlets: [MODEL] },
    );

    d.task(
      "report",
      async (ctx, { model }) => {
        const summary = { r2: Number(model.r2.toFixed(4)), testMse: Number(model.testMse.toFixed(4)), weights: model.weights.map((x) => Number(x.toFixed(3))) };
        ctx.log.info("model metrics", summary);
        if (model.r2 < 0.9) throw new Unrecoverable(`model quality too low: r2=${model.r2.toFixed(3)} (want >= 0.9)`);
        return summary;
      },
      { inputs: { model: train }, inlets: [MODEL] },
    );
  },
);
