/**
 * Run and task-instance actions of the REST API on a real store (SQLite file
 * and PostgreSQL database): cancel (including a real attempt that must stop),
 * mark a whole run, delete one run or a DAG's history, a task's result, clear
 * a task with its downstream/upstream (and as a dry run), run durations, and
 * the 400/403/404/409 answers a client can provoke.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { executeAttempt } from "../../src/runner/executeAttempt.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag, type Dag } from "../../src/sdk/dag.js";
import type { TaskInstanceTable } from "../../src/store/schema.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const V1 = "/api/v1";

const etl = dag({ id: "etl", schedule: null }, (d) => {
  const extract = d.task("extract", async () => 1);
  const transform = d.task("transform", async () => 2, { upstream: [extract], retries: 2 });
  d.task("load", async () => 3, { upstream: [transform] });
  d.task("report", async () => 4);
});
const other = dag({ id: "other", schedule: null }, (d) => {
  d.task("only", async () => 1);
});

/** A task that runs until its attempt is aborted: what a cancel must stop. */
let waitAborted = false;
let waitStarted = false;
const slow = dag({ id: "slow", schedule: null }, (d) => {
  d.task("wait", (ctx) => {
    waitStarted = true;
    return new Promise((_resolve, reject) => {
      ctx.signal.addEventListener("abort", () => {
        waitAborted = true;
        reject(new Error("aborted"));
      });
    });
  });
  d.task("never", async () => {
    throw new Error("a cancelled queued attempt must not run");
  });
});

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const dialect of DIALECTS) {
  describe(`run and task actions on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let changes = 0;
    const clock = T0;
    const tokens: Record<string, string> = {};

    const call = async (method: "GET" | "POST" | "DELETE", url: string, payload?: unknown, user = "admin") => {
      const res = await app.inject({ method, url: V1 + url, payload: payload as object | undefined, headers: { authorization: `Bearer ${tokens[user]}` } });
      return { status: res.statusCode, json: res.body ? (res.json() as any) : null };
    };
    const expectError = async (method: "GET" | "POST" | "DELETE", url: string, payload: unknown, status: number, code: string, user = "admin") => {
      const r = await call(method, url, payload, user);
      assert.equal(r.status, status, `${method} ${url}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code);
      assert.ok(r.json.error.message.length > 10, "the message says what is wrong");
      return r.json.error as { code: string; message: string };
    };
    const ti = async (dagId: string, runId: string, taskId: string) => (await store.tasks.byKey(dagId, runId, taskId))!;
    /** Put a task instance in a state directly (set-up, not what is under test). */
    const setTi = async (dagId: string, runId: string, taskId: string, patch: Partial<Omit<TaskInstanceTable, "id">>) => {
      const row = await ti(dagId, runId, taskId);
      await store.db.updateTable("task_instance").set(patch).where("id", "=", row.id).execute();
      return row.id;
    };
    const newRun = async (dagId: string, runId: string, state: "running" | "success" | "failed" | "queued" = "running", logicalDate?: Date) => {
      const run = await triggerRun(store, dagId, { runId, now: clock, logicalDate });
      if (state !== "queued") await store.runs.setState(run.id, ["queued"], { state, start_date: clock - 60_000, end_date: state === "running" ? null : clock });
      return (await store.runs.byPk(run.id))!;
    };
    const countRows = async (table: "task_instance" | "task_try" | "task_log", tiIds: number[]) => {
      if (tiIds.length === 0) return 0;
      const col = table === "task_instance" ? "id" : "ti_id";
      const r = await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).where(col, "in", tiIds).executeTakeFirst();
      return Number(r?.n ?? 0);
    };

    before(async () => {
      store = await freshStore(dialect, "runs_tasks");
      for (const d of [etl, other, slow]) {
        const spec = d.toSpec(`${d.id}.ts`);
        await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      }
      for (const role of ["viewer", "operator", "admin"] as const) {
        await createUser(store, { username: role, role, password: "correct horse battery" });
        tokens[role] = (await createToken(store, role, "test")).token;
      }
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), onChange: () => changes++, now: () => clock });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await store?.close();
    });

    it("cancel: the run fails with a note, running and retrying tasks fail, the rest are skipped; finished tasks keep their state", async () => {
      await newRun("etl", "c1");
      await setTi("etl", "c1", "extract", { state: "success", try_number: 1, end_date: clock - 1000 });
      const runningId = await setTi("etl", "c1", "transform", { state: "running", try_number: 1, start_date: clock - 5000, hostname: "h1", pid: 42, heartbeat_at: clock });
      await setTi("etl", "c1", "load", { state: "scheduled" });
      await setTi("etl", "c1", "report", { state: "up_for_retry", try_number: 1, next_try_at: clock + 60_000 });
      const before = changes;
      const r = await call("POST", "/dags/etl/runs/c1/cancel", undefined, "operator");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.run.state, "failed");
      assert.equal(r.json.run.note, "Cancelled by operator.");
      assert.equal(r.json.run.endDate, new Date(clock).toISOString());
      assert.deepEqual(
        r.json.stopped.map((s: { taskId: string; state: string }) => `${s.taskId}:${s.state}`).sort(),
        ["load:skipped", "report:failed", "transform:failed"],
      );
      assert.equal(changes, before + 1, "the scheduler is woken");
      const stored = await store.runs.get("etl", "c1");
      assert.equal(stored!.state, "failed");
      assert.equal((await ti("etl", "c1", "extract")).state, "success", "a finished task keeps its state");
      const t = await ti("etl", "c1", "transform");
      assert.equal(t.state, "failed");
      assert.equal(t.error, "Cancelled by operator.");
      assert.equal(t.duration_ms, 5000);
      assert.equal((await ti("etl", "c1", "report")).next_try_at, null, "no retry is due any more");
      const tries = await store.tasks.tries(runningId);
      assert.deepEqual(
        tries.map((x) => [x.try_number, x.state, x.error, x.duration_ms]),
        [[1, "failed", "Cancelled by operator.", 5000]],
        "the interrupted try is recorded",
      );
      assert.equal(await store.tasks.heartbeat(runningId, 1, clock + 1), false, "the attempt's heartbeat no longer matches, so its process stops");
      const again = await expectError("POST", "/dags/etl/runs/c1/cancel", undefined, 409, "STATE_CONFLICT");
      assert.match(again.message, /already finished \(failed\)/);
    });

    it("cancel: a queued run (nothing started) is failed and all its tasks skipped; 404 and 403 answers", async () => {
      await newRun("etl", "c2", "queued");
      const r = await call("POST", "/dags/etl/runs/c2/cancel");
      assert.equal(r.status, 200);
      assert.equal(r.json.run.state, "failed");
      assert.deepEqual((await store.tasks.forRun((await store.runs.get("etl", "c2"))!.id)).map((t) => t.state), ["skipped", "skipped", "skipped", "skipped"]);
      await expectError("POST", "/dags/etl/runs/nope/cancel", undefined, 404, "RUN_NOT_FOUND");
      await expectError("POST", "/dags/nope/runs/c2/cancel", undefined, 404, "DAG_NOT_FOUND");
      await newRun("etl", "c3");
      await expectError("POST", "/dags/etl/runs/c3/cancel", undefined, 403, "FORBIDDEN", "viewer");
      assert.equal((await store.runs.get("etl", "c3"))!.state, "running", "a viewer's cancel changed nothing");
    });

    it("cancel stops a real running attempt (through its heartbeat) and a queued attempt never starts", async () => {
      waitAborted = false;
      waitStarted = false;
      const run = await newRun("slow", "real");
      const wait = await setTi("slow", "real", "wait", { state: "queued", try_number: 1, queued_at: clock });
      const never = await setTi("slow", "real", "never", { state: "queued", try_number: 1, queued_at: clock });
      // The attempt's clock is the API's: durations stay small (duration_ms is a 32-bit integer on PostgreSQL).
      const deps = { store, dagsFolder: "/nonexistent", maxResultBytes: 1024, heartbeatIntervalMs: 50, loadDag: async (): Promise<Dag[]> => [slow], now: () => clock };
      const attempt = executeAttempt(deps, wait, 1);
      await waitFor(async () => waitStarted && (await store.tasks.get(wait))!.state === "running", 10_000, "the attempt to start");
      const started = Date.now();
      const r = await call("POST", "/dags/slow/runs/real/cancel");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const report = await attempt;
      assert.ok(waitAborted, "the task's abort signal fired");
      assert.ok(Date.now() - started < 5_000, `the attempt stopped within a few heartbeats (${Date.now() - started} ms)`);
      assert.equal(report.state, null, "its own late report lost the compare-and-set");
      const after = (await store.tasks.get(wait))!;
      assert.equal(after.state, "failed");
      assert.equal(after.error, "Cancelled by admin.");
      const log = (await store.logs.read(wait, 1)).map((l) => l.line).join("\n");
      assert.match(log, /Stopped: the attempt was ended elsewhere/, "the try's log says why it stopped");
      assert.equal((await store.tasks.get(never))!.state, "skipped");
      assert.deepEqual(await executeAttempt(deps, never, 1), { state: null, recycle: false }, "the cancelled queued attempt cannot be claimed");
      assert.equal((await store.runs.byPk(run.id))!.state, "failed");
    });

    it("mark run: success turns every task success (failed ones too), failed ends unfinished tasks and keeps finished ones", async () => {
      await newRun("etl", "m1", "failed");
      await setTi("etl", "m1", "extract", { state: "success", try_number: 1 });
      await setTi("etl", "m1", "transform", { state: "failed", try_number: 3, error: "boom" });
      await setTi("etl", "m1", "load", { state: "upstream_failed" });
      await setTi("etl", "m1", "report", { state: "skipped" });
      const ok = await call("POST", "/dags/etl/runs/m1/mark", { state: "success" });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.run.state, "success");
      assert.equal(ok.json.run.note, "Marked success by admin.");
      assert.deepEqual(ok.json.changed.map((c: { taskId: string }) => c.taskId).sort(), ["load", "transform"]);
      const states = Object.fromEntries((await store.tasks.forRun((await store.runs.get("etl", "m1"))!.id)).map((t) => [t.task_id, t.state]));
      assert.deepEqual(states, { extract: "success", transform: "success", load: "success", report: "skipped" });
      assert.equal((await ti("etl", "m1", "transform")).error, null, "a task marked success shows no error");

      await newRun("etl", "m2");
      await setTi("etl", "m2", "extract", { state: "success", try_number: 1 });
      await setTi("etl", "m2", "transform", { state: "running", try_number: 1, start_date: clock - 10 });
      const failed = await call("POST", "/dags/etl/runs/m2/mark", { state: "failed" });
      assert.equal(failed.status, 200);
      assert.equal(failed.json.run.state, "failed");
      const m2 = Object.fromEntries((await store.tasks.forRun((await store.runs.get("etl", "m2"))!.id)).map((t) => [t.task_id, t.state]));
      assert.deepEqual(m2, { extract: "success", transform: "failed", load: "skipped", report: "skipped" });
      await expectError("POST", "/dags/etl/runs/m2/mark", { state: "skipped" }, 400, "VALIDATION_FAILED");
      await expectError("POST", "/dags/etl/runs/m2/mark", {}, 400, "VALIDATION_FAILED");
      await expectError("POST", "/dags/etl/runs/none/mark", { state: "success" }, 404, "RUN_NOT_FOUND");
    });

    it("DELETE a run removes it with its task instances, tries and logs; 409 while it runs", async () => {
      const run = await newRun("etl", "d1", "success");
      const tiId = await setTi("etl", "d1", "extract", { state: "success", try_number: 1 });
      await store.tasks.recordTry({ ti_id: tiId, try_number: 1, state: "success", start_date: clock, end_date: clock, duration_ms: 0, hostname: null, pid: null, error: null });
      await store.logs.append([{ ti_id: tiId, try_number: 1, ts: clock, stream: "stdout", line: "hello" }]);
      const tiIds = (await store.tasks.forRun(run.id)).map((t) => t.id);
      assert.equal(await countRows("task_instance", tiIds), 4);

      await newRun("etl", "d_active");
      const conflict = await expectError("DELETE", "/dags/etl/runs/d_active", undefined, 409, "STATE_CONFLICT");
      assert.match(conflict.message, /running; cancel it first/);
      assert.ok(await store.runs.get("etl", "d_active"), "the active run is still there");

      const before = changes;
      const r = await call("DELETE", "/dags/etl/runs/d1");
      assert.equal(r.status, 204);
      assert.equal(await store.runs.get("etl", "d1"), undefined);
      assert.equal(await countRows("task_instance", tiIds), 0);
      assert.equal(await countRows("task_try", tiIds), 0);
      assert.equal(await countRows("task_log", tiIds), 0);
      assert.equal(changes, before + 1);
      await expectError("DELETE", "/dags/etl/runs/d1", undefined, 404, "RUN_NOT_FOUND");
      await expectError("DELETE", "/dags/etl/runs/d1", undefined, 403, "FORBIDDEN", "viewer");
    });

    it("DELETE a DAG's history: 409 while a run is active, force cancels it first; deletes in batches; other DAGs untouched", async () => {
      const logicalDay = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 86_400_000);
      for (let i = 0; i < 45; i++) await newRun("other", `h${i}`, i % 3 === 0 ? "failed" : "success", logicalDay(i));
      const active = await newRun("other", "h_active", "running", logicalDay(100));
      const activeTi = (await store.tasks.forRun(active.id))[0];
      await store.logs.append([{ ti_id: activeTi.id, try_number: 1, ts: clock, stream: "stdout", line: "x" }]);
      const etlRunsBefore = await store.runs.count({ dagId: "etl" });

      const refused = await expectError("DELETE", "/dags/other/runs", undefined, 409, "STATE_CONFLICT");
      assert.match(refused.message, /1 active run\(s\) \("h_active"\).*force=true/);
      assert.equal(await store.runs.count({ dagId: "other" }), 46, "nothing was deleted");

      const r = await call("DELETE", "/dags/other/runs?force=true");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json, { deleted: 46, cancelled: ["h_active"] });
      assert.equal(await store.runs.count({ dagId: "other" }), 0);
      assert.equal(await countRows("task_log", [activeTi.id]), 0);
      assert.equal(await store.runs.count({ dagId: "etl" }), etlRunsBefore, "another DAG's runs are kept");
      assert.deepEqual((await call("DELETE", "/dags/other/runs")).json, { deleted: 0, cancelled: [] }, "an empty history deletes nothing");
      await expectError("DELETE", "/dags/other/runs?force=maybe", undefined, 400, "VALIDATION_FAILED");
      await expectError("DELETE", "/dags/nope/runs", undefined, 404, "DAG_NOT_FOUND");
    });

    it("GET .../result answers the value and its size; 404 until the task succeeded; 400 for a bad map index", async () => {
      await newRun("etl", "res");
      const value = { rows: 3, path: "/data/é.parquet" };
      await setTi("etl", "res", "extract", { state: "success", try_number: 1, result: JSON.stringify(value) });
      await setTi("etl", "res", "report", { state: "success", try_number: 1, result: null });
      const r = await call("GET", "/dags/etl/runs/res/tasks/extract/result");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { value, sizeBytes: Buffer.byteLength(JSON.stringify(value)) });
      assert.deepEqual((await call("GET", "/dags/etl/runs/res/tasks/report/result")).json, { value: null, sizeBytes: 0 }, "a task that returned nothing");
      const pending = await expectError("GET", "/dags/etl/runs/res/tasks/transform/result", undefined, 404, "TASK_NOT_FOUND");
      assert.match(pending.message, /no result yet: it is none/);
      const mapped = await expectError("GET", "/dags/etl/runs/res/tasks/extract/result?mapIndex=3", undefined, 404, "TASK_NOT_FOUND");
      assert.match(mapped.message, /not a mapped task/);
      await expectError("GET", "/dags/etl/runs/res/tasks/extract/result?mapIndex=abc", undefined, 400, "VALIDATION_FAILED");
      await expectError("GET", "/dags/etl/runs/res/tasks/nope/result", undefined, 404, "TASK_NOT_FOUND");
      await expectError("GET", "/dags/etl/runs/nope/tasks/extract/result", undefined, 404, "RUN_NOT_FOUND");
    });

    it("POST .../tasks/{taskId}/clear: downstream, upstream, failed only, and a dry run that changes nothing", async () => {
      const run = await newRun("etl", "cl", "failed");
      await setTi("etl", "cl", "extract", { state: "success", try_number: 1 });
      await setTi("etl", "cl", "transform", { state: "failed", try_number: 3 });
      await setTi("etl", "cl", "load", { state: "upstream_failed" });
      await setTi("etl", "cl", "report", { state: "success", try_number: 1 });
      const list = (r: { json: { cleared: { taskId: string; state: string }[] } }) => r.json.cleared.map((c) => `${c.taskId}:${c.state}`).sort();

      const dry = await call("POST", "/dags/etl/runs/cl/tasks/transform/clear", { downstream: true, dryRun: true });
      assert.equal(dry.status, 200, JSON.stringify(dry.json));
      assert.equal(dry.json.dryRun, true);
      assert.deepEqual(list(dry), ["load:upstream_failed", "transform:failed"]);
      assert.equal((await ti("etl", "cl", "transform")).state, "failed", "a dry run changes nothing");
      assert.equal((await store.runs.byPk(run.id))!.state, "failed");

      const up = await call("POST", "/dags/etl/runs/cl/tasks/load/clear", { upstream: true, dryRun: true });
      assert.deepEqual(list(up), ["extract:success", "load:upstream_failed", "transform:failed"]);
      const upFailed = await call("POST", "/dags/etl/runs/cl/tasks/load/clear", { upstream: true, onlyFailed: true, dryRun: true });
      assert.deepEqual(list(upFailed), ["load:upstream_failed", "transform:failed"]);

      const before = changes;
      const real = await call("POST", "/dags/etl/runs/cl/tasks/transform/clear", { downstream: true });
      assert.equal(real.json.dryRun, false);
      assert.deepEqual(list(real), ["load:upstream_failed", "transform:failed"]);
      assert.equal(changes, before + 1);
      const t = await ti("etl", "cl", "transform");
      assert.equal(t.state, "none");
      assert.equal(t.max_tries, 3 + 2 + 1, "a fresh retry budget");
      assert.equal((await ti("etl", "cl", "report")).state, "success", "a task outside the selection is kept");
      assert.equal((await store.runs.byPk(run.id))!.state, "running", "the run runs again");

      const noBody = await call("POST", "/dags/etl/runs/cl/tasks/report/clear");
      assert.deepEqual(list(noBody), ["report:success"], "no body: just that task");
      await expectError("POST", "/dags/etl/runs/cl/tasks/nope/clear", {}, 404, "TASK_NOT_FOUND");
      await expectError("POST", "/dags/etl/runs/cl/tasks/load/clear", { downstream: "yes" }, 400, "VALIDATION_FAILED");
      await expectError("POST", "/dags/etl/runs/cl/tasks/load/clear", { sideways: true }, 400, "VALIDATION_FAILED");
      await expectError("POST", "/dags/etl/runs/cl/tasks/load/clear", {}, 403, "FORBIDDEN", "viewer");
    });

    it("POST .../runs/{runId}/clear: failed only, and a dry run", async () => {
      await newRun("etl", "rc", "failed");
      await setTi("etl", "rc", "extract", { state: "success", try_number: 1 });
      await setTi("etl", "rc", "transform", { state: "failed", try_number: 1 });
      await setTi("etl", "rc", "load", { state: "upstream_failed" });
      await setTi("etl", "rc", "report", { state: "success", try_number: 1 });
      const dry = await call("POST", "/dags/etl/runs/rc/clear", { onlyFailed: true, dryRun: true });
      const run = await store.runs.get("etl", "rc");
      assert.deepEqual(
        { ...dry.json, cleared: dry.json.cleared.sort() },
        { cleared: ["load", "transform"], dryRun: true, versionHash: run!.version_hash, bundleVersion: null, moved: false },
        "a plain clear keeps the run's version (local DAG folder: no commit)",
      );
      assert.equal((await ti("etl", "rc", "transform")).state, "failed");
      const real = await call("POST", "/dags/etl/runs/rc/clear", { onlyFailed: true });
      assert.deepEqual(real.json.cleared.sort(), ["load", "transform"]);
      assert.equal((await ti("etl", "rc", "extract")).state, "success", "successful tasks are kept");
    });

    it("GET .../runs/durations answers the newest runs' timings; the run id it shadows cannot be used", async () => {
      for (let i = 1; i <= 3; i++) await newRun("slow", `dur${i}`, "success", new Date(Date.UTC(2027, 0, i)));
      const r = await call("GET", "/dags/slow/runs/durations?limit=2");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(
        r.json.runs.map((x: { runId: string }) => x.runId),
        ["dur3", "dur2"],
      );
      assert.deepEqual(Object.keys(r.json.runs[0]).sort(), ["endDate", "logicalDate", "queuedAt", "runId", "startDate", "state"]);
      assert.equal(r.json.runs[0].startDate, new Date(clock - 60_000).toISOString());
      await expectError("GET", "/dags/slow/runs/durations?limit=0", undefined, 400, "VALIDATION_FAILED");
      await expectError("GET", "/dags/slow/runs/durations?limit=5000", undefined, 400, "VALIDATION_FAILED");
      await expectError("GET", "/dags/nope/runs/durations", undefined, 404, "DAG_NOT_FOUND");
      const reserved = await expectError("POST", "/dags/slow/runs", { runId: "durations" }, 400, "VALIDATION_FAILED");
      assert.match(reserved.message, /reserved/);
    });

    it("the task list carries what a Gantt chart needs: queued, start and end times and the try number", async () => {
      await newRun("etl", "gantt");
      await setTi("etl", "gantt", "extract", { state: "success", try_number: 2, queued_at: clock - 3000, start_date: clock - 2000, end_date: clock - 1000 });
      const r = await call("GET", "/dags/etl/runs/gantt/tasks");
      const extract = r.json.tasks.find((t: { taskId: string }) => t.taskId === "extract");
      assert.deepEqual(
        [extract.queuedAt, extract.startDate, extract.endDate, extract.tryNumber],
        [new Date(clock - 3000).toISOString(), new Date(clock - 2000).toISOString(), new Date(clock - 1000).toISOString(), 2],
      );
    });

    it("every new route is in the OpenAPI document", async () => {
      const doc = (await call("GET", "/openapi.json")).json as { paths: Record<string, Record<string, unknown>> };
      for (const [method, path] of [
        ["post", "/dags/{dagId}/runs/{runId}/cancel"],
        ["post", "/dags/{dagId}/runs/{runId}/mark"],
        ["delete", "/dags/{dagId}/runs/{runId}"],
        ["delete", "/dags/{dagId}/runs"],
        ["get", "/dags/{dagId}/runs/durations"],
        ["get", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/result"],
        ["post", "/dags/{dagId}/runs/{runId}/tasks/{taskId}/clear"],
      ]) {
        assert.ok(doc.paths[V1 + path]?.[method], `${method} ${path} is documented`);
      }
    });
  });
}
