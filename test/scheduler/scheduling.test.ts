/**
 * The scheduler against the real store, on SQLite and PostgreSQL: when runs
 * are created (cron, intervals, catchup, end dates, paused and manual DAGs),
 * triggered and backfilled runs, dependencies and trigger rules, retries, and
 * clearing/marking tasks. The clock is injected and every pass is one explicit
 * tick(); a recording executor stands in for task processes, except in the
 * last block, which runs real DAG files with the in-process executor.
 */
import { dagVersionHash } from "../../src/core/dagSpec.js";
import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { z } from "zod";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { clearTasks, markTask } from "../../src/runs/clearTasks.js";
import { backfill, createScheduledRun, triggerRun } from "../../src/runs/createRun.js";
import type { SchedulerEvent } from "../../src/scheduler/scheduler.js";
import { dag, type DagOptions } from "../../src/sdk/dag.js";
import { DIALECTS } from "../helpers/db.js";
import { harness, iso, LOOP_MS, putDag, realDags, runsOf, statesOf, tisOf, Clock, type Harness } from "./helpers.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One-task DAG options shared by the schedule tests. */
function oneTask(id: string, opts: Omit<DagOptions, "id">) {
  return dag({ ...opts, id }, (d) => {
    d.task("work", async () => 1);
  });
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

async function expectSluiceError(p: Promise<unknown>, code: string): Promise<SluiceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

for (const dialect of DIALECTS) describe(`scheduler on ${dialect}`, () => {
  const opened: Harness[] = [];
  const open = async (o: Parameters<typeof harness>[1] = {}) => {
    const h = await harness(dialect, o);
    opened.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of opened.splice(0)) await h.close();
  });

  describe(`scheduled runs (${dialect})`, () => {
    it("a scheduled DAG whose runs cannot be created does not hold back the other DAGs", async () => {
      const h = await open();
      // Stored as if an older parser had accepted it: params without defaults, but a schedule.
      const bad = dag({ id: "needs_conf", schedule: null, start: "2026-01-01" }, (d) => void d.task("t", async () => 1)).toSpec("needs_conf.ts");
      bad.schedule = "@hourly";
      bad.paramsSchema = { type: "object", properties: { table: { type: "string" } }, required: ["table"] };
      await h.store.dags.upsert(bad, dagVersionHash(bad), h.clock.t, false);
      await putDag(h.store, dag({ id: "fine", schedule: "@hourly", start: "2026-01-01" }, (d) => void d.task("t", async () => 1)), h.clock.t);
      await h.tick();
      assert.equal((await runsOf(h.store, "fine")).length, 1, "the healthy DAG got its run");
      assert.equal((await runsOf(h.store, "needs_conf")).length, 0);
      assert.ok(h.exec.launches.length >= 1, "and the pass went on to dispatch it");
    });

    it("creates a cron run only once its data interval has ended, with the interval start as logical date", async () => {
      const h = await open({ start: "2026-03-05T01:59:58Z" });
      await putDag(h.store, oneTask("nightly", { schedule: "0 2 * * *", start: "2026-03-01", catchup: false }), h.clock.t);
      await h.tick();
      // catchup=false: only the latest complete interval, [03-03 02:00, 03-04 02:00).
      let runs = await runsOf(h.store, "nightly");
      assert.deepEqual(runs.map((r) => [r.run_id, iso(r.interval_start), iso(r.interval_end)]), [
        ["scheduled__2026-03-03T02:00:00.000Z", "2026-03-03T02:00:00.000Z", "2026-03-04T02:00:00.000Z"],
      ]);
      assert.equal(runs[0].logical_date, runs[0].interval_start);
      assert.equal(runs[0].run_type, "scheduled");

      h.clock.set("2026-03-05T01:59:59.999Z"); // one ms before the next interval ends
      await h.tick();
      assert.equal((await runsOf(h.store, "nightly")).length, 1, "no run before its interval ends");

      h.clock.set("2026-03-05T02:00:01Z");
      await h.tick();
      runs = await runsOf(h.store, "nightly");
      assert.deepEqual(runs.map((r) => iso(r.logical_date)), ["2026-03-03T02:00:00.000Z", "2026-03-04T02:00:00.000Z"]);
      assert.equal(iso(runs[1].interval_end), "2026-03-05T02:00:00.000Z");
      // Both runs started and their task was handed to the executor.
      assert.deepEqual(runs.map((r) => r.state), ["running", "running"]);
      assert.equal(h.exec.launches.length, 2);
    });

    it("with catchup=false creates only the latest complete interval, also after downtime", async () => {
      const h = await open({ start: "2026-03-05T10:00:00Z" });
      await putDag(h.store, oneTask("no_catchup", { schedule: "@daily", start: "2026-01-01", catchup: false }), h.clock.t);
      await h.tick();
      assert.deepEqual((await runsOf(h.store, "no_catchup")).map((r) => iso(r.logical_date)), ["2026-03-04T00:00:00.000Z"]);
      await h.finishAll();
      // The scheduler is away for four days: only 03-08 is created, 03-05..03-07 are not.
      h.clock.set("2026-03-09T10:00:00Z");
      await h.tick();
      await h.tick(LOOP_MS);
      assert.deepEqual((await runsOf(h.store, "no_catchup")).map((r) => iso(r.logical_date)), ["2026-03-04T00:00:00.000Z", "2026-03-08T00:00:00.000Z"]);
    });

    it("with catchup=true creates every missed interval in order, never more than maxActiveRuns at a time", async () => {
      const h = await open({ start: "2026-01-05T10:00:00Z" });
      await putDag(h.store, oneTask("catchup", { schedule: "@daily", start: "2026-01-01", catchup: true, maxActiveRuns: 2 }), h.clock.t);
      await h.tick();
      let runs = await runsOf(h.store, "catchup");
      assert.deepEqual(runs.map((r) => [iso(r.logical_date), r.state]), [
        ["2026-01-01T00:00:00.000Z", "running"],
        ["2026-01-02T00:00:00.000Z", "running"],
      ]);
      let maxActive = 0;
      for (let i = 0; i < 30; i++) {
        await h.finishAll();
        await h.tick(LOOP_MS);
        runs = await runsOf(h.store, "catchup");
        const active = runs.filter((r) => r.state === "queued" || r.state === "running").length;
        maxActive = Math.max(maxActive, active);
        if (runs.length === 4 && runs.every((r) => r.state === "success")) break;
      }
      assert.equal(maxActive, 2, "at most maxActiveRuns runs were queued or running");
      // Every complete interval up to now (01-05 10:00), created in logical-date order, and no more.
      assert.deepEqual(runs.map((r) => [iso(r.logical_date), r.state]), [
        ["2026-01-01T00:00:00.000Z", "success"],
        ["2026-01-02T00:00:00.000Z", "success"],
        ["2026-01-03T00:00:00.000Z", "success"],
        ["2026-01-04T00:00:00.000Z", "success"],
      ]);
      const byCreation = [...runs].sort((a, b) => a.id - b.id).map((r) => r.logical_date);
      assert.deepEqual(byCreation, runs.map((r) => r.logical_date));
    });

    it("stops creating runs after the DAG's end date", async () => {
      const h = await open({ start: "2026-01-10T00:30:00Z" });
      await putDag(h.store, oneTask("ending", { schedule: "@daily", start: "2026-01-01", end: "2026-01-03T12:00:00Z", catchup: true }), h.clock.t);
      for (let i = 0; i < 3; i++) {
        await h.tick(i === 0 ? 0 : DAY);
        await h.finishAll();
      }
      assert.deepEqual((await runsOf(h.store, "ending")).map((r) => iso(r.logical_date)), [
        "2026-01-01T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
        "2026-01-03T00:00:00.000Z",
      ]);
    });

    it("a paused DAG creates no runs and its queued runs wait until it is unpaused", async () => {
      const h = await open({ start: "2026-03-01T05:30:00Z" });
      await putDag(h.store, oneTask("sleepy", { schedule: "@hourly", start: "2026-03-01", catchup: true }), h.clock.t, true);
      const manual = await triggerRun(h.store, "sleepy", { now: h.clock.t });
      for (let i = 0; i < 3; i++) await h.tick(LOOP_MS);
      assert.deepEqual((await runsOf(h.store, "sleepy")).map((r) => [r.run_type, r.state]), [["manual", "queued"]]);
      assert.equal(h.exec.launches.length, 0);

      await h.store.dags.setPaused("sleepy", false, h.clock.t);
      await h.tick(LOOP_MS);
      assert.equal((await h.store.runs.byPk(manual.id))?.state, "running");
      const scheduled = (await runsOf(h.store, "sleepy")).filter((r) => r.run_type === "scheduled");
      assert.deepEqual(scheduled.map((r) => iso(r.logical_date)), ["00", "01", "02", "03", "04"].map((hh) => `2026-03-01T${hh}:00:00.000Z`));
      assert.ok(h.exec.launches.some((l) => l.runPk === manual.id), "the manual run's task was dispatched");
    });

    it("a manual-only DAG never gets scheduled runs, but can be triggered", async () => {
      const h = await open({ start: "2026-03-01T05:30:00Z" });
      await putDag(h.store, oneTask("by_hand", { schedule: null, start: "2026-01-01", catchup: true }), h.clock.t);
      await putDag(h.store, oneTask("by_hand_word", { schedule: "@manual", start: "2026-01-01", catchup: true }), h.clock.t);
      for (let i = 0; i < 3; i++) await h.tick(DAY);
      assert.equal((await runsOf(h.store, "by_hand")).length, 0);
      assert.equal((await runsOf(h.store, "by_hand_word")).length, 0);
      const run = await triggerRun(h.store, "by_hand", { now: h.clock.t });
      assert.equal(run.logical_date, h.clock.t);
      await h.tick();
      assert.equal((await h.store.runs.byPk(run.id))?.state, "running");
      assert.deepEqual(await h.launchedTasks(), ["work"]);
    });

    it('a fixed interval ("15m") is aligned to the DAG start', async () => {
      const h = await open({ start: "2026-03-01T10:53:00Z" });
      await putDag(h.store, oneTask("quarterly", { schedule: "15m", start: "2026-03-01T10:07:00Z", catchup: true }), h.clock.t);
      await h.tick();
      const runs = await runsOf(h.store, "quarterly");
      assert.deepEqual(runs.map((r) => [iso(r.interval_start), iso(r.interval_end)]), [
        ["2026-03-01T10:07:00.000Z", "2026-03-01T10:22:00.000Z"],
        ["2026-03-01T10:22:00.000Z", "2026-03-01T10:37:00.000Z"],
        ["2026-03-01T10:37:00.000Z", "2026-03-01T10:52:00.000Z"],
      ]);
      h.clock.set("2026-03-01T11:07:00Z");
      await h.tick();
      assert.equal(iso((await runsOf(h.store, "quarterly")).at(-1)!.logical_date), "2026-03-01T10:52:00.000Z");
    });
  });

  describe(`triggered and backfilled runs (${dialect})`, () => {
    const withParams = () =>
      dag(
        {
          id: "with_params",
          schedule: null,
          params: z.object({ rows: z.number().int().positive().default(1000), mode: z.enum(["fast", "full"]).default("fast") }),
        },
        (d) => {
          d.task("work", async (ctx) => ctx.params.rows);
        },
      );

    it("validates conf against the params schema, naming every bad field", async () => {
      const h = await open();
      await putDag(h.store, withParams(), h.clock.t);
      const err = await expectSluiceError(triggerRun(h.store, "with_params", { conf: { rows: -5, mode: "turbo" }, now: h.clock.t }), ErrorCode.ParamsInvalid);
      assert.match(err.message, /rows/);
      assert.match(err.message, /mode/);
      const fields = (err.details?.fields as { field: string }[]).map((f) => f.field).sort();
      assert.deepEqual(fields, ["mode", "rows"]);
      assert.equal((await runsOf(h.store, "with_params")).length, 0, "a rejected trigger creates no run");
    });

    it("merges the conf over the params defaults and queues a manual run", async () => {
      const h = await open();
      await putDag(h.store, withParams(), h.clock.t);
      const run = await triggerRun(h.store, "with_params", { conf: { rows: 5 }, now: h.clock.t });
      assert.equal(run.state, "queued");
      assert.equal(run.run_type, "manual");
      assert.equal(run.run_id, `manual__${iso(h.clock.t)}`);
      assert.deepEqual(JSON.parse(run.params), { rows: 5, mode: "fast" });
      assert.deepEqual(JSON.parse(run.conf), { rows: 5 });
      const second = await triggerRun(h.store, "with_params", { now: h.clock.t + 1 });
      assert.deepEqual(JSON.parse(second.params), { rows: 1000, mode: "fast" });
    });

    it("an unknown DAG gives DAG_NOT_FOUND with a suggestion", async () => {
      const h = await open();
      await putDag(h.store, oneTask("daily_sales", { schedule: null }), h.clock.t);
      const err = await expectSluiceError(triggerRun(h.store, "daily_sale", { now: h.clock.t }), ErrorCode.DagNotFound);
      assert.match(err.message, /did you mean "daily_sales"/);
      await expectSluiceError(backfill(h.store, "daily_sael", new Date("2026-01-01"), new Date("2026-01-02")), ErrorCode.DagNotFound);
    });

    it("backfill creates a run per interval, skips intervals that have one, and runs them within maxActiveRuns", async () => {
      const h = await open({ start: "2026-01-10T06:00:00Z" });
      const spec = await putDag(h.store, oneTask("bf", { schedule: "@daily", start: "2026-01-01", catchup: false, maxActiveRuns: 1 }), h.clock.t);
      const existing = await createScheduledRun(h.store, spec, (await h.store.dags.get("bf"))!.version_hash, { start: new Date("2026-01-03T00:00:00Z"), end: new Date("2026-01-04T00:00:00Z") }, h.clock.t);
      await h.store.runs.setState(existing.id, ["queued"], { state: "success", end_date: h.clock.t });

      const res = await backfill(h.store, "bf", new Date("2026-01-02T00:00:00Z"), new Date("2026-01-05T00:00:00Z"), { now: h.clock.t });
      assert.deepEqual(res.existing, ["2026-01-03T00:00:00.000Z"]);
      assert.deepEqual(res.created.map((r) => [r.run_id, r.state, iso(r.interval_end)]), [
        ["backfill__2026-01-02T00:00:00.000Z", "queued", "2026-01-03T00:00:00.000Z"],
        ["backfill__2026-01-04T00:00:00.000Z", "queued", "2026-01-05T00:00:00.000Z"],
        ["backfill__2026-01-05T00:00:00.000Z", "queued", "2026-01-06T00:00:00.000Z"],
      ]);
      const again = await backfill(h.store, "bf", new Date("2026-01-02T00:00:00Z"), new Date("2026-01-05T00:00:00Z"), { now: h.clock.t });
      assert.equal(again.created.length, 0);
      assert.equal(again.existing.length, 4);

      const started: string[] = [];
      for (let i = 0; i < 20; i++) {
        await h.tick(LOOP_MS);
        const runs = await runsOf(h.store, "bf");
        const running = runs.filter((r) => r.state === "running");
        assert.ok(running.length <= 1, `maxActiveRuns=1 but ${running.length} runs are running`);
        for (const r of running) if (!started.includes(r.run_id)) started.push(r.run_id);
        if (res.created.every((c) => runs.find((r) => r.id === c.id)?.state === "success")) break;
        await h.finishAll();
      }
      assert.deepEqual(started.filter((id) => id.startsWith("backfill")), res.created.map((r) => r.run_id), "backfill runs ran one at a time, oldest first");
      for (const c of res.created) assert.equal((await h.store.runs.byPk(c.id))?.state, "success");
    });

    it("the scheduler does not create a second run for an interval a backfill already covers", async () => {
      const h = await open({ start: "2026-01-10T06:00:00Z" });
      await putDag(h.store, oneTask("covered", { schedule: "@daily", start: "2026-01-01", catchup: false }), h.clock.t, true);
      // Backfill up to the latest complete interval, [01-09, 01-10), while the DAG is paused.
      await backfill(h.store, "covered", new Date("2026-01-08T00:00:00Z"), new Date("2026-01-09T00:00:00Z"), { now: h.clock.t });
      await h.store.dags.setPaused("covered", false, h.clock.t);
      for (let i = 0; i < 3; i++) {
        await h.tick(LOOP_MS);
        await h.finishAll();
      }
      const runs = await runsOf(h.store, "covered");
      const perInterval = countBy(runs, (r) => iso(r.interval_start));
      assert.deepEqual(perInterval, { "2026-01-08T00:00:00.000Z": 1, "2026-01-09T00:00:00.000Z": 1 }, `runs: ${runs.map((r) => r.run_id).join(", ")}`);
    });
  });

  describe(`dependencies and trigger rules (${dialect})`, () => {
    it("schedules the downstream task in the same pass in which the upstream success is reported", async () => {
      const h = await open();
      await putDag(
        h.store,
        dag({ id: "chain", schedule: null }, (d) => {
          const a = d.task("a", async () => 1);
          const b = d.task("b", async () => 2, { upstream: [a] });
          d.task("c", async () => 3, { upstream: [b] });
        }),
        h.clock.t,
      );
      const events: SchedulerEvent[] = [];
      h.scheduler.on((e) => events.push(e));
      const run = await triggerRun(h.store, "chain", { now: h.clock.t });
      await h.tick();
      assert.deepEqual(await h.launchedTasks(), ["a"]);
      assert.deepEqual(await statesOf(h.store, run.id), { a: "queued", b: "none", c: "none" });

      // The clock does not move, so these passes do no periodic sweep: only the finish events drive them.
      await h.finishTask(run.id, "a", "success");
      await h.tick();
      assert.deepEqual(await h.launchedTasks(), ["a", "b"]);
      await h.finishTask(run.id, "b", "success");
      await h.tick();
      assert.deepEqual(await h.launchedTasks(), ["a", "b", "c"]);
      await h.finishTask(run.id, "c", "success");
      await h.tick();
      const done = await h.store.runs.byPk(run.id);
      assert.equal(done?.state, "success");
      assert.equal(done?.end_date, h.clock.t);
      assert.deepEqual(events, [{ type: "run:finished", dagId: "chain", runId: run.run_id, state: "success" }]);
    });

    it("a failure cascades upstream_failed, runs the one_failed alert and the all_done cleanup, and fails the run", async () => {
      const h = await open();
      await putDag(
        h.store,
        dag({ id: "etl", schedule: null }, (d) => {
          const extract = d.task("extract", async () => 1);
          const transform = d.task("transform", async () => 2, { upstream: [extract] });
          const load = d.task("load", async () => 3, { upstream: [transform] });
          const publish = d.task("publish", async () => 4, { upstream: [load] });
          d.task("alert", async () => "paged", { upstream: [extract, transform], triggerRule: "one_failed" });
          d.task("cleanup", async () => "clean", { upstream: [publish], triggerRule: "all_done" });
        }),
        h.clock.t,
      );
      const run = await triggerRun(h.store, "etl", { now: h.clock.t });
      await h.tick();
      await h.finishTask(run.id, "extract", "success");
      await h.tick();
      assert.equal(await h.finishTask(run.id, "transform", { kind: "failed", error: "bad input file", retryable: true }), "failed");
      await h.tick();
      assert.deepEqual(await statesOf(h.store, run.id), {
        extract: "success",
        transform: "failed",
        load: "upstream_failed",
        publish: "upstream_failed",
        alert: "queued",
        cleanup: "queued",
      });
      assert.deepEqual((await h.launchedTasks()).slice(2).sort(), ["alert", "cleanup"]);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "running", "the run waits for alert and cleanup");
      assert.equal((await tisOf(h.store, run.id)).transform.error, "bad input file");

      await h.finishAll("success");
      await h.tick();
      assert.equal((await h.store.runs.byPk(run.id))?.state, "failed");
      assert.ok(!(await h.launchedTasks()).includes("load"), "load never ran");
    });
  });

  describe(`retries (${dialect})`, () => {
    it("retries with exponential backoff (doubling, capped) and fails the run when tries run out", async () => {
      const h = await open();
      await putDag(
        h.store,
        dag({ id: "flaky", schedule: null }, (d) => {
          d.task("call_api", async () => 1, { retries: 3, retryDelay: "10s", retryExponentialBackoff: true, maxRetryDelay: "25s" });
        }),
        h.clock.t,
      );
      const run = await triggerRun(h.store, "flaky", { now: h.clock.t });
      await h.tick();
      const expectedDelays = [10_000, 20_000, 25_000];
      for (let attempt = 1; attempt <= 3; attempt++) {
        assert.deepEqual(h.exec.launches.map((l) => l.tryNumber), Array.from({ length: attempt }, (_, i) => i + 1));
        const failedAt = h.clock.t;
        assert.equal(await h.finishTask(run.id, "call_api", "failed"), "up_for_retry");
        let ti = (await tisOf(h.store, run.id)).call_api;
        assert.equal(ti.state, "up_for_retry");
        assert.equal(ti.next_try_at, failedAt + expectedDelays[attempt - 1]);

        await h.tick(expectedDelays[attempt - 1] - 1); // one ms early: the backoff holds
        ti = (await tisOf(h.store, run.id)).call_api;
        assert.equal(ti.state, "up_for_retry");
        assert.equal(h.exec.launches.length, attempt);

        await h.tick(1);
        assert.equal(h.exec.launches.length, attempt + 1);
        assert.equal(h.exec.launches[attempt].tryNumber, attempt + 1);
      }
      assert.equal(await h.finishTask(run.id, "call_api", "failed"), "failed");
      await h.tick();
      const ti = (await tisOf(h.store, run.id)).call_api;
      assert.equal(ti.try_number, 4);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "failed");
      assert.deepEqual((await h.store.tasks.tries(ti.id)).map((t) => [t.try_number, t.state]), [
        // Every try's own record says it failed; the task instance itself went up_for_retry until the last.
        [1, "failed"],
        [2, "failed"],
        [3, "failed"],
        [4, "failed"],
      ]);
    });

    it("an Unrecoverable-style failure (retryable=false) fails at once despite retries left", async () => {
      const h = await open();
      await putDag(h.store, dag({ id: "hopeless", schedule: null, retries: 5, retryDelay: "1s" }, (d) => void d.task("t", async () => 1)), h.clock.t);
      const run = await triggerRun(h.store, "hopeless", { now: h.clock.t });
      await h.tick();
      assert.equal(await h.finishTask(run.id, "t", { kind: "failed", error: "credentials revoked", retryable: false }), "failed");
      await h.tick(60_000);
      assert.equal(h.exec.launches.length, 1);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "failed");
    });
  });

  describe(`clearing and marking tasks (${dialect})`, () => {
    const clearable = () =>
      dag({ id: "clearable", schedule: null }, (d) => {
        const a = d.task("a", async () => 1);
        const b = d.task("b", async () => 2, { upstream: [a], retries: 1, retryDelay: "5s" });
        d.task("c", async () => 3, { upstream: [b] });
      });

    it("clearing a failed task with its downstream reruns them with a fresh retry budget until the run succeeds", async () => {
      const h = await open();
      const spec = await putDag(h.store, clearable(), h.clock.t);
      const run = await triggerRun(h.store, "clearable", { now: h.clock.t });
      await h.tick();
      await h.finishTask(run.id, "a", "success");
      await h.tick();
      await h.finishTask(run.id, "b", "failed");
      await h.tick(5_000);
      assert.equal(await h.finishTask(run.id, "b", "failed"), "failed");
      await h.tick();
      assert.equal((await h.store.runs.byPk(run.id))?.state, "failed");
      assert.deepEqual(await statesOf(h.store, run.id), { a: "success", b: "failed", c: "upstream_failed" });

      const cleared = await clearTasks(h.store, (await h.store.runs.byPk(run.id))!, spec, { taskIds: ["b"], downstream: true, now: h.clock.t });
      assert.deepEqual(cleared.sort(), ["b", "c"]);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "running");
      assert.deepEqual(await statesOf(h.store, run.id), { a: "success", b: "none", c: "none" });

      await h.tick(LOOP_MS); // the periodic sweep notices the cleared run
      assert.deepEqual(h.exec.launches.at(-1)?.tryNumber, 3);
      // A fresh retry budget: try 3 fails and is retried, it does not fail the task.
      assert.equal(await h.finishTask(run.id, "b", "failed"), "up_for_retry");
      await h.tick(5_000);
      assert.deepEqual(h.exec.launches.at(-1)?.tryNumber, 4);
      await h.finishTask(run.id, "b", "success");
      await h.tick();
      await h.finishTask(run.id, "c", "success");
      await h.tick();
      assert.equal((await h.store.runs.byPk(run.id))?.state, "success");
      assert.deepEqual(await h.launchedTasks(), ["a", "b", "b", "b", "b", "c"], "a, already successful, did not run again");
    });

    it("marking a failed task success lets the run succeed without running it again; a running task cannot be marked", async () => {
      const h = await open();
      await putDag(
        h.store,
        dag({ id: "markable", schedule: null }, (d) => {
          d.task("x", async () => 1);
          d.task("y", async () => 2);
        }),
        h.clock.t,
      );
      const run = await triggerRun(h.store, "markable", { now: h.clock.t });
      await h.tick();
      await h.finishTask(run.id, "x", "failed");
      const y = (await tisOf(h.store, run.id)).y;
      await h.exec.begin(y.id, h.clock.t);
      const runRow = (await h.store.runs.byPk(run.id))!;
      await expectSluiceError(markTask(h.store, runRow, "y", "success", h.clock.t), ErrorCode.StateConflict);
      await h.finishTask(run.id, "y", "success");
      await h.tick();
      assert.equal((await h.store.runs.byPk(run.id))?.state, "failed");

      assert.equal(await markTask(h.store, (await h.store.runs.byPk(run.id))!, "x", "success", h.clock.t), true);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "running");
      await h.tick(LOOP_MS);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "success");
      assert.equal(h.exec.launches.length, 2);
    });
  });

  describe(`real DAG files, in-process executor (${dialect})`, () => {
    it("runs a triggered pipeline end to end: results flow downstream, retries, one_failed and all_done", { timeout: 60_000 }, async () => {
      const h = await realDags(dialect, "e2e", {
        "pipeline.ts": `import { dag } from "sluice";
export default dag({ id: "e2e_pipeline", schedule: null, params: { factor: 2 } }, (d) => {
  const extract = d.task("extract", async () => ({ rows: [1, 2, 3] }));
  const transform = d.task("transform", async (ctx, { extract }) => extract.rows.map((r) => r * Number(ctx.params.factor)), { upstream: [extract] });
  d.task("load", async (_ctx, { transform }) => ({ total: transform.reduce((a, b) => a + b, 0) }), { upstream: [transform] });
});
`,
        "flaky.ts": `import { dag } from "sluice";
export default dag({ id: "e2e_flaky", schedule: null, retries: 1, retryDelay: 0 }, (d) => {
  const flaky = d.task("flaky", async (ctx) => {
    if (ctx.tryNumber === 1) throw new Error("first try fails");
    return ctx.tryNumber;
  });
  const broken = d.task("broken", async () => { throw new Error("always broken"); }, { upstream: [flaky], retries: 0 });
  d.task("alert", async () => "alerted", { upstream: [broken], triggerRule: "one_failed" });
  d.task("cleanup", async () => "cleaned", { upstream: [broken], triggerRule: "all_done" });
});
`,
      });
      try {
        const { store } = h;
        assert.equal(h.scan.dags, 2);
        const byDefault = await triggerRun(store, "e2e_pipeline", { runId: "default_factor" });
        const withConf = await triggerRun(store, "e2e_pipeline", { runId: "factor_10", conf: { factor: 10 } });
        const flaky = await triggerRun(store, "e2e_flaky", { runId: "flaky_run" });
        const finished = await h.runUntilFinished(3);

        assert.deepEqual(Object.fromEntries(finished), { default_factor: "success", factor_10: "success", flaky_run: "failed" });
        assert.deepEqual(JSON.parse((await tisOf(store, byDefault.id)).load.result!), { total: 12 });
        assert.deepEqual(JSON.parse((await tisOf(store, withConf.id)).load.result!), { total: 60 });

        const f = await tisOf(store, flaky.id);
        assert.deepEqual(
          Object.fromEntries(Object.entries(f).map(([k, t]) => [k, [t.state, t.try_number]])),
          { flaky: ["success", 2], broken: ["failed", 1], alert: ["success", 1], cleanup: ["success", 1] },
        );
        assert.equal(JSON.parse(f.flaky.result!), 2);
        assert.match(f.broken.error ?? "", /always broken/);
      } finally {
        await h.close();
      }
    });
  });
});
