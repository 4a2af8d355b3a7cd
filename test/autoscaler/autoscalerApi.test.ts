/**
 * The autoscaler's decisions through the store, GET /api/v1/autoscaler/decisions
 * and GET /metrics, on both dialects: a real run's task instances give the
 * queue depth, the real Autoscaler loop decides and records.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import type { Actuator } from "../../src/autoscaler/actuator.js";
import { Autoscaler } from "../../src/autoscaler/autoscaler.js";
import type { ScalePolicy } from "../../src/autoscaler/decide.js";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag } from "../../src/sdk/dag.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");

const work = dag({ id: "work", schedule: null }, (d) => {
  for (const t of ["a", "b", "c", "d", "e"]) d.task(t, async () => t);
  d.task("big", async () => 0, { queue: "highmem" });
});

/** Replicas held in memory: the loop's bookkeeping is under test here, not a pool. */
class Counter implements Actuator {
  readonly name = "local";
  readonly replicas = new Map<string, number>();
  async current(q: string) {
    return this.replicas.get(q) ?? 0;
  }
  async scale(q: string, n: number) {
    this.replicas.set(q, n);
  }
  pids() {
    return undefined;
  }
  async stop() {}
}

const policy: ScalePolicy = { min: 0, max: 10, concurrency: 2, targets: { cpu: 0.8 }, tolerance: 0.1, stabilizationWindowMs: 60_000, scaleUp: { pods: 4, percent: 100, periodMs: 15_000 } };

for (const dialect of DIALECTS) {
  describe(`autoscaler decisions API and /metrics on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let token = "";
    let clock = T0;
    const actuator = new Counter();

    before(async () => {
      store = await freshStore(dialect, "autoscaler_api");
      const spec = work.toSpec("work.ts");
      await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      const run = await triggerRun(store, "work", { runId: "r1", now: T0 });
      // Queue state as a queue executor leaves it: 3 queued and 2 running in "default", 1 queued in "highmem".
      const states: Record<string, string> = { a: "queued", b: "queued", c: "queued", d: "running", e: "running", big: "queued" };
      for (const [task, state] of Object.entries(states)) {
        await store.db.updateTable("task_instance").set({ state }).where("run_pk", "=", run.id).where("task_id", "=", task).execute();
      }
      await createUser(store, { username: "watcher", role: "viewer", password: "correct horse battery" });
      token = (await createToken(store, "watcher", "prometheus")).token;
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), now: () => Date.now() });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await store.close();
    });

    it("queue depth per queue from the store", async () => {
      const depth = await store.autoscaler.depth(["default", "highmem", "empty"]);
      assert.deepEqual(Object.fromEntries(depth), { default: { queued: 3, running: 2 }, highmem: { queued: 1, running: 0 }, empty: { queued: 0, running: 0 } });
    });

    it("each tick records one decision per queue with its inputs and reason; the API lists and filters them", async () => {
      const scaler = new Autoscaler({ store, actuator, policy, queues: ["default", "highmem"], intervalMs: 1000, log: pino({ level: "silent" }), now: () => clock });
      const first = await scaler.tick();
      assert.deepEqual(first.map((d) => [d.queue, d.current, d.desired]), [["default", 0, 3], ["highmem", 0, 1]]);
      assert.equal(actuator.replicas.get("default"), 3);
      clock += 10_000;
      await scaler.tick();

      const all = await app.inject({ method: "GET", url: "/api/v1/autoscaler/decisions?queue=default", headers: { authorization: `Bearer ${token}` } });
      assert.equal(all.statusCode, 200, all.body);
      const body = all.json();
      assert.equal(body.total, 2);
      assert.deepEqual(body.decisions[0], {
        id: body.decisions[0].id,
        queue: "default",
        at: new Date(T0).toISOString(),
        queued: 3,
        running: 2,
        currentReplicas: 0,
        proposedReplicas: 3,
        desiredReplicas: 3,
        cpu: null,
        memoryMb: null,
        networkBytesPerSec: null,
        proposals: { queue: 3 },
        reason: "scale up 0 → 3; queue: ceil((3 queued + 2 running) / 2) = 3",
        actuator: "local",
      });
      assert.equal(body.decisions[1].currentReplicas, 3);
      assert.match(body.decisions[1].reason, /^keep 3/);

      const since = await app.inject({ method: "GET", url: `/api/v1/autoscaler/decisions?since=${new Date(T0 + 5_000).toISOString()}`, headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(since.json().decisions.map((d: { queue: string; at: string }) => [d.queue, d.at]), [["default", new Date(T0 + 10_000).toISOString()], ["highmem", new Date(T0 + 10_000).toISOString()]]);

      const bad = await app.inject({ method: "GET", url: "/api/v1/autoscaler/decisions?since=yesterday", headers: { authorization: `Bearer ${token}` } });
      assert.equal(bad.statusCode, 400);
      const anon = await app.inject({ method: "GET", url: "/api/v1/autoscaler/decisions" });
      assert.equal(anon.statusCode, 401);
    });

    it("a restarted loop reloads the stabilisation window from the store and does not scale down early", async () => {
      // Everything finished: the queue rule now proposes 0, but 3 was proposed within the 60 s window.
      await store.db.updateTable("task_instance").set({ state: "success" }).where("queue", "=", "default").execute();
      clock += 10_000;
      const restarted = new Autoscaler({ store, actuator, policy, queues: ["default"], intervalMs: 1000, log: pino({ level: "silent" }), now: () => clock });
      await restarted.start();
      await restarted.stop();
      const [held] = await store.autoscaler.list({ queue: "default", since: clock });
      assert.equal(held.desired_replicas, 3);
      assert.match(held.reason, /^keep 3; queue: nothing queued or running/);
      clock += 60_001;
      const [down] = await restarted.tick();
      assert.equal(down.desired, 0);
      assert.equal(actuator.replicas.get("default"), 0);
    });

    it("GET /metrics: Prometheus text with the dashboard's names, behind an API token", async () => {
      const anon = await app.inject({ method: "GET", url: "/metrics" });
      assert.equal(anon.statusCode, 401);
      assert.match(anon.json().error.message, /Bearer/);
      const r = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.statusCode, 200);
      assert.match(String(r.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
      const lines = r.body.split("\n").filter((l) => l.startsWith("sluice_"));
      for (const expected of [
        'sluice_tasks_queued{queue="default"} 0',
        'sluice_tasks_queued{queue="highmem"} 1',
        'sluice_tasks_running{queue="default"} 0',
        'sluice_tasks_running{queue="highmem"} 0',
        'sluice_autoscaler_desired_replicas{queue="default"} 0',
        'sluice_autoscaler_current_replicas{queue="default"} 3',
        'sluice_autoscaler_desired_replicas{queue="highmem"} 1',
        'sluice_autoscaler_current_replicas{queue="highmem"} 1',
      ]) {
        assert.ok(lines.includes(expected), `${expected} in\n${lines.join("\n")}`);
      }
      assert.ok(lines.some((l) => l.startsWith('sluice_autoscaler_last_decision_timestamp_seconds{queue="default"}')));
      assert.match(r.body, /# TYPE sluice_worker_cpu_utilization gauge/);
      // Open when the API runs without auth.
      const open = createApiServer({ store, config: { ...defaultConfig(), api: { ...defaultConfig().api, auth: false } }, log: pino({ level: "silent" }) });
      try {
        assert.equal((await open.inject({ method: "GET", url: "/metrics" })).statusCode, 200);
      } finally {
        await open.close();
      }
    });
  });
}
