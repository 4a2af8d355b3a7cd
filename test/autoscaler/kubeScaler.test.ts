/**
 * The Kubernetes actuator through the real @kubernetes/client-node against
 * test/helpers/fakeKubeScale.ts (a Deployment's scale subresource), alone and
 * driven by the autoscaler loop from a real store's queue depth. Every Scale
 * body the actuator sends is validated against the official autoscaling/v1
 * Scale schema (schemas/kubernetes, strict).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { Autoscaler } from "../../src/autoscaler/autoscaler.js";
import { KubeDeploymentScaler } from "../../src/autoscaler/kubeDeploymentScaler.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag } from "../../src/sdk/dag.js";
import { DIALECTS, freshStore } from "../helpers/db.js";
import { manifestValidator } from "../deploy/k8sSchemas.js";
import { FakeKubeScale } from "../helpers/fakeKubeScale.js";

const TOKEN = "scale-token";
const validate = manifestValidator();

/** The PUT bodies `api` received since the last call: each must be a valid autoscaling/v1 Scale. */
function validPuts(api: FakeKubeScale): Record<string, any>[] {
  const bodies = api.putBodies.splice(0);
  assert.deepEqual(bodies.flatMap((b, i) => validate(b).map((p) => `PUT ${i}: ${p}`)), []);
  return bodies;
}

function kubeConfig(server: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP: client-node allows it only with skipTLSVerify.
    clusters: [{ name: "test", server, skipTLSVerify: true }],
    users: [{ name: "sluice", token }],
    contexts: [{ name: "test", cluster: "test", user: "sluice" }],
    currentContext: "test",
  });
  return kc;
}

const burst = dag({ id: "burst", schedule: null }, (d) => {
  for (let i = 0; i < 9; i++) d.task(`t${i}`, async () => i, { queue: "gpu" });
});

describe("Kubernetes Deployment actuator (scale subresource)", () => {
  const api = new FakeKubeScale(TOKEN);
  before(async () => {
    await api.start();
    api.addDeployment("sluice", "sluice-worker", 2);
    api.addDeployment("sluice", "sluice-worker-gpu", 0);
  });
  after(() => api.stop());

  it("reads and sets replicas with GET and PUT on …/deployments/<name>/scale", async () => {
    const scaler = new KubeDeploymentScaler({ kubeConfig: kubeConfig(api.url, TOKEN), namespace: "sluice", deployment: "sluice-worker" });
    assert.equal(await scaler.current("default"), 2);
    api.requests.length = 0;
    api.putBodies.length = 0;
    const version = api.deployments.get("sluice/sluice-worker")!.resourceVersion;
    await scaler.scale("default", 5);
    assert.equal(api.deployments.get("sluice/sluice-worker")!.replicas, 5);
    assert.deepEqual(validPuts(api), [{ apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "sluice-worker", namespace: "sluice", resourceVersion: String(version) }, spec: { replicas: 5 } }]);
    assert.deepEqual(
      api.requests.map((r) => [r.method, r.path, r.status]),
      [
        ["GET", "/apis/apps/v1/namespaces/sluice/deployments/sluice-worker/scale", 200],
        ["PUT", "/apis/apps/v1/namespaces/sluice/deployments/sluice-worker/scale", 200],
      ],
    );
    assert.equal(await scaler.current("default"), 5);
    assert.equal(scaler.pids(), undefined, "pods are not measured from this machine");
  });

  it("names one Deployment per queue with {queue}; errors carry the API's status", async () => {
    const scaler = new KubeDeploymentScaler({ kubeConfig: kubeConfig(api.url, TOKEN), namespace: "sluice", deployment: "sluice-worker-{queue}" });
    assert.equal(scaler.deploymentOf("gpu"), "sluice-worker-gpu");
    await scaler.scale("gpu", 3);
    assert.equal(api.deployments.get("sluice/sluice-worker-gpu")!.replicas, 3);
    await assert.rejects(scaler.current("nosuch"), (err: { code?: number }) => err.code === 404);
    const bad = new KubeDeploymentScaler({ kubeConfig: kubeConfig(api.url, "wrong"), namespace: "sluice", deployment: "sluice-worker" });
    await assert.rejects(bad.scale("default", 1), (err: { code?: number }) => err.code === 401);
    assert.equal(api.deployments.get("sluice/sluice-worker")!.replicas, 5, "nothing changed");
    validPuts(api);
  });

  it("the schema check fails a broken Scale body", () => {
    const good: Record<string, unknown> = { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "w", namespace: "sluice" }, spec: { replicas: 2 } };
    assert.deepEqual(validate(good), []);
    const withSpec = (spec: unknown): Record<string, unknown> => ({ ...good, spec });
    assert.match(validate(withSpec({ replicas: "2" })).join("\n"), /spec\.replicas: must be integer/);
    assert.match(validate(withSpec({ replica: 2 })).join("\n"), /spec: must NOT have additional properties \(replica\)/);
    assert.match(validate({ ...good, apiVersion: "apps/v1" }).join("\n"), /no schema for apps\/v1\/Scale/);
  });

  for (const dialect of DIALECTS) {
    it(`the loop scales the Deployment from queue depth, then to zero (${dialect})`, async () => {
      const store = await freshStore(dialect, "kube_scale");
      try {
        const spec = burst.toSpec("burst.ts");
        await store.dags.upsert(spec, dagVersionHash(spec), 0, false);
        const run = await triggerRun(store, "burst", { runId: "r1" });
        await store.db.updateTable("task_instance").set({ state: "queued" }).where("run_pk", "=", run.id).execute();
        api.externalScale("sluice", "sluice-worker-gpu", 0);
        let clock = 1_000_000;
        const scaler = new Autoscaler({
          store,
          actuator: new KubeDeploymentScaler({ kubeConfig: kubeConfig(api.url, TOKEN), namespace: "sluice", deployment: "sluice-worker-{queue}" }),
          policy: { min: 0, max: 4, concurrency: 2, targets: {}, tolerance: 0.1, stabilizationWindowMs: 30_000, scaleUp: { pods: 4, percent: 100, periodMs: 15_000 } },
          queues: ["gpu"],
          intervalMs: 1000,
          log: pino({ level: "silent" }),
          now: () => clock,
        });
        const [up] = await scaler.tick();
        // ceil(9 / 2) = 5, clamped to max 4.
        assert.equal(up.desired, 4);
        assert.match(up.reason, /clamped to 4 by max/);
        assert.equal(api.deployments.get("sluice/sluice-worker-gpu")!.replicas, 4);
        await store.db.updateTable("task_instance").set({ state: "success" }).where("run_pk", "=", run.id).execute();
        clock += 10_000;
        assert.equal((await scaler.tick())[0].desired, 4, "held by the window");
        clock += 30_000;
        assert.equal((await scaler.tick())[0].desired, 0);
        assert.equal(api.deployments.get("sluice/sluice-worker-gpu")!.replicas, 0);
        assert.deepEqual(validPuts(api).filter((b) => b.metadata.name === "sluice-worker-gpu").map((b) => b.spec.replicas), [4, 0]);
        const rows = await store.autoscaler.list({ queue: "gpu" });
        assert.deepEqual(rows.map((r) => [r.current_replicas, r.desired_replicas, r.actuator]), [[0, 4, "kubernetes"], [4, 4, "kubernetes"], [4, 0, "kubernetes"]]);
      } finally {
        await store.close();
      }
    });
  }
  it("reads the workers' CPU and memory from metrics-server (the Deployment's own pods only) and scales on them; without metrics-server the queue rule decides", async () => {
    const store = await freshStore("sqlite", "kube_metrics");
    try {
      api.addDeployment("sluice", "metrics-gpu", 2);
      const own = { "app.kubernetes.io/component": "metrics-gpu" };
      api.podMetrics = [
        { namespace: "sluice", name: "w1", labels: own, containers: [{ name: "worker", cpu: "800000000n", memory: "500Mi" }, { name: "sidecar", cpu: "100m", memory: "100Mi" }] },
        { namespace: "sluice", name: "w2", labels: own, containers: [{ name: "worker", cpu: "900m", memory: "600Mi" }] },
        // Another Deployment's pod, and one in another namespace: not ours.
        { namespace: "sluice", name: "x", labels: { "app.kubernetes.io/component": "api" }, containers: [{ name: "api", cpu: "4", memory: "4Gi" }] },
        { namespace: "other", name: "y", labels: own, containers: [{ name: "worker", cpu: "4", memory: "4Gi" }] },
      ];
      const actuator = new KubeDeploymentScaler({ kubeConfig: kubeConfig(api.url, TOKEN), namespace: "sluice", deployment: "metrics-{queue}" });
      assert.deepEqual(await actuator.usage("gpu"), { cpu: 0.9, memory: 600 });

      const spec = burst.toSpec("burst.ts");
      await store.dags.upsert(spec, dagVersionHash(spec), 0, false);
      const run = await triggerRun(store, "burst", { runId: "r1" });
      await store.db.updateTable("task_instance").set({ state: "running" }).where("run_pk", "=", run.id).where("task_id", "=", "t0").execute();
      let clock = 2_000_000;
      const scaler = new Autoscaler({
        store,
        actuator,
        policy: { min: 0, max: 10, concurrency: 4, targets: { cpu: 0.5 }, tolerance: 0.1, stabilizationWindowMs: 0, scaleUp: { pods: 4, percent: 100, periodMs: 15_000 } },
        queues: ["gpu"],
        intervalMs: 1000,
        log: pino({ level: "silent" }),
        now: () => clock,
      });
      // The queue asks for ceil(1 / 4) = 1; CPU asks for ceil(2 × 0.9 / 0.5) = 4: the larger wins.
      const [hot] = await scaler.tick();
      assert.equal(hot.desired, 4, hot.reason);
      assert.equal(api.deployments.get("sluice/metrics-gpu")!.replicas, 4);
      const [row] = await store.autoscaler.list({ queue: "gpu" });
      assert.deepEqual([row.cpu, row.memory_mb], [0.9, 600]);

      // metrics-server gone (404): no resource input, the queue rule alone (one running task → 1).
      api.podMetrics = undefined;
      clock += 20_000;
      const [cold] = await scaler.tick();
      assert.equal(cold.desired, 1, cold.reason);
      const rows = await store.autoscaler.list({ queue: "gpu" });
      assert.equal(rows.find((r) => r.desired_replicas === 1)?.cpu, null);
      validPuts(api);
    } finally {
      api.podMetrics = undefined;
      await store.close();
    }
  });
});
