/**
 * The Spark example (examples/dags/spark_pipeline.ts with
 * examples/dags/spark/aggregate_orders.py) run end to end, unchanged, on a
 * real standalone cluster (one master, two workers: test/helpers/sparkCluster.ts):
 * the DAG file is copied into a throwaway project as a user would have it
 * (test/e2e/helpers.ts makeProject: node_modules linked, because the example
 * imports zod), parsed by the DAG processor, run by the scheduler and the
 * local executor's task processes, its aggregate task submitted in client
 * mode through the "spark_default" connection the example names.
 *
 * The report's numbers are checked against the same summary computed here
 * from the CSV the generate task wrote, not against constants. Small data
 * (20,000 rows over 5 days) keeps the file near a minute on 2 cores: most
 * of it is the cluster's and spark-submit's JVM start-up.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { defaultConfig } from "../../src/config/config.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { SecretBox } from "../../src/secrets/secretBox.js";
import type { SparkTaskResult } from "../../src/sdk/taskKinds.js";
import type { TaskInstanceRow } from "../../src/store/taskQueries.js";
import { freshTarget, targetUrl } from "../helpers/db.js";
import { liveMembers, startSparkCluster, type SparkCluster } from "../helpers/sparkCluster.js";
import { EXAMPLES_DAGS, killLeftovers, makeProject, waitFor, type Project } from "../e2e/helpers.js";

const ROWS = 20_000;
const DAYS = 5;

interface Report {
  inputRows: number;
  ordersCounted: number;
  refundsLeftOut: number;
  countryDays: number;
  topCountries: { country: string; orders: number; revenue: number }[];
  spark: { appId: string | null; state: string; elapsedMs: number };
}

interface CountryDay {
  country: string;
  day: string;
  orders: number;
  revenue: number;
  items: number;
  avg_order: number;
}

/**
 * What the pipeline should conclude from the orders CSV, computed in plain
 * JavaScript. Money is summed in integer cents (every amount has two
 * decimals), so the sums are exact and Spark's double sums, rounded to
 * cents, must equal them.
 */
function expectedFrom(csv: string) {
  const [header, ...lines] = csv.split("\n").filter((l) => l !== "");
  assert.equal(header, "order_id,day,country,amount,items");
  const groups = new Map<string, { country: string; day: string; orders: number; cents: number; items: number }>();
  for (const line of lines) {
    const [, day, country, amount, items] = line.split(",");
    const cents = Math.round(Number(amount) * 100);
    if (!(cents > 0)) continue; // refunds (and a refund that rounded to 0.00) are left out
    const key = `${country}|${day}`;
    const g = groups.get(key) ?? { country, day, orders: 0, cents: 0, items: 0 };
    g.orders++;
    g.cents += cents;
    g.items += Number(items);
    groups.set(key, g);
  }
  const byCountry = new Map<string, { orders: number; cents: number }>();
  for (const g of groups.values()) {
    const c = byCountry.get(g.country) ?? { orders: 0, cents: 0 };
    c.orders += g.orders;
    c.cents += g.cents;
    byCountry.set(g.country, c);
  }
  const counted = [...groups.values()].reduce((s, g) => s + g.orders, 0);
  return {
    inputRows: lines.length,
    ordersCounted: counted,
    refundsLeftOut: lines.length - counted,
    countryDays: groups.size,
    topCountries: [...byCountry.entries()]
      .sort((a, b) => b[1].cents - a[1].cents)
      .slice(0, 3)
      .map(([country, v]) => ({ country, orders: v.orders, revenue: v.cents / 100 })),
    groups,
    countries: byCountry.size,
  };
}

let cluster: SparkCluster;
let project: Project;
let sluice: Sluice | undefined;

before(async () => {
  project = makeProject(["spark_pipeline.ts"]);
  // The PySpark application sits beside the DAG file, which names it by a relative path.
  cpSync(join(EXAMPLES_DAGS, "spark"), join(project.dags, "spark"), { recursive: true });
  cluster = await startSparkCluster(join(project.dir, "cluster"));
  process.stdout.write(`# spark cluster (master + 2 workers) up in ${cluster.startMs} ms\n`);
});

after(async () => {
  await sluice?.stop();
  await cluster?.stop();
  for (const g of cluster?.groups ?? []) assert.deepEqual(liveMembers(g), [], `nothing of Spark daemon group ${g} is left running`);
  assert.deepEqual(await killLeftovers(), [], "processes were left running");
});

describe("examples/dags/spark_pipeline.ts on a real standalone cluster (sqlite)", () => {
  it("generate -> aggregate (PySpark, client mode) -> report: the report's numbers are those of the generated data", { timeout: 240_000 }, async (t) => {
    const config = defaultConfig();
    config.home = project.home;
    config.dagsFolder = project.dags;
    config.db.url = targetUrl(await freshTarget("sqlite", "spark_example"));
    config.secrets.key = randomBytes(32).toString("base64");
    config.scheduler.loopIntervalMs = 100;
    config.scheduler.heartbeatIntervalMs = 300;
    config.scheduler.dagScanIntervalMs = 3_600_000;
    config.executor.slots = 2;
    sluice = await createSluice(config, pino({ level: "silent" }));
    const store = sluice.store;
    // The connection the example's aggregate task uses by default, as docs/spark.md tells a user to create it.
    const extra = { restUrl: cluster.restUrl, webUiUrl: cluster.webUiUrl, sparkHome: cluster.sparkHome, pythonPath: cluster.python, pollIntervalMs: 250 };
    await store.connections.create({
      conn_id: "spark_default", conn_type: "spark", host: "spark://127.0.0.1", port: cluster.port, login: null, password: null, schema_name: null,
      extra: await new SecretBox(config).encrypt(JSON.stringify(extra)), description: null, updated_at: Date.now(),
    });
    const scan = await sluice.processor.scan();
    assert.equal(scan.errors, 0, JSON.stringify(await store.dags.importErrors()));
    assert.equal(scan.dags, 1);
    await sluice.start();

    const started = Date.now();
    const workDir = join(project.dir, "work");
    const run = await triggerRun(store, "spark_pipeline", { conf: { rows: ROWS, days: DAYS, workDir } });
    sluice.scheduler.wake();
    const done = await waitFor("the spark_pipeline run to finish", async () => {
      const r = await store.runs.byPk(run.id);
      return r && (r.state === "success" || r.state === "failed") ? r : undefined;
    }, { timeoutMs: 200_000, intervalMs: 200 });
    t.diagnostic(`spark_pipeline run: ${Date.now() - started} ms from trigger to ${done.state}`);
    const tis = new Map((await store.tasks.forRun(run.id)).map((ti) => [ti.task_id, ti]));
    const logOf = async (ti: TaskInstanceRow) => (await store.logs.read(ti.id, ti.try_number, { limit: 100_000 })).map((l) => l.line).join("\n");
    const aggregateTi = tis.get("aggregate")!;
    const aggregateLog = await logOf(aggregateTi);
    assert.equal(done.state, "success", [...tis.values()].map((ti) => `${ti.task_id}: ${ti.state} ${ti.error ?? ""}`).join("\n") + `\n--- aggregate log ---\n${aggregateLog.slice(-4000)}`);
    for (const ti of tis.values()) assert.equal(ti.try_number, 1, `${ti.task_id} succeeded on its first try`);

    const generated = JSON.parse(tis.get("generate")!.result!) as { path: string; output: string; rows: number; bytes: number };
    assert.ok(generated.path.startsWith(workDir), `the run's files are under the workDir it was given (${generated.path})`);
    const expected = expectedFrom(readFileSync(generated.path, "utf8"));
    assert.equal(expected.inputRows, ROWS, "generate wrote the requested number of rows");
    // The data exercises what the report is about: several countries, refunds to leave out.
    assert.ok(expected.countries >= 4 && expected.refundsLeftOut > 0, JSON.stringify({ countries: expected.countries, refunds: expected.refundsLeftOut }));

    const spark = JSON.parse(aggregateTi.result!) as SparkTaskResult;
    assert.equal(spark.state, "FINISHED");
    assert.equal(spark.deployMode, "client");
    assert.equal(spark.master, cluster.master);
    assert.match(spark.appId ?? "", /^app-\d{14}-\d{4}$/);
    const master = await cluster.status();
    assert.equal(master.completedapps.find((a: { id: string }) => a.id === spark.appId)?.state, "FINISHED", "the master ran the application to the end");
    // The driver's own line reached the task log.
    assert.match(aggregateLog, new RegExp(`aggregated ${ROWS} orders into ${expected.countryDays} country-days -> ${generated.output.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));

    // Spark's output itself, row by row (the report only sums it).
    const parts = readdirSync(generated.output).filter((f) => f.startsWith("part-") && f.endsWith(".json"));
    const rows = parts.flatMap((p) => readFileSync(join(generated.output, p), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as CountryDay));
    assert.equal(rows.length, expected.countryDays);
    for (const r of rows) {
      const g = expected.groups.get(`${r.country}|${r.day}`);
      assert.ok(g, `Spark produced a country-day that is not in the data: ${JSON.stringify(r)}`);
      assert.deepEqual([r.orders, Math.round(r.revenue * 100), r.items], [g.orders, g.cents, g.items], `${r.country} ${r.day}`);
      // avg(amount) rounded by Spark: within a cent of the exact mean (the two roundings may differ at a half cent).
      assert.ok(Math.abs(r.avg_order - g.cents / g.orders / 100) <= 0.0051, `${r.country} ${r.day}: avg_order ${r.avg_order}, exact ${g.cents / g.orders / 100}`);
    }

    const report = JSON.parse(tis.get("report")!.result!) as Report;
    assert.deepEqual(
      { ...report, spark: undefined },
      {
        inputRows: expected.inputRows,
        ordersCounted: expected.ordersCounted,
        refundsLeftOut: expected.refundsLeftOut,
        countryDays: expected.countryDays,
        topCountries: expected.topCountries,
        spark: undefined,
      },
    );
    assert.deepEqual(report.spark, { appId: spark.appId, state: "FINISHED", elapsedMs: spark.elapsedMs });
  });
});
