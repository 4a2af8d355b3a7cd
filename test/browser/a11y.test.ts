/**
 * Accessibility smoke check of the web UI: axe-core on every main page, in
 * the light and in the dark theme (the system preference, emulated), against
 * a real API server on SQLite and on PostgreSQL. A test fails on any
 * "serious" or "critical" violation and prints each one with the elements it
 * concerns.
 *
 * The store is seeded directly (no scheduler): a history of runs with
 * failures and retries (seedBig, small), a DAG with params, docs, source and
 * datasets, dataset events, an import error, a log with ANSI colours and
 * stderr lines, admin data (variables, a connection, a pool, users), and
 * mapped tasks with DuckDB and Spark results (mappedSeed.ts); the Spark page
 * reads a stand-in master (fakeSparkMaster.ts).
 * The SQLite run also saves screenshots of the seeded history (a fuller grid
 * than the journey's single run) for the README.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { z } from "zod";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { dag } from "../../src/sdk/dag.js";
import { dataset } from "../../src/sdk/dataset.js";
import { axe, launchBrowser, screenshot, signInWithCookie, startApiServer, type Browser, type RunningApi, type TestUser } from "../helpers/browser.js";
import { DIALECTS } from "../helpers/db.js";
import { BIG_DAG_ID, seedBig } from "../helpers/seedBig.js";
import { startFakeSparkMaster, type FakeMasterState } from "./fakeSparkMaster.js";
import { FEATURIZE_FAILED, FEATURIZE_LOG, MAPPED_DAG, seedMapped, SPARK_APP_ID, type MappedSeed } from "./mappedSeed.js";

const RAW = dataset("s3://lake/churn/raw_events");
const FEATURES = dataset("s3://lake/churn/features");
const MODEL = "sluice://models/churn";

const SOURCE = `import { z } from "zod";
import { dag } from "sluice";

export default dag({ id: "churn_features", schedule: "0 3 * * *" }, (d) => {
  // …
});
`;

/** A DAG with everything the Details, Code and Datasets pages show. */
const churn = dag(
  {
    id: "churn_features",
    description: "Daily churn features and model",
    schedule: "0 3 * * *",
    start: "2026-01-01",
    owner: "ml-team",
    tags: ["ml", "daily"],
    docs: "# churn_features\nBuilds the **churn** features every night.\n\n- reads `raw_events`\n- writes `features`",
    params: z.object({
      lookbackDays: z.number().int().min(1).max(365).default(30).describe("Days of events to read"),
      mode: z.enum(["incremental", "full"]).default("incremental"),
    }),
  },
  (d) => {
    const extract = d.task("extract", async () => 1, { outlets: [RAW] });
    const build = d.task("build_features", async () => 1, { upstream: [extract], inlets: [RAW], outlets: [FEATURES] });
    d.task("train", async () => 1, { upstream: [build], inlets: [FEATURES], outlets: [MODEL] });
  },
);

/** ANSI: red, bold green, reset. */
const RED = "\x1b[31m";
const GREEN = "\x1b[1;32m";
const RESET = "\x1b[0m";
const LOG_MARKER = "scored 48211 customers";

interface Seeded {
  failedRunId: string;
  failedTaskId: string;
  mapped: MappedSeed;
}

async function seed(server: RunningApi, admin: TestUser): Promise<Seeded> {
  const { store } = server;
  const now = Date.now();
  await seedBig(store, { dags: 14, bigRuns: 90, tasksPerDag: 16, runsPerDag: 4, triesForNewest: 90, now });
  const spec = churn.toSpec("churn_features.ts");
  await store.dags.upsert(spec, dagVersionHash(spec), now, false, SOURCE);
  await store.datasets.recordEvents(
    [
      { uri: RAW.uri, dag_id: "churn_features", run_id: "scheduled__2026-03-01T03:00:00.000Z", task_id: "extract", map_index: -1, extra: '{"rows":120000}' },
      { uri: FEATURES.uri, dag_id: "churn_features", run_id: "scheduled__2026-03-01T03:00:00.000Z", task_id: "build_features", map_index: -1, extra: null },
    ],
    now - 60_000,
  );
  await store.dags.setImportError({ path: "finance/broken_report.ts", message: "finance/broken_report.ts:12 failed to import: Cannot find module './helpers'", line: 12, col: 5, stack: "Error: Cannot find module './helpers'\n    at finance/broken_report.ts:12:5", created_at: now - 5 * 60_000 });

  // A failed task instance of big_dag with a colourful log.
  const failedRun = (await store.runs.list({ dagId: BIG_DAG_ID, states: ["failed"], limit: 1 }))[0];
  assert.ok(failedRun, "seedBig wrote a failed run of big_dag");
  const ti = (await store.tasks.forRun(failedRun.id)).find((t) => t.state === "failed" && t.try_number >= 1);
  assert.ok(ti, `run ${failedRun.run_id} has a failed task instance`);
  const lines = [
    ["stdout", `Starting attempt ${ti.try_number} of ${ti.task_id}`],
    ["stdout", `${GREEN}ok${RESET} connected to the warehouse`],
    ["stdout", LOG_MARKER],
    ["stderr", `${RED}Error: model quality too low: r2=0.41 (want >= 0.9)${RESET}\n    at train (churn.ts:88:11)`],
  ];
  await store.logs.append(lines.map(([stream, line], i) => ({ ti_id: ti.id, try_number: ti.try_number, ts: now - 30_000 + i * 100, stream, line })));

  // Admin pages: created through the API, as an admin would.
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.baseUrl}/api/v1${path}`, { method: "POST", headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(res.status, 201, `POST ${path}: ${await res.text()}`);
  };
  await post("/variables", { key: "warehouse_schema", value: "analytics", description: "Schema the reports read" });
  await post("/variables", { key: "slack_token", value: "xoxb-not-a-real-token", description: "Alerts bot" });
  await post("/connections", { connId: "warehouse", connType: "postgres", host: "warehouse.internal", port: 5432, login: "etl", password: "not a real password", schema: "analytics", extra: null, description: "The analytics warehouse" });
  await post("/pools", { name: "warehouse", slots: 4, description: "Concurrent warehouse queries" });
  await server.createUser("operator", "olga");
  await server.createUser("viewer", "vic");
  const mapped = await seedMapped(store, now);
  return { failedRunId: failedRun.run_id, failedTaskId: ti.task_id, mapped };
}

/** The little of the page's DOM that animationsSettled reads (the tests compile without the DOM library). */
interface AnimationsView {
  document: { getAnimations(): { playState: string; effect: { getTiming(): { iterations?: number } } | null }[] };
}

/**
 * axe measures colours as painted: a panel still sliding or fading in would be
 * judged half-transparent. Wait until every finite animation has finished
 * (spinners loop forever and are left alone). A function, not a string: the
 * UI's Content-Security-Policy forbids eval.
 */
async function animationsSettled(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    (globalThis as unknown as AnimationsView).document.getAnimations().every((a) => a.effect?.getTiming().iterations === Infinity || a.playState !== "running"),
  );
}

for (const dialect of DIALECTS) {
  describe(`accessibility of the main pages on ${dialect}`, () => {
    let server: RunningApi;
    let browser: Browser;
    let page: Page;
    let seeded: Seeded;

    before(async () => {
      server = await startApiServer({ dialect });
      const admin = await server.createUser("admin");
      seeded = await seed(server, admin);
      browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      // The login page is checked before this cookie is used: a fresh page load without it shows the form.
      await signInWithCookie(browser.context, server.baseUrl, admin.username, admin.password);
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    /**
     * Open a page in the light and then the dark theme (the system
     * preference; the app follows it by default), wait for its content, and
     * run axe on each. Fails once, listing the violations of both themes.
     */
    async function check(path: string, ready: (page: Page) => Promise<unknown>, opts: { shot?: string } = {}): Promise<void> {
      const problems: string[] = [];
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.goto(`${server.baseUrl}${path}`);
        await page.locator(`html[data-theme="${scheme}"]`).waitFor({ state: "attached" });
        try {
          await ready(page);
        } catch (err) {
          throw new Error(`${path} (${scheme}) did not show what the check needs: ${(err as Error).message}`, { cause: err });
        }
        await animationsSettled(page);
        const report = await axe(page);
        if (report.violations.length > 0) problems.push(`${scheme} theme: ${report.text}`);
        if (opts.shot && dialect === "sqlite") await screenshot(page, `${opts.shot}${scheme === "dark" ? "-dark" : ""}`);
      }
      await page.emulateMedia({ colorScheme: "light" });
      assert.equal(problems.length, 0, problems.join("\n\n"));
    }

    it("login page", async () => {
      const context = browser.context;
      const cookies = await context.cookies();
      await context.clearCookies();
      try {
        await check("/", (p) => p.getByRole("heading", { name: "Sign in to Sluice" }).waitFor());
        // And with its error message shown.
        await page.getByLabel("Username").fill("admin");
        await page.getByLabel("Password").fill("wrong password");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("alert").waitFor();
        await animationsSettled(page);
        const report = await axe(page);
        assert.deepEqual(report.violations, [], report.text);
      } finally {
        await context.addCookies(cookies);
      }
    });

    it("DAG list, with the import-error details open", async () => {
      await check(
        "/?importErrors=1",
        async (p) => {
          await p.getByTestId("dag-row-churn_features").waitFor();
          await p.getByTestId("import-errors").getByText("finance/broken_report.ts:12:5", { exact: true }).waitFor();
          // The strips and last-run badges are filled in.
          await p.getByTestId(`dag-row-${BIG_DAG_ID}`).locator('[data-state="failed"], [data-state="success"]').first().waitFor();
        },
        { shot: "history-dag-list" },
      );
    });

    it("DAG page: grid", async () => {
      await check(`/dags/${BIG_DAG_ID}/grid`, (p) => p.locator('[data-testid^="cell-"][data-state="failed"]').first().waitFor(), { shot: "history-grid" });
    });

    it("DAG page: graph of a failed run", async () => {
      await check(`/dags/${BIG_DAG_ID}/graph?run=${encodeURIComponent(seeded.failedRunId)}`, (p) => p.locator('[data-testid^="node-"][data-state="failed"]').first().waitFor(), { shot: "history-graph" });
    });

    it("DAG page: gantt of a failed run", async () => {
      await check(`/dags/${BIG_DAG_ID}/gantt?run=${encodeURIComponent(seeded.failedRunId)}`, (p) => p.getByRole("img", { name: /^Timeline of run / }).waitFor());
    });

    it("DAG page: code", async () => {
      await check("/dags/churn_features/code", (p) => p.getByText('id: "churn_features"').first().waitFor());
    });

    it("DAG page: details with params and docs", async () => {
      await check("/dags/churn_features/details", async (p) => {
        await p.getByRole("heading", { name: "Params" }).waitFor();
        await p.getByText("Days of events to read").first().waitFor();
        // The docs, rendered from markdown.
        await p.getByRole("region", { name: "Docs" }).getByText("churn", { exact: true }).waitFor();
      });
    });

    it("task panel with a failed try's log (ANSI colours, stderr)", async () => {
      const q = `?run=${encodeURIComponent(seeded.failedRunId)}&task=${encodeURIComponent(seeded.failedTaskId)}`;
      await check(
        `/dags/${BIG_DAG_ID}/grid${q}`,
        async (p) => {
          const panel = p.getByTestId("task-panel");
          await panel.getByTestId("log-view").getByText(LOG_MARKER).waitFor();
          await panel.getByText("model quality too low").first().waitFor();
        },
        { shot: "history-task-panel" },
      );
    });

    it("task panel, mapped mode: counts by state, the instance list and a failed instance's log", async () => {
      const q = `?run=${encodeURIComponent(seeded.mapped.runId)}&task=featurize&mapIndex=${FEATURIZE_FAILED}`;
      await check(`/dags/${MAPPED_DAG}/grid${q}`, async (p) => {
        const panel = p.getByTestId("task-panel");
        await panel.getByTestId("mapped-instances").getByTestId(`mapped-instance-${FEATURIZE_FAILED}`).waitFor();
        await panel.getByTestId("mapped-counts").getByTestId("mapped-count-failed").waitFor();
        await panel.getByTestId("log-view").getByText(FEATURIZE_LOG).waitFor();
      });
    });

    it("task panel, mapped mode: a DuckDB instance's result summary", async () => {
      await check(`/dags/${MAPPED_DAG}/grid?run=${encodeURIComponent(seeded.mapped.runId)}&task=featurize&mapIndex=1`, async (p) => {
        const panel = p.getByTestId("task-panel");
        await panel.getByRole("tab", { name: "Result" }).click();
        await panel.getByTestId("duckdb-result").getByTestId("duckdb-schema").waitFor();
      });
    });

    it("task panel: a Spark task's result summary", async () => {
      await check(`/dags/${MAPPED_DAG}/grid?run=${encodeURIComponent(seeded.mapped.runId)}&task=aggregate_on_spark`, async (p) => {
        const panel = p.getByTestId("task-panel");
        await panel.getByRole("tab", { name: "Result" }).click();
        await panel.getByTestId("spark-result").waitFor();
      });
    });

    it("DAG page: graph with mapped tasks not expanded yet", async () => {
      await check(`/dags/${MAPPED_DAG}/graph?run=${encodeURIComponent(seeded.mapped.pendingRunId)}`, (p) => p.locator('[data-testid="node-featurize"][data-mapped="true"]').waitFor());
    });

    it("datasets", async () => {
      await check("/datasets", (p) => p.getByTestId(`dataset-row-${FEATURES.uri}`).waitFor(), { shot: "history-datasets" });
    });

    it("Spark: no connection yet, a cluster with every kind of state, an unreachable master", async () => {
      await check("/spark", (p) => p.getByTestId("spark-empty").waitFor());
      const now = Date.now();
      const app = (id: string, state: string, minutesAgo: number) => ({ id, name: `job ${id.slice(-4)}`, cores: 2, memoryPerExecutorMb: 2048, user: "sluice", startTime: now - minutesAgo * 60_000, state, durationMs: 90_000 });
      const driver = (id: string, state: string) => ({ id, state, cores: 1, memoryMb: 1024, startTime: now - 5 * 60_000, worker: "worker-1", mainClass: "org.apache.spark.deploy.SparkSubmit" });
      const state: FakeMasterState = {
        status: "ALIVE",
        workers: [
          { id: "worker-1", port: 41001, cores: 4, coresUsed: 4, memoryMb: 8192, memoryUsedMb: 4096, state: "ALIVE", lastHeartbeat: now - 3_000 },
          { id: "worker-2", port: 41002, cores: 4, coresUsed: 0, memoryMb: 8192, memoryUsedMb: 0, state: "DEAD", lastHeartbeat: now - 3_600_000 },
        ],
        activeApps: [app("app-20260314102210-0009", "RUNNING", 3), app("app-20260314102530-0010", "WAITING", 1)],
        completedApps: [app(SPARK_APP_ID, "FINISHED", 12), app("app-20260314090000-0002", "FAILED", 90), app("app-20260314090500-0003", "KILLED", 80)],
        activeDrivers: [driver("driver-20260314102205-0004", "RUNNING"), driver("driver-20260314102206-0005", "SUBMITTED")],
        completedDrivers: [driver("driver-20260314085955-0001", "ERROR")],
      };
      const master = await startFakeSparkMaster(state);
      try {
        const created = await page.evaluate(async (webUiUrl) => {
          const me = (await (await fetch("/api/v1/auth/me")).json()) as { csrfToken: string };
          const body = { connId: "spark_local", connType: "spark", host: "spark://127.0.0.1", port: 7077, extra: { webUiUrl } };
          const res = await fetch("/api/v1/connections", { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": me.csrfToken }, body: JSON.stringify(body) });
          return `${res.status} ${await res.text()}`;
        }, master.url);
        assert.match(created, /^201 /);
        // The seeded Spark task launched the finished application: its row links to the task instance.
        const ti = await server.store.handle.db.selectFrom("task_instance").select(["id", "run_id"]).where("dag_id", "=", MAPPED_DAG).where("task_id", "=", "aggregate_on_spark").where("run_id", "=", seeded.mapped.runId).executeTakeFirstOrThrow();
        await server.store.sparkApps.record({ connection_id: "spark_local", master: "spark://127.0.0.1:7077", deploy_mode: "client", app_id: SPARK_APP_ID, driver_id: null, ti_id: ti.id, dag_id: MAPPED_DAG, run_id: ti.run_id, task_id: "aggregate_on_spark", map_index: -1, try_number: 1, state: "FINISHED" }, now);
        await check(`/spark?conn=spark_local&app=${SPARK_APP_ID}`, async (p) => {
          await p.getByTestId("spark-worker-worker-2").waitFor();
          await p.getByTestId(`spark-app-${SPARK_APP_ID}`).getByTestId("spark-task-link").waitFor();
        });
        await master.stop();
        await check("/spark?conn=spark_local", (p) => p.getByTestId("spark-error").waitFor());
      } finally {
        await master.stop();
      }
    });

    for (const [section, rowId] of [
      ["pools", "pool-row-warehouse"],
      ["variables", "variable-row-warehouse_schema"],
      ["connections", "connection-row-warehouse"],
      ["users", "user-row-olga"],
    ] as const) {
      it(`admin: ${section}`, async () => {
        await check(`/admin/${section}`, (p) => p.getByTestId(rowId).waitFor());
      });
    }
  });
}
