/**
 * Spark on Kubernetes through the spark-operator, end to end through the
 * Spark task runtime (runSparkTask, with the attempt's real services: the
 * connection decrypted from the store, spark_app records) and the real
 * @kubernetes/client-node, against the test API server of
 * test/helpers/fakeKubeApi.ts, which validates every SparkApplication
 * against the operator's CRD schema. The test plays the operator and the
 * kubelet: it moves the application's status and writes the driver's log.
 * No real Kubernetes cluster or operator is involved.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import type { AttemptOutcome } from "../../src/runner/finishAttempt.js";
import { runSparkTask } from "../../src/runner/sparkTask.js";
import { attemptServices } from "../../src/runner/taskServices.js";
import { SecretBox, type SecretsConfig } from "../../src/secrets/secretBox.js";
import type { TaskContext } from "../../src/sdk/context.js";
import { dag, type SparkTaskOptions } from "../../src/sdk/dag.js";
import type { SparkTaskResult } from "../../src/sdk/taskKinds.js";
import { attemptName } from "../../src/spark/kubeNames.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";
import { FakeKubeApi } from "../helpers/fakeKubeApi.js";

const TOKEN = "test-sa-token";
const NS = "spark-jobs";
const DRIVER = "spark-kubernetes-driver";

async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const dialect of DIALECTS) {
  describe(`Spark on Kubernetes, operator mode (${dialect})`, () => {
    let store: Store;
    let fake: FakeKubeApi;
    let secrets: SecretsConfig;
    let home: string;
    let runNo = 0;
    const cleanups: (() => Promise<void>)[] = [];

    before(async () => {
      fake = new FakeKubeApi(TOKEN);
      await fake.start();
      store = await freshStore(dialect, "spark_k8s");
      home = mkdtempSync(join(tmpdir(), "sluice-k8s-"));
      secrets = { home, secrets: { key: randomBytes(32).toString("base64") } };
      const box = new SecretBox(secrets);
      // The test server speaks plain HTTP, which the client only allows with TLS verification off (as for kubectl proxy).
      const extra = { kubernetes: { mode: "operator", namespace: NS, image: "apache/spark:4.0.1-python3", serviceAccount: "spark", pollIntervalMs: 50, insecureSkipTlsVerify: true } };
      for (const [id, token] of [["spark_k8s", TOKEN], ["spark_k8s_wrong_token", "nope"]] as const) {
        await store.connections.create({ conn_id: id, conn_type: "spark", host: `k8s://${fake.url}`, port: null, login: null, password: await box.encrypt(token), schema_name: null, extra: await box.encrypt(JSON.stringify(extra)), description: null, updated_at: Date.now() });
      }
    });
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });
    after(async () => {
      await fake.stop();
      await store.close();
      rmSync(home, { recursive: true, force: true });
    });

    /** Start one attempt of a Spark task the way runTaskCode does; the test then plays the operator. */
    function start(opts: Partial<SparkTaskOptions<any, [], {}>> = {}) {
      const runId = `manual__2026-03-0${++runNo}T00:00:00.000Z`;
      const d = dag({ id: "k8s_features", schedule: null }, (dd) => {
        dd.spark("crunch", { connection: "spark_k8s", application: "local:///opt/spark/work-dir/crunch.py", args: (ctx) => ["--run", ctx.runId], executorCores: 2, executorMemory: "1g", numExecutors: 2, ...opts });
      });
      const def = d.tasks.get("crunch")!;
      const controller = new AbortController();
      const lines: string[] = [];
      const identity = { tiId: 1000 + runNo, dagId: "k8s_features", runId, taskId: "crunch", mapIndex: -1, tryNumber: 1 };
      const services = attemptServices(store, secrets, identity);
      cleanups.push(() => services.dispose());
      const ctx = {
        dagId: identity.dagId,
        runId,
        taskId: "crunch",
        mapIndex: -1,
        tryNumber: 1,
        maxTries: 1,
        logicalDate: new Date(0),
        dataInterval: { start: new Date(0), end: new Date(0) },
        params: {},
        conf: {},
        log: { debug() {}, info() {}, warn() {}, error() {} },
        signal: controller.signal,
        outletExtra() {},
      } as TaskContext<any>;
      const outcome: Promise<AttemptOutcome> = runSparkTask(
        { def, ctx, upstreamResults: {}, services, dagDir: home, maxResultBytes: 65_536, write: (_s, text) => lines.push(text) },
        {},
      );
      const name = attemptName(identity);
      return { outcome, controller, log: () => lines.join(""), name, pod: `${name}-driver`, identity };
    }

    /** The created object; the attempt's outcome in the error if it ended before creating one. */
    function created(t: ReturnType<typeof start>) {
      return Promise.race([fake.created(NS, t.name), t.outcome.then((o) => Promise.reject(new Error(`the attempt ended before creating its SparkApplication: ${JSON.stringify(o)}`)))]);
    }

    /** Play the operator up to a running driver whose log is being followed. */
    async function running(t: ReturnType<typeof start>, appId: string) {
      const { name, pod } = t;
      await created(t);
      fake.setStatus(NS, name, { applicationState: { state: "SUBMITTED" }, driverInfo: {} });
      fake.addPod(NS, pod, DRIVER);
      fake.setStatus(NS, name, { applicationState: { state: "RUNNING" }, sparkApplicationId: appId, driverInfo: { podName: pod, webUIPort: 4040 } });
      await waitFor(() => fake.followers(NS, pod) === 1, 10_000, "the driver log to be followed");
    }

    it("success: creates a valid, labelled SparkApplication, follows the driver log, and ends with COMPLETED", async () => {
      const t = start();
      const app = await created(t);
      assert.equal(app.metadata.name, t.name);
      assert.equal(app.metadata.labels["sluice.io/dag-id"], "k8s_features");
      assert.equal(app.metadata.labels["sluice.io/run-id"], t.identity.runId.replaceAll(":", "_"));
      assert.equal(app.metadata.annotations["sluice.io/run-id"], t.identity.runId);
      assert.deepEqual(app.spec.arguments, ["--run", t.identity.runId], "per-run arguments computed for this run");
      assert.deepEqual([app.spec.executor.instances, app.spec.executor.cores, app.spec.executor.memory], [2, 2, "1g"]);
      assert.equal(app.spec.driver.labels["sluice.io/task-id"], "crunch");
      await running(t, "spark-4d2c0a8f9b1e4c7d8e6f");
      fake.appendLog(NS, t.pod, "26/03/01 INFO SparkContext: Running Spark version 4.0.1\n");
      fake.appendLog(NS, t.pod, "RESULT rows=5000 features=12\n");
      fake.endLog(NS, t.pod);
      fake.setStatus(NS, t.name, { applicationState: { state: "COMPLETED" }, sparkApplicationId: "spark-4d2c0a8f9b1e4c7d8e6f", driverInfo: { podName: t.pod } });
      const outcome = await t.outcome;
      assert.equal(outcome.kind, "success", JSON.stringify(outcome));
      const result = JSON.parse((outcome as { result: string }).result) as SparkTaskResult;
      assert.equal(result.state, "COMPLETED");
      assert.equal(result.appId, "spark-4d2c0a8f9b1e4c7d8e6f");
      assert.equal(result.driverId, t.name);
      assert.equal(result.deployMode, "cluster");
      assert.equal(result.master, `k8s://${fake.url}`);
      assert.match(t.log(), /RESULT rows=5000 features=12/);
      assert.match(t.log(), /SparkApplication .* is RUNNING[\s\S]*is COMPLETED/);
      const [rec] = await store.sparkApps.forTaskInstance(t.identity.tiId);
      assert.deepEqual([rec.app_id, rec.driver_id, rec.state, rec.deploy_mode, rec.master], ["spark-4d2c0a8f9b1e4c7d8e6f", t.name, "COMPLETED", "cluster", `k8s://${fake.url}`]);
      assert.ok(fake.apps.has(`${NS}/${t.name}`), "a finished application is left for inspection");
    });

    it("failure: FAILED fails the task (retryable) with the operator's message and the driver's traceback", async () => {
      const t = start();
      await running(t, "spark-00000000000000000001");
      fake.appendLog(NS, t.pod, 'Traceback (most recent call last):\n  File "/opt/spark/work-dir/crunch.py", line 9, in <module>\nValueError: no rows for 2026-03-02\n');
      fake.endLog(NS, t.pod);
      fake.setStatus(NS, t.name, { applicationState: { state: "FAILED", errorMessage: "driver container failed with ExitCode: 1, Reason: Error" }, driverInfo: { podName: t.pod } });
      const outcome = await t.outcome;
      assert.equal(outcome.kind, "failed");
      const f = outcome as Extract<AttemptOutcome, { kind: "failed" }>;
      assert.equal(f.retryable, true);
      assert.match(f.error, /^Spark task "crunch": SparkApplication spark-jobs\/\S+ ended FAILED: driver container failed with ExitCode: 1, Reason: Error/);
      assert.match(f.error, /ValueError: no rows for 2026-03-02/);
      assert.equal((await store.sparkApps.forTaskInstance(t.identity.tiId))[0].state, "FAILED");
    });

    it("cancel: stopping the attempt deletes the SparkApplication (and the operator's pods with it)", async () => {
      const t = start();
      await running(t, "spark-00000000000000000002");
      fake.appendLog(NS, t.pod, "working...\n");
      t.controller.abort(new Error("the attempt was cancelled"));
      const outcome = await t.outcome;
      assert.equal(outcome.kind, "failed");
      assert.match((outcome as { error: string }).error, /was deleted because the task was stopped/);
      // The delete is done by a detached process, so it happens even if this task process exits now.
      await waitFor(() => !fake.apps.has(`${NS}/${t.name}`), 15_000, "the SparkApplication to be deleted");
      assert.ok(fake.requests.some((r) => r.method === "DELETE" && r.path.endsWith(`/sparkapplications/${t.name}`) && r.status === 200));
      assert.equal(fake.pods.has(`${NS}/${t.pod}`), false);
      assert.match(t.log(), /Killing the Spark application \(SparkApplication spark-jobs\/\S+\)/);
      assert.equal((await store.sparkApps.forTaskInstance(t.identity.tiId))[0].state, "KILLED");
    });

    it("a name clash (409 AlreadyExists with another owner) fails without retry and says how to fix it", async () => {
      const nextRunId = `manual__2026-03-0${runNo + 1}T00:00:00.000Z`;
      const name = attemptName({ dagId: "k8s_features", runId: nextRunId, taskId: "crunch", mapIndex: -1, tryNumber: 1 });
      fake.apps.set(`${NS}/${name}`, { apiVersion: "sparkoperator.k8s.io/v1beta2", kind: "SparkApplication", metadata: { name, namespace: NS, annotations: {} }, spec: {} });
      const t = start();
      assert.equal(t.name, name);
      const outcome = (await t.outcome) as Extract<AttemptOutcome, { kind: "failed" }>;
      assert.equal(outcome.kind, "failed");
      assert.equal(outcome.retryable, false);
      assert.match(outcome.error, new RegExp(`A SparkApplication spark-jobs/${name} already exists and was not created by this attempt; delete it \\(kubectl delete sparkapplication -n spark-jobs ${name}\\)`));
      assert.ok(fake.requests.some((r) => r.method === "POST" && r.status === 409));
      fake.apps.delete(`${NS}/${name}`);
    });

    it("an object the API server rejects (422 Invalid against the CRD) fails without retry, with the server's reason", async () => {
      const t = start({ kubernetes: { labels: { team: 7 as unknown as string } } });
      const outcome = (await t.outcome) as Extract<AttemptOutcome, { kind: "failed" }>;
      assert.equal(outcome.kind, "failed");
      assert.equal(outcome.retryable, false);
      assert.match(outcome.error, /Kubernetes refused the SparkApplication spark-jobs\/\S+ \(HTTP 422\): SparkApplication\.sparkoperator\.k8s\.io "\S+" is invalid: .*spec\.driver\.labels\.team: must be string/);
      assert.equal(fake.apps.has(`${NS}/${t.name}`), false, "nothing was stored");
    });

    it("a wrong token (401) fails with a hint about the connection's password", async () => {
      const t = start({ connection: "spark_k8s_wrong_token" });
      const outcome = (await t.outcome) as Extract<AttemptOutcome, { kind: "failed" }>;
      assert.equal(outcome.kind, "failed");
      assert.equal(outcome.retryable, false);
      assert.match(outcome.error, /\(HTTP 401\).*Check the connection's password \(a bearer token\)/);
    });
  });
}
