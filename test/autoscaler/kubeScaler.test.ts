/**
 * The Kubernetes actuator through the real @kubernetes/client-node against
 * test/helpers/fakeKubeScale.ts (a Deployment's scale subresource), alone and
 * driven by the autoscaler loop from a real store's queue depth.
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
import { FakeKubeScale } from "../helpers/fakeKubeScale.js";

const TOKEN = "scale-token";

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
    await scaler.scale("default", 5);
    assert.equal(api.deployments.get("sluice/sluice-worker")!.replicas, 5);
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
        const rows = await store.autoscaler.list({ queue: "gpu" });
        assert.deepEqual(rows.map((r) => [r.current_replicas, r.desired_replicas, r.actuator]), [[0, 4, "kubernetes"], [4, 4, "kubernetes"], [4, 0, "kubernetes"]]);
      } finally {
        await store.close();
      }
    });
  }
});
