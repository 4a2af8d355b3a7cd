/**
 * The REST API against a real store (SQLite file and PostgreSQL database):
 * every route's happy path through fastify's inject(), the error answers a
 * client can provoke (400 with field names, 404, 409, 413) and the OpenAPI
 * document generated from the same schemas. One test listens on a real port.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { z } from "zod";
import { createApiServer } from "../../src/api/server.js";
import { createToken, createUser } from "../../src/auth/users.js";
import type { ApiApp } from "../../src/api/types.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag } from "../../src/sdk/dag.js";
import type { Store } from "../../src/store/store.js";
import { ADMIN_ROUTES } from "../helpers/apiRoutes.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const V1 = "/api/v1";

const etl = dag(
  {
    id: "etl",
    schedule: "0 2 * * *",
    start: "2026-01-01",
    description: "Nightly Feature build",
    owner: "ana",
    tags: ["ml", "ml_v1"],
    docs: "# ETL",
    params: z.object({ rows: z.number().int().min(1).default(100), mode: z.enum(["fast", "full"]).default("fast") }),
  },
  (d) => {
    const extract = d.task("extract", async () => 1, { retries: 2 });
    const transform = d.task("transform", async () => 2, { upstream: [extract] });
    d.shell("load", "echo load", { upstream: [transform] });
    d.task("report", async () => 3);
  },
);
const reports = dag({ id: "reports", schedule: null, owner: "bob", tags: ["mlxv1", "finance"] }, (d) => {
  d.task("only", async () => 1);
});
const zeta = dag({ id: "zeta", schedule: "15m", tags: ["ops"] }, (d) => {
  d.task("tick", async () => 1);
});

/** Every route the API serves: the OpenAPI document must list each one. */
const ROUTES = [
  ["get", "/health"],
  ["get", "/version"],
  ["post", "/auth/login"],
  ["post", "/auth/logout"],
  ["get", "/auth/me"],
  ["get", "/dags"],
  ["get", "/dags/{dagId}"],
  ["patch", "/dags/{dagId}"],
  ["get", "/dags/{dagId}/structure"],
  ["get", "/import-errors"],
  ["get", "/dags/{dagId}/runs"],
  ["post", "/dags/{dagId}/runs"],
  ["get", "/dags/{dagId}/runs/{runId}"],
  ["post", "/dags/{dagId}/runs/{runId}/clear"],
  ["get", "/dags/{dagId}/runs/{runId}/tasks"],
  ["get", "/dags/{dagId}/runs/{runId}/tasks/{taskId}"],
  ["get", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/instances"],
  ["get", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/logs"],
  ["post", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/mark"],
  ["post", "/dags/{dagId}/runs/{runId}/cancel"],
  ["post", "/dags/{dagId}/runs/{runId}/mark"],
  ["delete", "/dags/{dagId}/runs/{runId}"],
  ["delete", "/dags/{dagId}/runs"],
  ["get", "/dags/{dagId}/runs/durations"],
  ["get", "/dags/{dagId}/grid"],
  ["get", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/result"],
  ["post", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/clear"],
  ["get", "/events"],
  ["get", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/logs/stream"],
  ["get", "/datasets"],
  ["get", "/datasets/events"],
  ["get", "/dags/{dagId}/versions"],
  ["get", "/dags/{dagId}/source"],
  ["get", "/spark/clusters"],
  ["get", "/spark/clusters/{connId}"],
  ["get", "/autoscaler/decisions"],
  ["get", "/bundles"],
  ["get", "/alerts"],
  ["get", "/alerts/notifiers"],
  ["post", "/bundles/{name}/sync"],
  ["post", "/webhooks/github"],
  ...ADMIN_ROUTES,
] as const;

interface ErrorJson {
  error: { code: string; message: string; details?: { fields?: { field: string; message: string }[] } };
}

for (const dialect of DIALECTS) {
  describe(`REST API on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let changes = 0;
    let clock = T0;
    /** Every request authenticates as an admin with an API token (auth itself is covered by auth.test.ts). */
    let auth: { authorization: string };

    const call = async (method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) => {
      const res = await app.inject({ method, url: V1 + url, payload: payload as object | undefined, headers: auth });
      return { status: res.statusCode, json: res.json() as any, headers: res.headers };
    };
    const expectError = async (method: "GET" | "POST" | "PATCH", url: string, payload: unknown, status: number, code: string) => {
      const r = await call(method, url, payload);
      assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.json)}`);
      assert.equal((r.json as ErrorJson).error.code, code);
      assert.ok((r.json as ErrorJson).error.message.length > 0);
      return r.json as ErrorJson;
    };
    /** Put one task instance of a run into a state, as a finished or running attempt would. */
    const setTask = async (runId: string, taskId: string, patch: Record<string, unknown>) => {
      const ti = (await store.tasks.byKey("etl", runId, taskId))!;
      assert.ok(await store.tasks.cas(ti.id, [ti.state as never], { updated_at: clock, ...patch }));
      return ti.id;
    };

    before(async () => {
      store = await freshStore(dialect, "api");
      for (const d of [etl, reports, zeta]) {
        const spec = d.toSpec(`${d.id}.ts`);
        await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      }
      await store.dags.setPaused("reports", true, T0);
      await createUser(store, { username: "admin", role: "admin", password: "correct horse battery" });
      auth = { authorization: `Bearer ${(await createToken(store, "admin", "api-test")).token}` };
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), onChange: () => changes++, now: () => clock });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await store?.close();
    });

    it("GET /health reports the database and the age of the latest scheduler heartbeat", async () => {
      const before = await call("GET", "/health");
      assert.equal(before.status, 200);
      assert.deepEqual(before.json.database, { ok: true });
      assert.equal(before.json.scheduler.heartbeatAgeMs, null);
      await store.jobs.register("scheduler", hostname(), process.pid, T0 - 1500);
      const now = await call("GET", "/health");
      assert.equal(now.json.status, "ok");
      assert.equal(now.json.scheduler.heartbeatAgeMs, 1500);
      assert.equal(now.json.scheduler.lastHeartbeat, new Date(T0 - 1500).toISOString());
      assert.equal(now.json.scheduler.state, "running");
    });

    it("GET /version answers the package version", async () => {
      const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
      const r = await call("GET", "/version");
      assert.equal(r.status, 200);
      assert.equal(r.json.version, pkg.version);
    });

    it("GET /dags filters by tag, owner, paused and text, pages and sorts by id", async () => {
      const ids = async (q: string) => {
        const r = await call("GET", `/dags${q}`);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        return (r.json.dags as { dagId: string }[]).map((d) => d.dagId);
      };
      assert.deepEqual(await ids(""), ["etl", "reports", "zeta"]);
      // "_" is a LIKE wildcard: the tag "ml_v1" must not match "mlxv1".
      assert.deepEqual(await ids("?tag=ml_v1"), ["etl"]);
      assert.deepEqual(await ids("?tag=finance"), ["reports"]);
      assert.deepEqual(await ids("?owner=bob"), ["reports"]);
      assert.deepEqual(await ids("?paused=true"), ["reports"]);
      assert.deepEqual(await ids("?paused=false"), ["etl", "zeta"]);
      assert.deepEqual(await ids("?q=FEATURE"), ["etl"], "text search is case-insensitive and covers the description");
      assert.deepEqual(await ids("?q=%25"), [], "a % in the search text is literal");
      assert.deepEqual(await ids("?order=desc"), ["zeta", "reports", "etl"]);
      const page = await call("GET", "/dags?limit=2&offset=1");
      assert.deepEqual(
        page.json.dags.map((d: { dagId: string }) => d.dagId),
        ["reports", "zeta"],
      );
      assert.equal(page.json.total, 3);
      const etlRow = (await call("GET", "/dags?tag=ml")).json.dags[0];
      assert.equal(etlRow.scheduleDescription, "every day at 02:00 (UTC)");
      assert.deepEqual(etlRow.tags, ["ml", "ml_v1"]);
      assert.equal(etlRow.paused, false);
    });

    it("GET /dags/{dagId} answers the detail: schedule in words, next run, params and their schema", async () => {
      await store.dags.setNextInterval("etl", { start: Date.parse("2026-03-02T02:00:00Z"), end: Date.parse("2026-03-03T02:00:00Z") });
      const r = await call("GET", "/dags/etl");
      assert.equal(r.status, 200);
      assert.equal(r.json.scheduleDescription, "every day at 02:00 (UTC)");
      assert.deepEqual(r.json.nextRun, { logicalDate: "2026-03-02T02:00:00.000Z", runAfter: "2026-03-03T02:00:00.000Z" });
      assert.deepEqual(r.json.params, { rows: 100, mode: "fast" });
      assert.ok(r.json.paramsSchema.properties.rows, "the params JSON Schema names its fields");
      assert.equal(r.json.taskCount, 4);
      assert.equal(r.json.docs, "# ETL");
      assert.equal((await call("GET", "/dags/zeta")).json.scheduleDescription, "every 15 minutes");
      await expectError("GET", "/dags/nope", undefined, 404, "DAG_NOT_FOUND");
    });

    it("GET /dags/{dagId}/structure lists tasks with their neighbours and every edge", async () => {
      const r = await call("GET", "/dags/etl/structure");
      assert.equal(r.status, 200);
      const byId = new Map((r.json.tasks as { taskId: string }[]).map((t) => [t.taskId, t as any]));
      assert.deepEqual([...byId.keys()].sort(), ["extract", "load", "report", "transform"]);
      assert.deepEqual(byId.get("transform").upstream, ["extract"]);
      assert.deepEqual(byId.get("transform").downstream, ["load"]);
      assert.equal(byId.get("load").kind, "shell");
      assert.equal(byId.get("load").command, "echo load");
      assert.deepEqual(
        r.json.edges.map((e: { from: string; to: string }) => `${e.from}->${e.to}`).sort(),
        ["extract->transform", "transform->load"],
      );
      await expectError("GET", "/dags/etl/structure?version=deadbeef", undefined, 404, "DAG_NOT_FOUND");
    });

    it("PATCH /dags/{dagId} pauses and unpauses, and wakes the scheduler", async () => {
      const before = changes;
      const r = await call("PATCH", "/dags/zeta", { paused: true });
      assert.equal(r.status, 200);
      assert.equal(r.json.paused, true);
      assert.equal((await store.dags.get("zeta"))!.is_paused, 1);
      assert.equal(changes, before + 1);
      assert.equal((await call("PATCH", "/dags/zeta", { paused: false })).json.paused, false);
      const bad = await expectError("PATCH", "/dags/zeta", { paused: "yes" }, 400, "VALIDATION_FAILED");
      assert.match(bad.error.message, /paused/);
      assert.equal(bad.error.details!.fields![0].field, "paused");
      await expectError("PATCH", "/dags/zeta", { paused: true, colour: "red" }, 400, "VALIDATION_FAILED");
      await expectError("PATCH", "/dags/nope", { paused: true }, 404, "DAG_NOT_FOUND");
    });

    it("POST /dags/{dagId}/runs triggers a run with validated conf", async () => {
      const before = changes;
      const r = await call("POST", "/dags/etl/runs", { conf: { rows: 5 }, runId: "api_run_1", logicalDate: "2026-02-10T00:00:00Z" });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json.runId, "api_run_1");
      assert.equal(r.json.state, "queued");
      assert.equal(r.json.logicalDate, "2026-02-10T00:00:00.000Z");
      assert.deepEqual(r.json.params, { rows: 5, mode: "fast" });
      assert.equal(changes, before + 1);
      assert.equal((await store.runs.get("etl", "api_run_1"))!.state, "queued");
      // No body at all: defaults everywhere.
      const plain = await call("POST", "/dags/reports/runs");
      assert.equal(plain.status, 201, JSON.stringify(plain.json));
      assert.match(plain.json.runId, /^manual__/);
    });

    it("POST /dags/{dagId}/runs answers 400 naming the field for bad conf or wrong types, 404 and 409", async () => {
      const badConf = await expectError("POST", "/dags/etl/runs", { conf: { rows: 0, mode: "slow" } }, 400, "PARAMS_INVALID");
      assert.deepEqual(badConf.error.details!.fields!.map((f) => f.field).sort(), ["mode", "rows"]);
      assert.match(badConf.error.message, /rows/);
      const notObject = await expectError("POST", "/dags/etl/runs", { conf: "rows=5" }, 400, "VALIDATION_FAILED");
      assert.match(notObject.error.message, /conf/);
      const badDate = await expectError("POST", "/dags/etl/runs", { logicalDate: "yesterday" }, 400, "VALIDATION_FAILED");
      assert.equal(badDate.error.details!.fields![0].field, "logicalDate");
      await expectError("POST", "/dags/etl/runs", { runId: "a/b" }, 400, "VALIDATION_FAILED");
      await expectError("POST", "/dags/nope/runs", {}, 404, "DAG_NOT_FOUND");
      await triggerRun(store, "etl", { runId: "dup" });
      await expectError("POST", "/dags/etl/runs", { runId: "dup" }, 409, "RUN_EXISTS");
      assert.equal(await store.runs.count({ dagId: "etl", states: ["queued"] }), (await store.runs.list({ dagId: "etl" })).length, "no failed trigger left a run behind");
    });

    it("GET /dags/{dagId}/runs filters by state and logical date range and pages", async () => {
      for (let day = 1; day <= 5; day++) await triggerRun(store, "zeta", { runId: `z${day}`, logicalDate: new Date(`2026-01-0${day}T00:00:00Z`) });
      await store.runs.setState((await store.runs.get("zeta", "z2"))!.id, ["queued"], { state: "failed" });
      const ids = (r: { json: { runs: { runId: string }[] } }) => r.json.runs.map((x) => x.runId);
      const all = await call("GET", "/dags/zeta/runs");
      assert.deepEqual(ids(all), ["z5", "z4", "z3", "z2", "z1"], "newest logical date first");
      assert.equal(all.json.total, 5);
      assert.deepEqual(ids(await call("GET", "/dags/zeta/runs?state=failed")), ["z2"]);
      assert.deepEqual(ids(await call("GET", "/dags/zeta/runs?state=failed,queued&limit=2")), ["z5", "z4"]);
      const range = await call("GET", "/dags/zeta/runs?from=2026-01-02T00:00:00Z&to=2026-01-04T00:00:00Z");
      assert.deepEqual(ids(range), ["z4", "z3", "z2"]);
      assert.equal(range.json.total, 3);
      const page = await call("GET", "/dags/zeta/runs?limit=2&offset=2");
      assert.deepEqual(ids(page), ["z3", "z2"]);
      assert.equal(page.json.total, 5);
      const badState = await expectError("GET", "/dags/zeta/runs?state=done", undefined, 400, "VALIDATION_FAILED");
      assert.match(badState.error.message, /state/);
      await expectError("GET", "/dags/zeta/runs?from=last-week", undefined, 400, "VALIDATION_FAILED");
      await expectError("GET", "/dags/nope/runs", undefined, 404, "DAG_NOT_FOUND");

      // The DAG list carries each DAG's newest runs (the UI's run strip and last-run state).
      const zeta = (await call("GET", "/dags?q=zeta&recentRuns=3")).json.dags[0] as { recentRuns: { runId: string; state: string }[] };
      assert.deepEqual(zeta.recentRuns.map((r) => [r.runId, r.state]), [["z5", "queued"], ["z4", "queued"], ["z3", "queued"]]);
      const noRuns = (await call("GET", "/dags?q=zeta&recentRuns=0")).json.dags[0] as { recentRuns: unknown[] };
      assert.deepEqual(noRuns.recentRuns, []);
      await expectError("GET", "/dags?recentRuns=51", undefined, 400, "VALIDATION_FAILED");
    });

    it("GET /dags/{dagId}/runs/{runId} answers the run with task counts per state; 404 names what is missing", async () => {
      await triggerRun(store, "etl", { runId: "detail", conf: { mode: "full" } });
      await setTask("detail", "extract", { state: "success" });
      const r = await call("GET", "/dags/etl/runs/detail");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.conf, { mode: "full" });
      assert.deepEqual(r.json.taskStates, { success: 1, none: 3 });
      await expectError("GET", "/dags/etl/runs/missing", undefined, 404, "RUN_NOT_FOUND");
      await expectError("GET", "/dags/nope/runs/detail", undefined, 404, "DAG_NOT_FOUND");
    });

    it("POST .../clear clears failed tasks only, or given tasks with their downstream", async () => {
      await triggerRun(store, "etl", { runId: "to_clear" });
      await setTask("to_clear", "extract", { state: "success", try_number: 1 });
      await setTask("to_clear", "transform", { state: "failed", try_number: 1 });
      await setTask("to_clear", "load", { state: "upstream_failed" });
      await setTask("to_clear", "report", { state: "success", try_number: 1 });
      const before = changes;
      const failed = await call("POST", "/dags/etl/runs/to_clear/clear", { onlyFailed: true });
      assert.equal(failed.status, 200, JSON.stringify(failed.json));
      assert.deepEqual(failed.json.cleared.sort(), ["load", "transform"]);
      assert.equal(changes, before + 1);
      assert.equal((await store.tasks.byKey("etl", "to_clear", "extract"))!.state, "success", "successful tasks are kept");
      const down = await call("POST", "/dags/etl/runs/to_clear/clear", { taskIds: ["extract"], downstream: true });
      assert.deepEqual(down.json.cleared, ["extract"], "downstream tasks already cleared are not cleared twice");
      assert.equal((await store.tasks.byKey("etl", "to_clear", "report"))!.state, "success", "tasks outside the selection are kept");
      await expectError("POST", "/dags/etl/runs/to_clear/clear", { taskIds: ["extrct"] }, 404, "TASK_NOT_FOUND");
      await expectError("POST", "/dags/etl/runs/to_clear/clear", { taskIds: "extract" }, 400, "VALIDATION_FAILED");
      await expectError("POST", "/dags/etl/runs/nope/clear", {}, 404, "RUN_NOT_FOUND");
    });

    it("task instance routes: list, detail with every try, 404 for an unknown task", async () => {
      await triggerRun(store, "etl", { runId: "tries" });
      const id = await setTask("tries", "extract", { state: "running", try_number: 2, start_date: T0, hostname: "h1", pid: 42 });
      await store.tasks.recordTry({ ti_id: id, try_number: 1, state: "failed", start_date: T0 - 5000, end_date: T0 - 4000, duration_ms: 1000, hostname: "h1", pid: 41, error: "boom" });
      await setTask("tries", "report", { state: "success", try_number: 1, result: JSON.stringify({ rows: 3 }) });
      const list = await call("GET", "/dags/etl/runs/tries/tasks");
      assert.equal(list.status, 200);
      assert.equal(list.json.tasks.length, 4);
      assert.deepEqual(list.json.tasks.find((t: { taskId: string }) => t.taskId === "report").result, { rows: 3 });
      const detail = await call("GET", "/dags/etl/runs/tries/tasks/extract");
      assert.equal(detail.status, 200);
      assert.equal(detail.json.state, "running");
      assert.deepEqual(
        detail.json.tries.map((t: { tryNumber: number; state: string }) => [t.tryNumber, t.state]),
        [
          [1, "failed"],
          [2, "running"],
        ],
        "the finished try and the one in progress",
      );
      assert.equal(detail.json.tries[0].error, "boom");
      await expectError("GET", "/dags/etl/runs/tries/tasks/nope", undefined, 404, "TASK_NOT_FOUND");
    });

    it("GET .../logs pages a try's lines by id, and keeps tries apart", async () => {
      await triggerRun(store, "etl", { runId: "logs" });
      const id = await setTask("logs", "extract", { state: "failed", try_number: 2 });
      const lines = (tryNumber: number, n: number) => Array.from({ length: n }, (_, i) => ({ ti_id: id, try_number: tryNumber, ts: T0 + i, stream: "stdout", line: `try${tryNumber} line ${i}` }));
      await store.logs.append([...lines(1, 25), ...lines(2, 3)]);
      const seen: string[] = [];
      let after = 0;
      for (let page = 0; page < 10; page++) {
        const r = await call("GET", `/dags/etl/runs/logs/tasks/extract/logs?try=1&limit=10&after=${after}`);
        assert.equal(r.status, 200);
        seen.push(...r.json.lines.map((l: { line: string }) => l.line));
        after = r.json.nextAfter;
        if (!r.json.more) break;
      }
      assert.deepEqual(seen, lines(1, 25).map((l) => l.line), "every line once, in order");
      const latest = await call("GET", "/dags/etl/runs/logs/tasks/extract/logs");
      assert.equal(latest.json.tryNumber, 2, "the latest try by default");
      assert.deepEqual(latest.json.lines.map((l: { line: string }) => l.line), ["try2 line 0", "try2 line 1", "try2 line 2"]);
      assert.equal(latest.json.more, false);
      const tail = await call("GET", `/dags/etl/runs/logs/tasks/extract/logs?after=${latest.json.nextAfter}`);
      assert.deepEqual(tail.json.lines, [], "polling past the end answers no lines");
      await expectError("GET", "/dags/etl/runs/logs/tasks/extract/logs?try=3", undefined, 404, "TASK_NOT_FOUND");
      const bad = await expectError("GET", "/dags/etl/runs/logs/tasks/extract/logs?try=abc", undefined, 400, "VALIDATION_FAILED");
      assert.match(bad.error.message, /try/);
    });

    it("POST .../mark marks a finished task, and answers 409 while it runs", async () => {
      await triggerRun(store, "etl", { runId: "mark" });
      await setTask("mark", "extract", { state: "running", try_number: 1 });
      await setTask("mark", "transform", { state: "failed", try_number: 1 });
      const conflict = await expectError("POST", "/dags/etl/runs/mark/tasks/extract/mark", { state: "success" }, 409, "STATE_CONFLICT");
      assert.match(conflict.error.message, /running/);
      assert.equal((await store.tasks.byKey("etl", "mark", "extract"))!.state, "running");
      const before = changes;
      const ok = await call("POST", "/dags/etl/runs/mark/tasks/transform/mark", { state: "success" });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.state, "success");
      assert.equal((await store.tasks.byKey("etl", "mark", "transform"))!.state, "success");
      assert.equal(changes, before + 1);
      await expectError("POST", "/dags/etl/runs/mark/tasks/transform/mark", { state: "skipped" }, 400, "VALIDATION_FAILED");
      await expectError("POST", "/dags/etl/runs/mark/tasks/nope/mark", { state: "failed" }, 404, "TASK_NOT_FOUND");
    });

    it("GET /import-errors lists files that failed to import", async () => {
      await store.dags.setImportError({ path: "broken.ts", message: "SyntaxError: Unexpected token", line: 3, col: 7, stack: null, created_at: T0 });
      const r = await call("GET", "/import-errors");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json.importErrors, [{ path: "broken.ts", message: "SyntaxError: Unexpected token", line: 3, column: 7, stack: null, createdAt: new Date(T0).toISOString() }]);
    });

    it("refuses an oversized body with 413, malformed JSON with 400, an unknown route with 404, never 500", async () => {
      const huge = { conf: { blob: "x".repeat(1024 * 1024 + 10) } };
      const big = await expectError("POST", "/dags/etl/runs", huge, 413, "PAYLOAD_TOO_LARGE");
      assert.match(big.error.message, /1048576/);
      const malformed = await app.inject({ method: "POST", url: `${V1}/dags/etl/runs`, headers: { ...auth, "content-type": "application/json" }, payload: "{conf:" });
      assert.equal(malformed.statusCode, 400);
      assert.equal(malformed.json().error.code, "INVALID_BODY");
      await expectError("GET", "/no/such/route", undefined, 404, "NOT_FOUND");
      const odd = ["/dags/%E2%9C%93", "/dags?limit=0", "/dags?limit=-1", "/dags?offset=1e400", "/dags?paused=maybe", "/dags/etl/runs/%2F..%2F/tasks", "/dags/etl/runs?to=2026-13-45T00:00:00Z"];
      for (const url of odd) {
        const r = await call("GET", url);
        assert.ok(r.status >= 400 && r.status < 500, `${url} answered ${r.status}`);
        assert.equal(typeof r.json.error.message, "string");
      }
    });

    it("serves an OpenAPI 3 document listing every route with its responses, and browsable docs", async () => {
      const r = await call("GET", "/openapi.json");
      assert.equal(r.status, 200);
      const doc = r.json as { openapi: string; paths: Record<string, Record<string, { responses?: Record<string, unknown>; parameters?: unknown[] }>> };
      assert.ok(doc.openapi.startsWith("3."), doc.openapi);
      for (const [method, path] of ROUTES) {
        const op = doc.paths[V1 + path]?.[method];
        assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
      }
      const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
      assert.deepEqual(documented.sort(), ROUTES.map(([m, p]) => `${m} ${V1}${p}`).sort(), "no undocumented or stray routes");
      const trigger = doc.paths[`${V1}/dags/{dagId}/runs`].post as any;
      assert.ok(trigger.requestBody.content["application/json"].schema.properties.conf, "request bodies come from the zod schemas");
      assert.ok(trigger.responses["400"] && trigger.responses["409"], "error answers are documented");
      const list = doc.paths[`${V1}/dags`].get as any;
      assert.ok(list.parameters.some((p: { name: string; in: string }) => p.name === "tag" && p.in === "query"));
      const ui = await app.inject({ method: "GET", url: `${V1}/docs/`, headers: auth });
      assert.equal(ui.statusCode, 200);
      assert.match(ui.headers["content-type"] as string, /text\/html/);
    });

    it("listens on a real port and answers /health over HTTP", async () => {
      const server = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }) });
      try {
        const address = await server.listen({ host: "127.0.0.1", port: 0 });
        const res = await fetch(`${address}${V1}/health`);
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { status: string }).status, "ok");
      } finally {
        await server.close();
      }
    });
  });
}
