/**
 * GET /dags/{dagId}/grid on a real store (SQLite and PostgreSQL): task rows in
 * topological order, runs newest first and paged, cells aligned with the
 * tasks (null where a run has no such task), mapped tasks aggregated, and a
 * constant number of queries whatever the page size (no query per run).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KyselyPlugin } from "kysely";
import pino from "pino";
import { topologicalTasks } from "../../src/api/routes/grid.js";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";
import { dagSpec, taskSpec } from "../store/fixtures/specs.js";

const V1 = "/api/v1";
const DAY = 86_400_000;
const D0 = Date.UTC(2026, 0, 1);

// Declared out of order on purpose: "c" comes before the task it depends on.
const spec = dagSpec("grid", [
  taskSpec("c", { upstream: ["b"], triggerRule: "all_done" }),
  taskSpec("a"),
  taskSpec("b", { upstream: ["a"] }),
  taskSpec("d", { kind: "shell", command: "true" }),
]);
const hash = dagVersionHash(spec);

describe("topologicalTasks", () => {
  it("puts every task after its upstream, keeping declaration order among ready tasks", () => {
    assert.deepEqual(
      topologicalTasks(spec).map((t) => t.id),
      ["a", "b", "d", "c"],
    );
  });
});

for (const dialect of DIALECTS) {
  describe(`GET /dags/{dagId}/grid on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let counted: ApiApp;
    let queries = 0;
    let auth: { authorization: string };
    const call = async (url: string, server = app) => {
      const res = await server.inject({ method: "GET", url: V1 + url, headers: auth });
      return { status: res.statusCode, json: res.json() as any };
    };

    before(async () => {
      store = await freshStore(dialect, "grid");
      await store.dags.upsert(spec, hash, D0, false);
      await store.dags.upsert(dagSpec("empty", [taskSpec("x")]), "e1", D0, false);
      // 30 daily runs of the current version; run 10 was created by an older version without "d" and with a task since removed.
      for (let i = 0; i < 30; i++) {
        const old = i === 10;
        const run = await store.runs.create({
          dagId: "grid",
          runId: `r${String(i).padStart(2, "0")}`,
          runType: i === 29 ? "manual" : "scheduled",
          state: i === 29 ? "running" : i % 7 === 0 ? "failed" : "success",
          logicalDate: D0 + i * DAY,
          intervalStart: D0 + i * DAY,
          intervalEnd: D0 + (i + 1) * DAY,
          versionHash: old ? "oldversion" : hash,
          conf: {},
          params: {},
          tasks: old ? [taskSpec("a"), taskSpec("b"), taskSpec("c"), taskSpec("gone")] : spec.tasks,
          now: D0 + i * DAY,
        });
        if (i < 29) await store.runs.setState(run.id, [run.state as never], { state: run.state as never, start_date: D0 + (i + 1) * DAY, end_date: D0 + (i + 1) * DAY + 1000 * i });
        await store.db.updateTable("task_instance").set({ state: "success", try_number: 1 }).where("run_pk", "=", run.id).execute();
      }
      // The newest run: "b" is mapped over three items, "c" is on its second try.
      const newest = (await store.runs.get("grid", "r29"))!;
      await store.db.updateTable("task_instance").set({ state: "running", try_number: 2 }).where("run_pk", "=", newest.id).where("task_id", "=", "c").execute();
      const base = { run_pk: newest.id, dag_id: "grid", run_id: "r29", task_id: "b", max_tries: 1, priority_weight: 1, pool: "default_pool", pool_slots: 1, queue: "default", updated_at: D0 };
      await store.db
        .insertInto("task_instance")
        .values([
          { ...base, map_index: 0, state: "success", try_number: 1 },
          { ...base, map_index: 1, state: "running", try_number: 2 },
          { ...base, map_index: 2, state: "success", try_number: 1 },
        ])
        .execute();

      await createUser(store, { username: "viewer", role: "viewer", password: "correct horse battery" });
      auth = { authorization: `Bearer ${(await createToken(store, "viewer", "t")).token}` };
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }) });
      await app.ready();
      // The same store seen through a plugin that counts every statement the grid sends.
      const counter: KyselyPlugin = {
        transformQuery: (args) => {
          queries++;
          return args.node;
        },
        transformResult: async (args) => args.result,
      };
      counted = createApiServer({ store: new Store({ ...store.handle, db: store.db.withPlugin(counter) }), config: defaultConfig(), log: pino({ level: "silent" }) });
      await counted.ready();
    });
    after(async () => {
      await counted?.close();
      await app?.close();
      await store?.close();
    });

    it("answers the tasks in topological order and the newest runs first, with cells aligned to the tasks", async () => {
      const r = await call("/dags/grid/grid?limit=5");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.dagId, "grid");
      assert.equal(r.json.totalRuns, 30);
      assert.equal(r.json.offset, 0);
      assert.deepEqual(r.json.tasks, [
        { taskId: "a", kind: "function", upstream: [], triggerRule: "all_success", mapped: false },
        { taskId: "b", kind: "function", upstream: ["a"], triggerRule: "all_success", mapped: true },
        { taskId: "d", kind: "shell", upstream: [], triggerRule: "all_success", mapped: false },
        { taskId: "c", kind: "function", upstream: ["b"], triggerRule: "all_done", mapped: false },
      ]);
      assert.deepEqual(
        r.json.runs.map((x: { runId: string }) => x.runId),
        ["r29", "r28", "r27", "r26", "r25"],
      );
      const newest = r.json.runs[0];
      assert.equal(newest.state, "running");
      assert.equal(newest.runType, "manual");
      assert.equal(newest.durationMs, null, "a run that has not ended has no duration");
      assert.deepEqual(newest.cells, [
        { state: "success", tryNumber: 1 },
        { state: "running", tryNumber: 2, mapCount: 3, mapStates: { success: 2, running: 1 } },
        { state: "success", tryNumber: 1 },
        { state: "running", tryNumber: 2 },
      ]);
      const r28 = r.json.runs[1];
      assert.equal(r28.state, "failed", "every 7th run failed");
      assert.equal(r28.logicalDate, new Date(D0 + 28 * DAY).toISOString());
      assert.equal(r28.durationMs, 28_000);
      assert.equal(r28.versionHash, hash);
    });

    it("pages through the history; a run from an older version has null where it lacks a task", async () => {
      const page = await call("/dags/grid/grid?offset=18&limit=3");
      assert.deepEqual(
        page.json.runs.map((x: { runId: string }) => x.runId),
        ["r11", "r10", "r09"],
      );
      const old = page.json.runs[1];
      assert.equal(old.versionHash, "oldversion");
      assert.deepEqual(old.cells, [{ state: "success", tryNumber: 1 }, { state: "success", tryNumber: 1 }, null, { state: "success", tryNumber: 1 }]);
      assert.equal(page.json.tasks.find((t: { taskId: string }) => t.taskId === "b").mapped, false, "no mapped instance on this page");
      const past = await call("/dags/grid/grid?offset=30");
      assert.deepEqual(past.json.runs, []);
      assert.equal(past.json.totalRuns, 30);
      const empty = await call("/dags/empty/grid");
      assert.equal(empty.status, 200);
      assert.deepEqual([empty.json.totalRuns, empty.json.runs, empty.json.tasks.map((t: { taskId: string }) => t.taskId)], [0, [], ["x"]]);
    });

    it("costs the same few queries for 2 runs as for 30 (no query per run)", async () => {
      queries = 0;
      assert.equal((await call("/dags/grid/grid?limit=2", counted)).json.runs.length, 2);
      const small = queries;
      queries = 0;
      assert.equal((await call("/dags/grid/grid?limit=500", counted)).json.runs.length, 30);
      const large = queries;
      // The auth hook's token lookup is part of each count; the grid itself is the DAG, a page of runs, their count and their cells.
      assert.equal(large, small);
      assert.ok(small >= 4 && small <= 6, `${small} queries`);
    });

    it("answers 400 for a bad page and 404 for an unknown DAG", async () => {
      for (const q of ["limit=0", "limit=501", "limit=abc", "offset=-1"]) {
        const r = await call(`/dags/grid/grid?${q}`);
        assert.equal(r.status, 400, q);
        assert.equal(r.json.error.code, "VALIDATION_FAILED");
        assert.match(r.json.error.message, new RegExp(q.split("=")[0]));
      }
      const missing = await call("/dags/nope/grid");
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, "DAG_NOT_FOUND");
    });
  });
}
