import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { dag } from "sluice";

/**
 * The heavy step on Spark:
 *
 *   generate (function task) -> aggregate (Spark, PySpark) -> report (function task)
 *
 * `generate` writes a CSV of orders, `aggregate` runs spark/aggregate_orders.py
 * on the cluster of the "spark_default" connection (revenue per country and
 * day), `report` reads Spark's output and summarises it. The DAG loads without
 * a cluster; a run needs a Spark connection (see docs/spark.md), e.g. for a
 * standalone master on this machine:
 *
 *   POST /api/v1/connections {"connId":"spark_default","connType":"spark","host":"spark://127.0.0.1","port":7077,
 *     "extra":{"sparkHome":"/opt/spark","pythonPath":"/usr/bin/python3"}}
 *
 * The files live under the system temp folder, so the driver and executors
 * must share this machine's disk (a single-machine cluster); on a real
 * cluster, point `workDir` at shared storage (an NFS mount, or s3a://…).
 */
const params = z.object({
  rows: z.number().int().min(1_000).max(500_000_000).default(2_000_000),
  days: z.number().int().min(1).max(366).default(30),
  workDir: z.string().default(join(tmpdir(), "sluice-examples", "spark_pipeline")),
});

const COUNTRIES = ["DE", "FR", "NL", "PL", "ES", "IT", "SE", "US", "BR", "JP"];

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

interface CountryDay {
  country: string;
  day: string;
  orders: number;
  revenue: number;
  items: number;
  avg_order: number;
}

export default dag(
  {
    id: "spark_pipeline",
    description: "Generate orders, aggregate them on Spark, report",
    schedule: null,
    params,
    tags: ["spark", "example"],
    docs: "Needs a `spark_default` connection (standalone or Kubernetes). See docs/spark.md.",
  },
  (d) => {
    const generate = d.task("generate", async (ctx) => {
      const dir = join(ctx.params.workDir, ctx.runId.replace(/[^A-Za-z0-9_.-]/g, "_"));
      await mkdir(dir, { recursive: true });
      const path = join(dir, "orders.csv");
      const rand = rng(ctx.logicalDate.getTime() / 1000);
      const start = Date.UTC(2026, 0, 1);
      const out = createWriteStream(path);
      out.write("order_id,day,country,amount,items\n");
      let chunk = "";
      for (let i = 0; i < ctx.params.rows; i++) {
        const day = new Date(start + Math.floor(rand() * ctx.params.days) * 86_400_000).toISOString().slice(0, 10);
        const country = COUNTRIES[Math.floor(rand() ** 1.5 * COUNTRIES.length)];
        // A few refunds (negative amounts) that the aggregation leaves out.
        const amount = rand() < 0.02 ? -(rand() * 50).toFixed(2) : (5 + rand() * 195).toFixed(2);
        chunk += `${i},${day},${country},${amount},${1 + Math.floor(rand() * 5)}\n`;
        if (chunk.length > 1 << 20) {
          if (!out.write(chunk)) await once(out, "drain");
          chunk = "";
        }
      }
      out.end(chunk);
      await once(out, "finish");
      ctx.log.info("orders written", { path, rows: ctx.params.rows });
      return { path, output: join(dir, "by_country_day"), rows: ctx.params.rows, bytes: (await stat(path)).size };
    });

    // The application path is relative to this file; the arguments are computed per run.
    const aggregate = d.spark("aggregate", {
      application: "spark/aggregate_orders.py",
      inputs: { generate },
      args: (_ctx, { generate }) => [generate.path, generate.output],
      executorMemory: "1g",
      driverMemory: "1g",
      numExecutors: 2,
      conf: { "spark.sql.shuffle.partitions": "8" },
      timeout: "30m",
      retries: 1,
    });

    d.task(
      "report",
      async (ctx, { generate, aggregate }) => {
        const parts = (await readdir(generate.output)).filter((f) => f.startsWith("part-") && f.endsWith(".json"));
        const rows: CountryDay[] = [];
        for (const p of parts) {
          for (const line of (await readFile(join(generate.output, p), "utf8")).split("\n")) if (line) rows.push(JSON.parse(line) as CountryDay);
        }
        const byCountry = new Map<string, { orders: number; revenue: number }>();
        for (const r of rows) {
          const c = byCountry.get(r.country) ?? { orders: 0, revenue: 0 };
          c.orders += r.orders;
          c.revenue += r.revenue;
          byCountry.set(r.country, c);
        }
        const top = [...byCountry.entries()].sort((a, b) => b[1].revenue - a[1].revenue).slice(0, 3);
        const orders = rows.reduce((s, r) => s + r.orders, 0);
        ctx.log.info("report", { countryDays: rows.length, orders, sparkApp: aggregate.appId, sparkSeconds: Math.round(aggregate.elapsedMs / 1000) });
        return {
          inputRows: generate.rows,
          ordersCounted: orders,
          refundsLeftOut: generate.rows - orders,
          countryDays: rows.length,
          topCountries: top.map(([country, v]) => ({ country, orders: v.orders, revenue: Math.round(v.revenue * 100) / 100 })),
          spark: { appId: aggregate.appId ?? null, state: aggregate.state, elapsedMs: aggregate.elapsedMs },
        };
      },
      { inputs: { generate, aggregate } },
    );
  },
);
