/**
 * Spark tasks against a real standalone cluster (a master and two workers
 * started from the pyspark package, test/helpers/sparkCluster.ts), through
 * the real runner path: DAG files parsed by the DAG processor, runs created
 * and dispatched by the scheduler, attempts run by the local executor's task
 * processes, the connection read (decrypted) from the store.
 *
 * The cluster is shared by the file; each dialect gets its own store and
 * Sluice. The modes are split across the dialects to keep the file within
 * a few minutes on a 2-core machine (each Spark application costs 10-30 s of
 * JVM start-up): SQLite runs client-mode success, cluster-mode failure and a
 * cancelled client-mode application; PostgreSQL runs cluster-mode success,
 * client-mode failure and a cluster-mode driver killed by the task timeout.
 * Both check the cluster view API.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { cancelRun } from "../../src/runs/cancelRun.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { SecretBox } from "../../src/secrets/secretBox.js";
import type { SparkTaskResult } from "../../src/sdk/taskKinds.js";
import type { Store } from "../../src/store/store.js";
import type { TaskInstanceRow } from "../../src/store/taskQueries.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { prng } from "../helpers/prng.js";
import { liveMembers, startSparkCluster, type SparkCluster } from "../helpers/sparkCluster.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const JOBS = join(REPO_ROOT, "test", "spark", "jobs");
const silent = pino({ level: "silent" });
const CONN = "spark_test";
const ROWS = 60_000;
const KEYS = 6;

/** Every Spark application of the tests asks for little: the machine has 2 cores and 2 GiB of workers. */
const DAGS = `import { dag } from "sluice";
const small = {
  connection: "${CONN}",
  driverMemory: "512m",
  executorMemory: "512m",
  numExecutors: 1,
  conf: { "spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2" },
};
const io = { args: (ctx: any) => [String(ctx.params.input), String(ctx.params.output)] };
const params = { input: "", output: "" };
export const aggClient = dag({ id: "spark_agg_client", schedule: null, params }, (d) => {
  d.spark("aggregate", { ...small, ...io, application: "jobs/aggregate.py", deployMode: "client" });
});
export const aggCluster = dag({ id: "spark_agg_cluster", schedule: null, params }, (d) => {
  d.spark("aggregate", { ...small, ...io, application: "jobs/aggregate.py", deployMode: "cluster" });
});
export const failClient = dag({ id: "spark_fail_client", schedule: null }, (d) => {
  d.spark("explode", { ...small, application: "jobs/fail.py", deployMode: "client" });
});
export const failCluster = dag({ id: "spark_fail_cluster", schedule: null }, (d) => {
  d.spark("explode", { ...small, application: "jobs/fail.py", deployMode: "cluster" });
});
export const slowClient = dag({ id: "spark_slow_client", schedule: null }, (d) => {
  d.spark("forever", { ...small, application: "jobs/slow.py", args: ["sluice-slow-client"], deployMode: "client" });
});
export const slowCluster = dag({ id: "spark_slow_cluster", schedule: null }, (d) => {
  d.spark("forever", { ...small, application: "jobs/slow.py", args: ["sluice-slow-cluster"], deployMode: "cluster", timeout: "20s" });
});
`;

/** Processes (not zombies) whose command line contains `text`, from /proc. */
function processesWith(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.startsWith("Z")) continue;
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(text)) out.push(Number(name));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let cluster: SparkCluster;
let root: string;
let dagsDir: string;
let input: string;
const expected: Record<string, { n: number; total: number }> = {};

before(async () => {
  root = mkdtempSync(join(tmpdir(), "sluice-spark-"));
  dagsDir = join(root, "dags");
  mkdirSync(join(dagsDir, "jobs"), { recursive: true });
  writeFileSync(join(dagsDir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(join(dagsDir, "spark_dags.ts"), DAGS);
  for (const f of ["aggregate.py", "fail.py", "slow.py"]) copyFileSync(join(JOBS, f), join(dagsDir, "jobs", f));
  // The data set and the answer computed here, independently of Spark.
  const rand = prng(20260301);
  const lines = ["key,value"];
  for (let i = 0; i < ROWS; i++) {
    const key = `k${Math.floor(rand() * KEYS)}`;
    const value = Math.floor(rand() * 10_000) - 1_000;
    lines.push(`${key},${value}`);
    const e = (expected[key] ??= { n: 0, total: 0 });
    e.n++;
    e.total += value;
  }
  input = join(root, "events.csv");
  writeFileSync(input, `${lines.join("\n")}\n`);
  cluster = await startSparkCluster(join(root, "cluster"));
  process.stdout.write(`# spark cluster (master + 2 workers) up in ${cluster.startMs} ms\n`);
});

after(async () => {
  await cluster?.stop();
  for (const g of cluster?.groups ?? []) assert.deepEqual(liveMembers(g), [], `nothing of Spark daemon group ${g} is left running`);
  if (root) rmSync(root, { recursive: true, force: true });
});

for (const dialect of DIALECTS) {
  describe(`Spark standalone tasks (${dialect})`, () => {
    let sluice: Sluice;
    let store: Store;
    let api: ApiApp;
    let viewer: { authorization: string };
    /** Application and driver ids this dialect's tasks launched, with the attempt that did. */
    const launched: { appId?: string; driverId?: string; dagId: string; runId: string; taskId: string }[] = [];

    before(async () => {
      const target = await freshTarget(dialect, "spark");
      const config = defaultConfig();
      config.home = join(root, `home-${dialect}`);
      config.dagsFolder = dagsDir;
      config.db.url = targetUrl(target);
      config.secrets.key = randomBytes(32).toString("base64");
      config.scheduler.loopIntervalMs = 100;
      config.scheduler.heartbeatIntervalMs = 300;
      config.scheduler.dagScanIntervalMs = 3_600_000;
      config.executor.slots = 2;
      sluice = await createSluice(config, silent);
      store = sluice.store;
      const box = new SecretBox(config);
      const extra = { restUrl: cluster.restUrl, webUiUrl: cluster.webUiUrl, sparkHome: cluster.sparkHome, pythonPath: cluster.python, pollIntervalMs: 250 };
      await store.connections.create({ conn_id: CONN, conn_type: "spark", host: "spark://127.0.0.1", port: cluster.port, login: null, password: null, schema_name: null, extra: await box.encrypt(JSON.stringify(extra)), description: null, updated_at: Date.now() });
      // Two more for the API: a master that does not answer, and Kubernetes.
      const down = { webUiUrl: `http://127.0.0.1:9`, restUrl: "http://127.0.0.1:9" };
      await store.connections.create({ conn_id: "spark_down", conn_type: "spark", host: "spark://127.0.0.1:7", port: null, login: null, password: null, schema_name: null, extra: await box.encrypt(JSON.stringify(down)), description: null, updated_at: Date.now() });
      await store.connections.create({ conn_id: "spark_k8s", conn_type: "spark", host: "k8s://https://10.0.0.1:6443", port: null, login: null, password: await box.encrypt("token"), schema_name: null, extra: await box.encrypt(JSON.stringify({ kubernetes: { mode: "operator", namespace: "jobs", image: "spark:4.0.1" } })), description: null, updated_at: Date.now() });
      const scan = await sluice.processor.scan();
      assert.equal(scan.errors, 0, JSON.stringify(await store.dags.importErrors()));
      assert.equal(scan.dags, 6);
      await sluice.start();
      api = createApiServer({ store, config, log: silent, ui: false });
      await createUser(store, { username: "viewer", role: "viewer", password: "a long viewer password" });
      viewer = { authorization: `Bearer ${(await createToken(store, "viewer", "spark-test")).token}` };
    });

    after(async () => {
      await api?.close();
      await sluice?.stop();
    });

    async function run(dagId: string, conf: Record<string, unknown> = {}) {
      const runId = `${dagId}__${dialect}`;
      const r = await triggerRun(store, dagId, { runId, conf });
      sluice.scheduler.wake();
      return { runId, run: r };
    }
    async function finished(runPk: number, ms = 150_000): Promise<TaskInstanceRow> {
      const run = await waitFor(async () => {
        const r = await store.runs.byPk(runPk);
        return r && (r.state === "success" || r.state === "failed") ? r : undefined;
      }, ms, `run ${runPk} to finish`);
      const [ti] = await store.tasks.forRun(run.id);
      return ti;
    }
    async function logOf(ti: TaskInstanceRow): Promise<string> {
      return (await store.logs.read(ti.id, ti.try_number, { limit: 100_000 })).map((l) => l.line).join("\n");
    }
    const resultOf = (ti: TaskInstanceRow) => JSON.parse(ti.result!) as SparkTaskResult;

    async function aggregates(mode: "client" | "cluster", t: { diagnostic(m: string): void }) {
      const output = join(root, `result-${dialect}-${mode}.json`);
      const started = Date.now();
      const { runId, run: r } = await run(`spark_agg_${mode}`, { input, output });
      const ti = await finished(r.id);
      t.diagnostic(`${mode}-mode aggregation: ${Date.now() - started} ms from trigger to recorded success`);
      const log = await logOf(ti);
      assert.equal(ti.state, "success", `${ti.error}\n${log.slice(-3000)}`);
      // The numbers Spark computed are the ones computed here.
      assert.deepEqual(JSON.parse(readFileSync(output, "utf8")), expected);
      const result = resultOf(ti);
      assert.equal(result.state, "FINISHED");
      assert.equal(result.deployMode, mode);
      assert.equal(result.master, cluster.master);
      assert.match(result.appId ?? "", /^app-\d{14}-\d{4}$/);
      // The driver's own output reached the task log (in cluster mode: copied from the worker).
      assert.match(log, new RegExp(`RESULT .*"k0": \\{"n": ${expected.k0.n}, "total": ${expected.k0.total}\\}`));
      const [rec] = await store.sparkApps.forTaskInstance(ti.id);
      assert.equal(rec.app_id, result.appId);
      assert.equal(rec.state, "FINISHED");
      assert.equal(rec.deploy_mode, mode);
      if (mode === "cluster") {
        assert.match(result.driverId ?? "", /^driver-\d{14}-\d{4}$/);
        assert.equal(rec.driver_id, result.driverId);
      }
      const master = await cluster.status();
      assert.equal(master.completedapps.find((a: { id: string }) => a.id === result.appId)?.state, "FINISHED");
      launched.push({ appId: result.appId, driverId: result.driverId, dagId: `spark_agg_${mode}`, runId, taskId: "aggregate" });
    }

    async function failsWithTheDriversError(mode: "client" | "cluster", t: { diagnostic(m: string): void }) {
      const started = Date.now();
      const { runId, run: r } = await run(`spark_fail_${mode}`);
      const ti = await finished(r.id);
      t.diagnostic(`${mode}-mode failing job: ${Date.now() - started} ms`);
      assert.equal(ti.state, "failed");
      // The task's error names how the application ended and carries the Python exception.
      assert.match(ti.error ?? "", mode === "client" ? /spark-submit \(client mode, app-[\d-]+\) exited with code [1-9]/ : /Spark driver driver-[\d-]+ ended FAILED/);
      assert.match(ti.error ?? "", /ValueError: sluice-test: refusing to continue after counting 10 rows/);
      const log = await logOf(ti);
      assert.match(log, /Traceback \(most recent call last\)/);
      assert.match(log, /ValueError: sluice-test: refusing to continue/);
      const [rec] = await store.sparkApps.forTaskInstance(ti.id);
      assert.equal(rec.state, "FAILED");
      if (rec.app_id) launched.push({ appId: rec.app_id, driverId: rec.driver_id ?? undefined, dagId: `spark_fail_${mode}`, runId, taskId: "explode" });
    }

    /** Until the master shows the attempt's application running, its id recorded. */
    async function runningApp(runPk: number): Promise<{ ti: TaskInstanceRow; appId: string }> {
      return waitFor(async () => {
        const [ti] = await store.tasks.forRun(runPk);
        const [rec] = ti ? await store.sparkApps.forTaskInstance(ti.id) : [];
        if (!rec?.app_id) return undefined;
        const s = await cluster.status();
        return s.activeapps.some((a: { id: string; state: string }) => a.id === rec.app_id && a.state === "RUNNING") ? { ti, appId: rec.app_id } : undefined;
      }, 90_000, "the slow application to run");
    }

    async function nothingLeftRunning(marker: string, appId: string, wantAppState: RegExp) {
      const s = await cluster.waitFor(
        (m) => m.activeapps.length === 0 && m.activedrivers.length === 0 && m.completedapps.some((a: { id: string }) => a.id === appId),
        30_000,
        "no application or driver left running",
      );
      assert.match(s.completedapps.find((a: { id: string }) => a.id === appId).state, wantAppState);
      await waitFor(() => processesWith(marker).length === 0, 20_000, `no process running ${marker} (left: ${processesWith(marker).join(", ")})`);
      // The workers got their cores back.
      assert.equal(s.coresused, 0);
    }

    if (dialect === "sqlite") {
      it("client mode: a PySpark job aggregates the data set, its numbers match, the app is recorded", { timeout: 180_000 }, async (t) => {
        await aggregates("client", t);
      });

      it("cluster mode (REST): a failing job fails the task with the Python error in the message and the log", { timeout: 180_000 }, async (t) => {
        await failsWithTheDriversError("cluster", t);
      });

      it("client mode: cancelling the run kills the application (KILLED on the master) and its spark-submit", { timeout: 180_000 }, async (t) => {
        const started = Date.now();
        const { runId, run: r } = await run("spark_slow_client");
        const { ti, appId } = await runningApp(r.id);
        const cancelAt = Date.now();
        await cancelRun(store, (await store.runs.byPk(r.id))!, { by: "the spark test" });
        await nothingLeftRunning("sluice-slow-client", appId, /^KILLED$/);
        t.diagnostic(`client-mode cancel: app running after ${cancelAt - started} ms, gone ${Date.now() - cancelAt} ms after the cancel`);
        const done = await waitFor(async () => {
          const x = await store.tasks.get(ti.id);
          return x && x.state === "failed" ? x : undefined;
        }, 10_000, "the cancelled task to be failed");
        assert.match(done.error ?? "", /Cancelled by the spark test/);
        await waitFor(async () => /Killing the Spark application \(application app-[\d-]+ through http/.test(await logOf(ti)), 10_000, "the kill to be logged");
        launched.push({ appId, dagId: "spark_slow_client", runId, taskId: "forever" });
      });
    } else {
      it("cluster mode (REST): PySpark through SparkSubmit aggregates the data set, driver output streamed from the worker", { timeout: 180_000 }, async (t) => {
        await aggregates("cluster", t);
      });

      it("client mode: a failing job fails the task with the Python error in the message and the log", { timeout: 180_000 }, async (t) => {
        await failsWithTheDriversError("client", t);
      });

      it("cluster mode: the task's timeout kills the driver through the REST server", { timeout: 180_000 }, async (t) => {
        const started = Date.now();
        const { runId, run: r } = await run("spark_slow_cluster");
        const { ti, appId } = await runningApp(r.id);
        const [rec] = await store.sparkApps.forTaskInstance(ti.id);
        const done = await finished(r.id, 60_000);
        assert.equal(done.state, "failed");
        assert.match(done.error ?? "", /timeout of 20000 ms/);
        await nothingLeftRunning("sluice-slow-cluster", appId, /^(KILLED|FINISHED)$/);
        const m = await cluster.status();
        assert.equal(m.completeddrivers.find((d: { id: string }) => d.id === rec.driver_id)?.state, "KILLED");
        t.diagnostic(`cluster-mode timeout: ${Date.now() - started} ms from trigger to nothing left running`);
        assert.match(await logOf(done), /Killing the Spark application \(driver driver-[\d-]+ through http/);
        launched.push({ appId, driverId: rec.driver_id ?? undefined, dagId: "spark_slow_cluster", runId, taskId: "forever" });
      });
    }

    it("the cluster view lists the connections and shows the workers, with each application linked to its task instance", async () => {
      const get = async (url: string) => {
        const res = await api.inject({ method: "GET", url: `/api/v1${url}`, headers: viewer });
        return { status: res.statusCode, json: res.json() as any };
      };
      const list = await get("/spark/clusters");
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.json.clusters.map((c: any) => [c.connId, c.kind, c.master]),
        [
          ["spark_down", "standalone", "spark://127.0.0.1:7"],
          ["spark_k8s", "kubernetes", "k8s://https://10.0.0.1:6443"],
          [CONN, "standalone", cluster.master],
        ],
      );
      assert.ok(!JSON.stringify(list.json).includes("token"), "no secrets in the list");

      const view = await get(`/spark/clusters/${CONN}`);
      assert.equal(view.status, 200, JSON.stringify(view.json));
      const v = view.json;
      assert.equal(v.status, "ALIVE");
      assert.equal(v.aliveWorkers, 2);
      assert.deepEqual(v.cores, { total: 2, used: 0 });
      assert.deepEqual(v.memoryMb, { total: 2048, used: 0 });
      assert.equal(v.workers.length, 2);
      for (const w of v.workers) {
        assert.equal(w.state, "ALIVE");
        assert.equal(w.cores, 1);
        assert.equal(w.memoryMb, 1024);
        assert.match(w.webUiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      }
      assert.equal(v.applications.running.length, 0);
      assert.ok(launched.length >= 3, `the tests above launched applications (${JSON.stringify(launched)})`);
      for (const l of launched) {
        const app = v.applications.completed.find((a: any) => a.id === l.appId);
        assert.ok(app, `application ${l.appId} is listed`);
        assert.deepEqual(app.task, { dagId: l.dagId, runId: l.runId, taskId: l.taskId, mapIndex: -1, tryNumber: 1 });
        if (l.driverId) {
          const drv = v.drivers.completed.find((d: any) => d.id === l.driverId);
          assert.deepEqual(drv?.task, app.task, `driver ${l.driverId} is linked to the same attempt`);
        }
      }
      // Applications this store did not launch (the other dialect's) are listed without a link.
      const mine = new Set(launched.map((l) => l.appId));
      for (const a of v.applications.completed) if (!mine.has(a.id)) assert.equal(a.task, null);

      const down = await get("/spark/clusters/spark_down");
      assert.equal(down.status, 502);
      assert.equal(down.json.error.code, "SPARK_MASTER_UNREACHABLE");
      assert.match(down.json.error.message, /Could not reach the Spark master's status at http:\/\/127\.0\.0\.1:9\/json\//);
      const k8s = await get("/spark/clusters/spark_k8s");
      assert.equal(k8s.status, 400);
      assert.equal(k8s.json.error.code, "SPARK_CLUSTER_NOT_STANDALONE");
      const none = await get("/spark/clusters/nope");
      assert.equal(none.status, 404);
      assert.equal(none.json.error.code, "SPARK_CLUSTER_NOT_FOUND");
      const anonymous = await api.inject({ method: "GET", url: `/api/v1/spark/clusters/${CONN}` });
      assert.equal(anonymous.statusCode, 401);
    });
  });
}
