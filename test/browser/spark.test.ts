/**
 * The Spark page in the web UI, in headless Chromium, against a real
 * `sluice standalone` on SQLite and on PostgreSQL, with a stand-in for the
 * Spark master's web UI (fakeSparkMaster.ts: Spark's /json/ payload from a
 * loopback server the test controls; the real master is the subject of
 * test/spark/standalone.test.ts).
 *
 * Before any spark connection exists the page explains how to add one. Then a
 * connection created through the API points its extra.webUiUrl at the fake
 * master; a run of a DAG with two Spark tasks (one mapped) is written into the
 * standalone's database with the spark_app records a real run leaves, so
 * that two of the master's applications and one driver belong to Sluice task
 * instances. The page shows the master's status, the summary, the workers,
 * the applications and drivers; an application's link opens its task
 * instance's panel (with the map index); a Spark task's result links back
 * to the page; a change on the master shows without a reload; a stopped
 * master turns into the error panel with the API's message and a restarted
 * one back into the cluster; a viewer sees the page too.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { DagSpec } from "../../src/core/dagSpec.js";
import type { DbTarget } from "../../src/store/db.js";
import { openStore, type Store } from "../../src/store/store.js";
import { journeySteps, launchBrowser, screenshot, signIn, type Browser } from "../helpers/browser.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { killLeftovers, makeProject, sluiceEnv, startStandalone, waitFor, type Project, type SluiceProcess } from "../e2e/helpers.js";
import { startFakeSparkMaster, type FakeApp, type FakeDriver, type FakeMaster, type FakeMasterState } from "./fakeSparkMaster.js";

const PROGRESS_MS = 30_000;
const DAG_ID = "spark_report";
const CONN = "spark_fake";
const MASTER = "spark://127.0.0.1:7077";
const VIEWER = { username: "vera", password: "a viewer's long password" };

/** Launched by `aggregate` (client mode): completed on the master. */
const APP_AGG = "app-20260314101500-0007";
/** Launched by try 2 of `score_part[1]` (cluster mode): its driver and its application, running on the master. */
const APP_SCORE = "app-20260314102210-0009";
const DRIVER_SCORE = "driver-20260314102205-0004";
/** Not launched by Sluice: listed without a link. */
const APP_NOTEBOOK = "app-20260314102530-0010";
const APP_OLD = "app-20260314090000-0002";
const DRIVER_OLD = "driver-20260314085955-0001";
const W1 = "worker-20260314100000-127.0.0.1-41001";
const W2 = "worker-20260314100001-127.0.0.1-41002";
const W3 = "worker-20260313220000-127.0.0.1-41003";

const DAG_FILE = `import { dag } from "sluice";

export default dag({ id: "${DAG_ID}", schedule: null, owner: "data-platform" }, (d) => {
  const parts = d.task("list_parts", async () => ["eu", "us", "apac"]);
  d.spark("aggregate", { application: "jobs/aggregate.py", connection: "${CONN}", upstream: [parts] });
  d.spark("score_part", { application: "jobs/score.py", connection: "${CONN}", deployMode: "cluster", expand: parts });
});
`;

function clusterState(now: number): FakeMasterState {
  const min = 60_000;
  const app = (id: string, name: string, state: string, startedMinAgo: number, durationMs: number, cores: number, mem: number, user = "sluice"): FakeApp => ({
    id,
    name,
    state,
    cores,
    memoryPerExecutorMb: mem,
    user,
    startTime: now - startedMinAgo * min,
    durationMs,
  });
  const driver = (id: string, state: string, startedMinAgo: number, worker: string): FakeDriver => ({
    id,
    state,
    cores: 1,
    memoryMb: 1024,
    startTime: now - startedMinAgo * min,
    worker,
    mainClass: "org.apache.spark.deploy.SparkSubmit",
  });
  return {
    status: "ALIVE",
    workers: [
      { id: W1, port: 41001, cores: 4, coresUsed: 3, memoryMb: 8192, memoryUsedMb: 5120, state: "ALIVE", lastHeartbeat: now - 4_000 },
      { id: W2, port: 41002, cores: 4, coresUsed: 1, memoryMb: 8192, memoryUsedMb: 1024, state: "ALIVE", lastHeartbeat: now - 9_000 },
      { id: W3, port: 41003, cores: 2, coresUsed: 0, memoryMb: 4096, memoryUsedMb: 0, state: "DEAD", lastHeartbeat: now - 600 * min },
    ],
    activeApps: [app(APP_SCORE, "score_part apac", "RUNNING", 3, 3 * min, 2, 2048), app(APP_NOTEBOOK, "adhoc-notebook", "RUNNING", 1, min, 1, 1024, "maria")],
    completedApps: [app(APP_AGG, "aggregate_orders", "FINISHED", 12, 61_000, 4, 2048), app(APP_OLD, "nightly-backfill", "FAILED", 90, 400_000, 2, 4096, "ops")],
    activeDrivers: [driver(DRIVER_SCORE, "RUNNING", 4, W1)],
    completedDrivers: [driver(DRIVER_OLD, "FAILED", 91, W2)],
  };
}

/**
 * A finished run of the DAG as the standalone's scheduler and tasks would
 * have left it, written with the store's own queries (runs.create,
 * mapped.expand, spark_app records) and the end states set directly: running
 * two Spark applications for real is what test/spark/ does.
 */
async function seedRun(store: Store, now: number): Promise<string> {
  const dag = await store.dags.get(DAG_ID);
  assert.ok(dag, `${DAG_ID} is in the store`);
  const spec = JSON.parse(dag.spec) as DagSpec;
  const runId = `manual__${new Date(now - 15 * 60_000).toISOString()}`;
  // Created as succeeded: the running scheduler leaves finished runs alone.
  const run = await store.runs.create({ dagId: DAG_ID, runId, runType: "manual", state: "success", logicalDate: now - 15 * 60_000, intervalStart: now - 15 * 60_000, intervalEnd: now - 15 * 60_000, versionHash: dag.version_hash, conf: {}, params: {}, tasks: spec.tasks, now: now - 15 * 60_000 });
  await store.transaction((tx) => tx.mapped.expand(run.id, "score_part", { count: 3 }, now));
  const db = store.handle.db;
  const finish = async (taskId: string, mapIndex: number, result: unknown, tryNumber = 1) => {
    const start = now - 14 * 60_000;
    const end = now - 2 * 60_000;
    const row = await db
      .updateTable("task_instance")
      .set({ state: "success", try_number: tryNumber, queued_at: start - 1_000, start_date: start, end_date: end, duration_ms: end - start, hostname: "worker-1", pid: 5100, result: JSON.stringify(result), updated_at: now })
      .where("run_pk", "=", run.id)
      .where("task_id", "=", taskId)
      .where("map_index", "=", mapIndex)
      .returning("id")
      .executeTakeFirstOrThrow();
    await store.tasks.recordTry({ ti_id: row.id, try_number: tryNumber, state: "success", start_date: start, end_date: end, duration_ms: end - start, hostname: "worker-1", pid: 5100, error: null });
    return row.id;
  };
  await finish("list_parts", -1, ["eu", "us", "apac"]);
  const aggId = await finish("aggregate", -1, { appId: APP_AGG, state: "FINISHED", master: MASTER, deployMode: "client", elapsedMs: 61_000 });
  await finish("score_part", 0, { appId: "app-20260314102000-0008", driverId: "driver-20260314101955-0003", state: "FINISHED", master: MASTER, deployMode: "cluster", elapsedMs: 70_000 });
  const scoreId = await finish("score_part", 1, { appId: APP_SCORE, driverId: DRIVER_SCORE, state: "FINISHED", master: MASTER, deployMode: "cluster", elapsedMs: 180_000 }, 2);
  await finish("score_part", 2, { appId: "app-20260314102300-0011", driverId: "driver-20260314102255-0005", state: "FINISHED", master: MASTER, deployMode: "cluster", elapsedMs: 65_000 });
  await db.updateTable("dag_run").set({ start_date: now - 14 * 60_000, end_date: now - 2 * 60_000 }).where("id", "=", run.id).execute();

  const common = { connection_id: CONN, master: MASTER, dag_id: DAG_ID, run_id: runId };
  await store.sparkApps.record({ ...common, deploy_mode: "client", app_id: APP_AGG, driver_id: null, ti_id: aggId, task_id: "aggregate", map_index: -1, try_number: 1, state: "FINISHED" }, now);
  // Try 1 of score_part[1] submitted a driver that failed before its application started (no app id).
  await store.sparkApps.record({ ...common, deploy_mode: "cluster", app_id: null, driver_id: "driver-20260314102100-0002", ti_id: scoreId, task_id: "score_part", map_index: 1, try_number: 1, state: "FAILED" }, now);
  await store.sparkApps.record({ ...common, deploy_mode: "cluster", app_id: APP_SCORE, driver_id: DRIVER_SCORE, ti_id: scoreId, task_id: "score_part", map_index: 1, try_number: 2, state: "RUNNING" }, now);
  return runId;
}

/** Text of each row of a table on the page, by data-testid prefix. */
const rowIds = (page: Page, scope: string, prefix: string) =>
  page
    .getByTestId(scope)
    .locator(`[data-testid^="${prefix}"]`)
    .evaluateAll((els, p) => els.map((e) => e.getAttribute("data-testid")!.slice(p.length)), prefix);

for (const dialect of DIALECTS) {
  describe(`the Spark page, real standalone and a stand-in master, on ${dialect}`, () => {
    let project: Project;
    let target: DbTarget;
    let sa: SluiceProcess;
    let store: Store;
    let master: FakeMaster;
    let browser: Browser;
    let page: Page;
    let base: string;
    let adminPassword: string;
    let runId: string;
    let loads = 0;

    const { context, ui, until } = journeySteps({ failureShot: `spark-failed-${dialect}`, page: () => page, output: () => sa.output(), progressMs: PROGRESS_MS });

    /** The API as the admin, outside the browser (session cookie and CSRF token). */
    let session: { cookie: string; csrf: string };
    async function call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: any }> {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { cookie: session.cookie, "x-csrf-token": session.csrf, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    }

    before(async () => {
      const now = Date.now();
      master = await startFakeSparkMaster(clusterState(now));
      project = makeProject();
      writeFileSync(join(project.dags, `${DAG_ID}.ts`), DAG_FILE);
      target = await freshTarget(dialect, "browser_spark");
      const env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home });
      sa = startStandalone(project.dags, env, project.dir);
      adminPassword = await waitFor("the first-start admin password", () => /^\s*password: (\S+)\s*$/m.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });
      base = await waitFor("the REST API address", () => /REST API on (http:\/\/\S+?)\/api\/v1/.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });
      const login = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: adminPassword }) });
      assert.equal(login.status, 200, await login.clone().text());
      session = { cookie: /^(sluice_session=[^;]+)/.exec(login.headers.get("set-cookie") ?? "")![1], csrf: ((await login.json()) as { csrfToken: string }).csrfToken };
      await until(`${DAG_ID} to be parsed`, async () => (await call("GET", `/dags/${DAG_ID}`)).status === 200);
      // The standalone migrated the database; this process writes the run a real one would have left.
      store = await openStore(target);
      runId = await seedRun(store, now);

      browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      page.on("load", () => loads++);
      await signIn(page, base, "admin", adminPassword, { timeoutMs: PROGRESS_MS });
    });

    after(async () => {
      await browser?.close();
      await store?.close();
      if (sa?.alive) {
        const exit = await sa.stop();
        assert.deepEqual(exit.leftovers, [], "processes of the standalone outlived it");
      }
      await master?.stop();
      assert.deepEqual(await killLeftovers(), [], "processes were left running");
    });

    it("with no spark connection, the page says where to add one", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Spark" }).click();
      await ui("the empty state", page.getByTestId("spark-empty").waitFor());
      const text = await page.getByTestId("spark-empty").innerText();
      assert.match(text, /No Spark connections/);
      assert.match(text, /Admin > Connections/);
      assert.match(text, /type spark/);
      assert.equal(await page.getByTestId("spark-empty").getByRole("link", { name: "Admin > Connections" }).getAttribute("href"), "/admin/connections");
    });

    it("a connection pointing at the master shows its status, summary and workers", async () => {
      const created = await call("POST", "/connections", { connId: CONN, connType: "spark", host: "spark://127.0.0.1", port: 7077, extra: { deployMode: "client", webUiUrl: master.url }, description: "Test master" });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      await page.reload();
      loads = 0;
      await ui("the connection in the list", page.getByTestId(`spark-conn-${CONN}`).waitFor());
      assert.equal(await page.getByTestId(`spark-conn-${CONN}`).getAttribute("aria-current"), "page", "the only connection is chosen");
      assert.match(await page.getByTestId(`spark-conn-${CONN}`).innerText(), /spark:\/\/127\.0\.0\.1:7077/);
      await ui("the master's status", page.getByTestId("spark-master-status").waitFor());
      assert.equal(await page.getByTestId("spark-master-status").innerText(), "ALIVE");

      assert.match(await page.getByTestId("spark-alive-workers").innerText(), /^2\s+of 3$/);
      assert.match(await page.getByTestId("spark-cores").innerText(), /^4\s+\/ 8$/);
      assert.match(await page.getByTestId("spark-memory").innerText(), /^6\.0 GiB\s+\/ 16\.0 GiB$/);
      const summary = page.getByTestId("spark-summary");
      assert.ok(await summary.getByRole("img", { name: "4 of 8 cores in use" }).isVisible());
      assert.ok(await summary.getByRole("img", { name: "6.0 GiB of 16.0 GiB memory in use" }).isVisible());

      assert.deepEqual(await rowIds(page, "spark-cluster", "spark-worker-"), [W1, W2, W3]);
      const w1 = await page.getByTestId(`spark-worker-${W1}`).locator("td").allInnerTexts();
      assert.equal(w1[0], W1);
      assert.equal(w1[1], "127.0.0.1:41001");
      assert.equal(w1[2], "ALIVE");
      assert.match(w1[3], /3 \/ 4/);
      assert.match(w1[4], /5\.0 GiB \/ 8\.0 GiB/);
      assert.match(w1[5], /seconds? ago|now/);
      assert.equal(await page.getByTestId(`spark-worker-${W3}`).getAttribute("data-state"), "DEAD");
      assert.match(await page.getByTestId(`spark-worker-${W3}`).locator("td").nth(5).innerText(), /10 hours ago/);
    });

    it("running and completed applications and drivers, those Sluice launched linked to their task instances", async () => {
      assert.deepEqual(await rowIds(page, "spark-apps-running", "spark-app-"), [APP_SCORE, APP_NOTEBOOK]);
      assert.deepEqual(await rowIds(page, "spark-apps-completed", "spark-app-"), [APP_AGG, APP_OLD]);
      assert.deepEqual(await rowIds(page, "spark-drivers-running", "spark-driver-"), [DRIVER_SCORE]);
      assert.deepEqual(await rowIds(page, "spark-drivers-completed", "spark-driver-"), [DRIVER_OLD]);

      const cells = async (id: string) => page.getByTestId(id).locator("td").allInnerTexts();
      const agg = await cells(`spark-app-${APP_AGG}`);
      assert.deepEqual([agg[0], agg[1], agg[3], agg[4], agg[6], agg[7]], [APP_AGG, "aggregate_orders · sluice", "4", "2.0 GiB", "1m 01s", "FINISHED"]);
      assert.match(agg[2], new RegExp(`^${DAG_ID}\\.aggregate\\n${runId.replace(/[.+]/g, "\\$&")} · try 1$`));
      assert.match(agg[5], /12 minutes ago/);
      const score = await cells(`spark-app-${APP_SCORE}`);
      assert.match(score[2], new RegExp(`^${DAG_ID}\\.score_part\\[1\\]\\n.* · try 2$`));
      assert.equal(score[7], "RUNNING");
      // Applications Sluice did not launch have no link.
      assert.equal(await page.getByTestId(`spark-app-${APP_NOTEBOOK}`).getByTestId("spark-task-link").count(), 0);
      assert.equal((await cells(`spark-app-${APP_NOTEBOOK}`))[2], "—");
      assert.equal(await page.getByTestId(`spark-app-${APP_OLD}`).getByTestId("spark-task-link").count(), 0);
      const drv = await cells(`spark-driver-${DRIVER_SCORE}`);
      assert.equal(drv[1], "org.apache.spark.deploy.SparkSubmit");
      assert.match(drv[2], new RegExp(`^${DAG_ID}\\.score_part\\[1\\]`));
      assert.equal(drv[3], "127.0.0.1:41001", "the driver's worker by its address");
      assert.equal(await page.getByTestId(`spark-driver-${DRIVER_SCORE}`).locator("td").nth(3).locator("span").getAttribute("title"), W1);
      assert.equal(await page.getByTestId(`spark-driver-${DRIVER_OLD}`).getByTestId("spark-task-link").count(), 0);

      if (dialect === "sqlite") {
        await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
        await screenshot(page, "spark-cluster");
      }

      // An application's link opens its task instance's panel on the DAG page.
      await page.getByTestId(`spark-app-${APP_AGG}`).getByTestId("spark-task-link").click();
      await page.waitForURL((u) => u.pathname === `/dags/${DAG_ID}/grid` && u.searchParams.get("run") === runId && u.searchParams.get("task") === "aggregate");
      assert.equal(new URL(page.url()).searchParams.get("mapIndex"), null, "no map index for an unmapped task");
      const panel = page.getByTestId("task-panel");
      await ui("aggregate's panel", panel.getByRole("heading", { name: "aggregate" }).waitFor());
      await page.goBack();

      // A mapped instance's link carries its map index.
      await page.getByTestId(`spark-driver-${DRIVER_SCORE}`).getByTestId("spark-task-link").click();
      await page.waitForURL((u) => u.searchParams.get("task") === "score_part" && u.searchParams.get("mapIndex") === "1");
      await ui("score_part[1]'s panel", panel.getByRole("heading", { name: "score_part[1]" }).waitFor());
      assert.equal(await panel.getByRole("button", { name: "Instance 1: Success" }).getAttribute("aria-current"), "true");
      assert.equal(loads, 0, "following the links reloaded the page");
    });

    it("a Spark task's result links to its cluster, with its application and driver highlighted", async () => {
      const panel = page.getByTestId("task-panel");
      await panel.getByRole("tab", { name: "Result" }).click();
      const link = panel.getByTestId("spark-result").getByTestId("spark-cluster-link");
      await ui("the link to the cluster", link.filter({ hasText: CONN }).waitFor());
      await link.click();
      await page.waitForURL((u) => u.pathname === "/spark" && u.searchParams.get("conn") === CONN && u.searchParams.get("app") === APP_SCORE && u.searchParams.get("driver") === DRIVER_SCORE);
      await ui("the application's row", page.getByTestId(`spark-app-${APP_SCORE}`).waitFor());
      assert.equal(await page.getByTestId(`spark-app-${APP_SCORE}`).getAttribute("aria-current"), "true");
      assert.equal(await page.getByTestId(`spark-driver-${DRIVER_SCORE}`).getAttribute("aria-current"), "true");
      assert.equal(await page.getByTestId(`spark-app-${APP_AGG}`).getAttribute("aria-current"), null);
      assert.equal(loads, 0);
    });

    it("the page follows the master without a reload", async () => {
      const reads = master.reads();
      const s = clusterState(Date.now());
      // score_part[1]'s application and driver finish; the cores come back.
      const done = s.activeApps.shift()!;
      s.completedApps.unshift({ ...done, state: "FINISHED", durationMs: 200_000 });
      s.completedDrivers.unshift({ ...s.activeDrivers.shift()!, state: "FINISHED" });
      s.workers[0].coresUsed = 1;
      master.state = s;
      await until("the finished application among the completed ones", async () => JSON.stringify(await rowIds(page, "spark-apps-completed", "spark-app-")) === JSON.stringify([APP_SCORE, APP_AGG, APP_OLD]));
      assert.deepEqual(await rowIds(page, "spark-apps-running", "spark-app-"), [APP_NOTEBOOK]);
      assert.match(await page.getByTestId("spark-drivers-running").innerText(), /No running drivers/);
      assert.match(await page.getByTestId("spark-cores").innerText(), /^2\s+\/ 8$/);
      assert.equal((await page.getByTestId(`spark-app-${APP_SCORE}`).locator("td").allInnerTexts())[7], "FINISHED");
      assert.ok(master.reads() > reads, "the page asked the master again");
      assert.equal(loads, 0, "the page was reloaded");
    });

    it("a stopped master shows the error panel with the API's message; a restarted one the cluster again", async () => {
      await master.stop();
      const err = page.getByTestId("spark-error");
      await ui("the error panel", err.waitFor({ timeout: PROGRESS_MS }));
      const api = await call("GET", `/spark/clusters/${CONN}`);
      assert.equal(api.status, 502);
      assert.equal(api.json.error.code, "SPARK_MASTER_UNREACHABLE");
      assert.equal(await page.getByTestId("spark-error-message").innerText(), api.json.error.message);
      assert.match(await err.innerText(), /The Spark master is unreachable/);
      assert.match(await err.innerText(), new RegExp(`${master.url.replace(/[.]/g, "\\.")}/json/`));
      // Nothing from before it went away is shown as if it were current.
      assert.equal(await page.locator('[data-testid^="spark-worker-"]').count(), 0);
      assert.equal(await page.getByTestId("spark-summary").count(), 0);
      if (dialect === "sqlite") await screenshot(page, "spark-master-unreachable");

      await master.start();
      await ui("the cluster again", page.getByTestId(`spark-worker-${W1}`).waitFor({ timeout: PROGRESS_MS }));
      assert.equal(await err.count(), 0);
      assert.equal(loads, 0, "the page was reloaded");
    });

    it("a viewer has the Spark page too", async () => {
      const created = await call("POST", "/users", { username: VIEWER.username, password: VIEWER.password, role: "viewer" });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      await browser.context.clearCookies();
      await signIn(page, base, VIEWER.username, VIEWER.password, { timeoutMs: PROGRESS_MS });
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Spark" }).click();
      await ui("the workers, for a viewer", page.getByTestId(`spark-worker-${W1}`).waitFor());
      assert.equal(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).count(), 0);
      await page.getByTestId(`spark-app-${APP_AGG}`).getByTestId("spark-task-link").click();
      await ui("the panel, for a viewer", page.getByTestId("task-panel").getByRole("heading", { name: "aggregate" }).waitFor());
    });
  });
}
