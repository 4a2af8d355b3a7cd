/**
 * Mapped task instances through the REST API on a real store (SQLite and
 * PostgreSQL): the instance list with counts by state, per-index detail, logs
 * and results, clearing and marking one index, and the errors that tell a
 * client to pass (or drop) mapIndex.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
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
const V1 = "/api/v1";

const mapped = dag({ id: "mapped", schedule: null }, (d) => {
  const parts = d.task("parts", async () => [1, 2, 3, 4]);
  const work = d.task("work", async (_c, { item }) => item * 10, { expand: parts });
  d.task("reduce", async (_c, { work }) => work.length, { upstream: [work] });
});

for (const dialect of DIALECTS) {
  describe(`mapped task instances in the API (${dialect})`, () => {
    let store: Store;
    let app: ApiApp;
    let token = "";
    let runPk = 0;
    const call = async (method: "GET" | "POST", url: string, payload?: unknown) => {
      const res = await app.inject({ method, url: V1 + url, payload: payload as object | undefined, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, json: res.body ? (res.json() as any) : null };
    };
    const instance = async (i: number) => (await store.tasks.byKey("mapped", "r1", "work", i))!;

    before(async () => {
      store = await freshStore(dialect, "api_mapped");
      const spec = mapped.toSpec("mapped.ts");
      await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      await createUser(store, { username: "op", role: "operator", password: "correct horse battery" });
      token = (await createToken(store, "op", "test")).token;
      const run = await triggerRun(store, "mapped", { runId: "r1", now: T0 });
      runPk = run.id;
      await store.runs.setState(run.id, ["queued"], { state: "running", start_date: T0 });
      // Expanded as the scheduler does, then two instances finish, one fails, one still runs.
      const r = await store.transaction((tx) => tx.mapped.expand(run.id, "work", { count: 4 }, T0));
      assert.deepEqual(r, { kind: "expanded", count: 4 });
      const set = async (i: number, patch: Record<string, unknown>) => store.db.updateTable("task_instance").set(patch).where("id", "=", (await instance(i)).id).execute();
      await set(0, { state: "success", try_number: 1, result: "10", end_date: T0 + 1000 });
      await set(1, { state: "success", try_number: 1, result: "20", end_date: T0 + 1000 });
      await set(2, { state: "failed", try_number: 1, error: "boom", end_date: T0 + 1000 });
      await set(3, { state: "running", try_number: 1, start_date: T0 });
      await store.logs.append([{ ti_id: (await instance(2)).id, try_number: 1, ts: T0, stream: "log", line: "index two says boom" }]);
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), onChange: () => {}, now: () => T0 + 5000 });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await store?.close();
    });

    it("lists the instances of a mapped task with counts by state, filtered and paged", async () => {
      const r = await call("GET", "/dags/mapped/runs/r1/tasks/work/instances");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.mapped, true);
      assert.equal(r.json.total, 4);
      assert.deepEqual(r.json.counts, { success: 2, failed: 1, running: 1 });
      assert.deepEqual(r.json.instances.map((t: any) => [t.mapIndex, t.state]), [[0, "success"], [1, "success"], [2, "failed"], [3, "running"]]);
      const failed = await call("GET", "/dags/mapped/runs/r1/tasks/work/instances?state=failed");
      assert.deepEqual(failed.json.instances.map((t: any) => t.mapIndex), [2]);
      const page = await call("GET", "/dags/mapped/runs/r1/tasks/work/instances?limit=2&offset=2");
      assert.deepEqual(page.json.instances.map((t: any) => t.mapIndex), [2, 3]);
      const plain = await call("GET", "/dags/mapped/runs/r1/tasks/reduce/instances");
      assert.equal(plain.json.mapped, false);
      assert.deepEqual(plain.json.instances.map((t: any) => t.mapIndex), [-1]);
      assert.equal((await call("GET", "/dags/mapped/runs/r1/tasks/nope/instances")).status, 404);
    });

    it("answers per-index detail, logs and results; without mapIndex the error says how many there are", async () => {
      const d = await call("GET", "/dags/mapped/runs/r1/tasks/work?mapIndex=2");
      assert.equal(d.status, 200);
      assert.equal(d.json.mapIndex, 2);
      assert.equal(d.json.state, "failed");
      const logs = await call("GET", "/dags/mapped/runs/r1/tasks/work/logs?mapIndex=2");
      assert.deepEqual(logs.json.lines.map((l: any) => l.line), ["index two says boom"]);
      const res = await call("GET", "/dags/mapped/runs/r1/tasks/work/result?mapIndex=1");
      assert.deepEqual(res.json, { value: 20, sizeBytes: 2 });
      const noIndex = await call("GET", "/dags/mapped/runs/r1/tasks/work");
      assert.equal(noIndex.status, 404);
      assert.match(noIndex.json.error.message, /is mapped \(4 instances\): pass mapIndex=0\.\.3/);
      const outside = await call("GET", "/dags/mapped/runs/r1/tasks/work?mapIndex=9");
      assert.match(outside.json.error.message, /has 4 mapped instances \(map index 0\.\.3\), not 9/);
      const unmapped = await call("GET", "/dags/mapped/runs/r1/tasks/reduce?mapIndex=1");
      assert.match(unmapped.json.error.message, /not a mapped task; leave mapIndex out/);
    });

    it("clears only the chosen index (with the reduce downstream), and marks one index", async () => {
      const dry = await call("POST", "/dags/mapped/runs/r1/tasks/work/clear?mapIndex=2", { downstream: true, dryRun: true });
      assert.equal(dry.status, 200, JSON.stringify(dry.json));
      assert.deepEqual(dry.json.cleared.map((c: any) => [c.taskId, c.mapIndex]), [["work", 2]], "the reduce has not run: nothing to clear there");
      const r = await call("POST", "/dags/mapped/runs/r1/tasks/work/clear?mapIndex=2", { downstream: true });
      assert.deepEqual(r.json.cleared.map((c: any) => [c.taskId, c.mapIndex, c.state]), [["work", 2, "failed"]]);
      assert.equal((await instance(2)).state, "none");
      assert.equal((await instance(0)).state, "success", "its siblings keep their state");

      const m = await call("POST", "/dags/mapped/runs/r1/tasks/work/mark?mapIndex=1", { state: "failed" });
      assert.equal(m.status, 200, JSON.stringify(m.json));
      assert.equal(m.json.mapIndex, 1);
      assert.equal((await instance(1)).state, "failed");
      assert.equal((await instance(0)).state, "success");

      const all = await call("POST", "/dags/mapped/runs/r1/tasks/work/clear", { onlyFailed: true });
      assert.deepEqual(all.json.cleared.map((c: any) => c.mapIndex), [1], "a clear without mapIndex covers every instance");
      assert.ok(runPk > 0);
    });
  });
}
