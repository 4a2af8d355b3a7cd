/**
 * What the scheduler hands to the executor when slots are scarce (global
 * parallelism, per-DAG max active tasks, pools, executor slots, priorities),
 * run timeouts, and crash recovery: attempts left by a dead scheduler are
 * retried or re-queued, and no attempt is dispatched twice. Real store on
 * SQLite and PostgreSQL, injected clock, recording executor.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { afterEach, describe, it } from "node:test";
import { finishAttempt } from "../../src/runner/finishAttempt.js";
import { clearTasks } from "../../src/runs/clearTasks.js";
import { triggerRun } from "../../src/runs/createRun.js";
import type { SchedulerEvent } from "../../src/scheduler/scheduler.js";
import { dag } from "../../src/sdk/dag.js";
import { DIALECTS } from "../helpers/db.js";
import { deadPid, harness, putDag, runsOf, statesOf, tisOf, waitFor, type Harness } from "./helpers.js";

/** A DAG of `n` independent tasks t0..t{n-1}. */
function wide(id: string, n: number, opts: { maxActiveTasks?: number } = {}) {
  return dag({ id, schedule: null, ...opts }, (d) => {
    for (let i = 0; i < n; i++) d.task(`t${i}`, async () => i);
  });
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

for (const dialect of DIALECTS) describe(`scheduler limits and recovery on ${dialect}`, () => {
  const opened: Harness[] = [];
  const open = async (o: Parameters<typeof harness>[1] = {}) => {
    const h = await harness(dialect, { label: "limits", ...o });
    opened.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of opened.splice(0)) await h.close();
  });

  /** DAG id of each launch so far. */
  async function launchedDags(h: Harness): Promise<Record<string, number>> {
    const rows = await Promise.all(h.exec.launches.map((l) => h.store.tasks.get(l.tiId)));
    return countBy(rows, (r) => r!.dag_id);
  }

  describe("limits", () => {
    it("global parallelism caps queued + running attempts across all DAGs", async () => {
      const h = await open({ parallelism: 3, slots: 10 });
      await putDag(h.store, wide("left", 4), h.clock.t);
      await putDag(h.store, wide("right", 4), h.clock.t);
      await triggerRun(h.store, "left", { now: h.clock.t });
      await triggerRun(h.store, "right", { now: h.clock.t });
      await h.tick();
      assert.equal(h.exec.launches.length, 3);
      await h.tick();
      assert.equal(h.exec.launches.length, 3, "no slot freed, nothing more dispatched");
      await h.exec.finish(h.exec.heldIds()[0], "success", h.clock.t);
      await h.tick();
      assert.equal(h.exec.launches.length, 4);
      assert.equal(h.exec.heldIds().length, 3);
    });

    it("maxActiveTasks caps one DAG (across its runs) without holding back other DAGs", async () => {
      const h = await open();
      await putDag(h.store, wide("capped", 5, { maxActiveTasks: 2 }), h.clock.t);
      await putDag(h.store, wide("free", 3), h.clock.t);
      await triggerRun(h.store, "capped", { now: h.clock.t });
      await triggerRun(h.store, "capped", { now: h.clock.t + 1 });
      await triggerRun(h.store, "free", { now: h.clock.t });
      await h.tick();
      assert.deepEqual(await launchedDags(h), { capped: 2, free: 3 });
      const cappedHeld = [];
      for (const id of h.exec.heldIds()) if ((await h.store.tasks.get(id))!.dag_id === "capped") cappedHeld.push(id);
      await h.exec.finish(cappedHeld[0], "success", h.clock.t);
      await h.tick();
      assert.deepEqual(await launchedDags(h), { capped: 3, free: 3 });
    });

    it("pool slots: a task takes poolSlots slots, a smaller task fills the gap, and the pool is shared by DAGs", async () => {
      const h = await open();
      await h.store.pools.upsert("gpu", 3, "three GPUs");
      await putDag(
        h.store,
        dag({ id: "training", schedule: null, pool: "gpu" }, (d) => {
          d.task("big1", async () => 1, { poolSlots: 2, priorityWeight: 30 });
          d.task("big2", async () => 2, { poolSlots: 2, priorityWeight: 20 });
          d.task("small", async () => 3, { priorityWeight: 10 });
          d.task("cpu_only", async () => 4, { pool: "default_pool", priorityWeight: 1 });
        }),
        h.clock.t,
      );
      await putDag(h.store, dag({ id: "inference", schedule: null }, (d) => void d.task("predict", async () => 5, { pool: "gpu", priorityWeight: 5 })), h.clock.t);
      const run = await triggerRun(h.store, "training", { now: h.clock.t });
      await triggerRun(h.store, "inference", { now: h.clock.t });
      await h.tick();
      // big1 (2 slots) + small (1) fill the 3 GPU slots; big2 and predict wait; cpu_only is in another pool.
      assert.deepEqual((await h.launchedTasks()).sort(), ["big1", "cpu_only", "small"]);
      await h.finishTask(run.id, "big1", "success");
      await h.tick();
      assert.deepEqual((await h.launchedTasks()).slice(3), ["big2"], "big2 (2 slots) takes the 2 freed slots first: higher priority");
      await h.finishTask(run.id, "small", "success");
      await h.tick();
      assert.deepEqual((await h.launchedTasks()).slice(4), ["predict"]);
    });

    it("never launches more than the executor's free slots", async () => {
      const h = await open({ slots: 2 });
      await putDag(h.store, wide("many", 5), h.clock.t);
      await triggerRun(h.store, "many", { now: h.clock.t });
      await h.tick();
      assert.equal(h.exec.launches.length, 2);
      await h.exec.finish(h.exec.heldIds()[0], "success", h.clock.t);
      await h.tick();
      assert.equal(h.exec.launches.length, 3);
      h.exec.slots = 5;
      await h.tick();
      assert.equal(h.exec.launches.length, 5);
    });

    it("dispatches higher priority weights first", async () => {
      const h = await open({ slots: 1 });
      await putDag(
        h.store,
        dag({ id: "prio", schedule: null }, (d) => {
          d.task("low", async () => 1, { priorityWeight: 1 });
          d.task("mid", async () => 2, { priorityWeight: 5 });
          d.task("high", async () => 3, { priorityWeight: 10 });
        }),
        h.clock.t,
      );
      await putDag(h.store, dag({ id: "other", schedule: null }, (d) => void d.task("urgent", async () => 4, { priorityWeight: 7 })), h.clock.t);
      await triggerRun(h.store, "prio", { now: h.clock.t });
      await triggerRun(h.store, "other", { now: h.clock.t });
      for (let i = 0; i < 4; i++) {
        await h.tick();
        await h.finishAll();
      }
      assert.deepEqual(await h.launchedTasks(), ["high", "urgent", "mid", "low"]);
    });

    it("a DAG at its maxActiveTasks limit with a long backlog of higher-priority tasks does not starve other DAGs", async () => {
      const h = await open({ slots: 2 });
      await putDag(
        h.store,
        dag({ id: "hog", schedule: null, maxActiveTasks: 1, priorityWeight: 10 }, (d) => {
          for (let i = 0; i < 60; i++) d.task(`t${i}`, async () => i);
        }),
        h.clock.t,
      );
      await putDag(h.store, wide("modest", 1), h.clock.t);
      await triggerRun(h.store, "hog", { now: h.clock.t });
      await triggerRun(h.store, "modest", { now: h.clock.t });
      await h.tick();
      // One slot goes to hog (its limit), the other is free and modest's task is ready.
      assert.deepEqual(await launchedDags(h), { hog: 1, modest: 1 });
    });

    it("fails a task that names a missing pool, with a message naming the pool", async () => {
      const h = await open();
      await putDag(
        h.store,
        dag({ id: "typo", schedule: null }, (d) => {
          d.task("train", async () => 1, { pool: "gpus" });
          d.task("prepare", async () => 2);
        }),
        h.clock.t,
      );
      const run = await triggerRun(h.store, "typo", { now: h.clock.t });
      await h.tick();
      assert.deepEqual(await h.launchedTasks(), ["prepare"]);
      const train = (await tisOf(h.store, run.id)).train;
      assert.equal(train.state, "failed");
      assert.match(train.error ?? "", /Pool "gpus" does not exist/);
      await h.finishAll();
      await h.tick(1_000);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "failed");
    });
  });

  describe("run timeout", () => {
    it("fails a run older than runTimeout: running attempts are cancelled, waiting tasks skipped", async () => {
      const h = await open({ slots: 1 });
      await putDag(
        h.store,
        dag({ id: "slow", schedule: null, runTimeout: "1m" }, (d) => {
          const a = d.task("a", async () => 1);
          d.task("b", async () => 2);
          d.task("c", async () => 3, { upstream: [a] });
        }),
        h.clock.t,
      );
      const events: SchedulerEvent[] = [];
      h.scheduler.on((e) => events.push(e));
      const run = await triggerRun(h.store, "slow", { now: h.clock.t });
      await h.tick();
      const startedAt = (await h.store.runs.byPk(run.id))!.start_date!;
      assert.deepEqual(await h.launchedTasks(), ["a"]);
      const a = (await tisOf(h.store, run.id)).a;
      await h.exec.begin(a.id, h.clock.t);

      // Timeouts are checked by the periodic sweep (every loopIntervalMs = 1 s here).
      await h.tick(59_000 - (h.clock.t - startedAt));
      assert.equal((await h.store.runs.byPk(run.id))?.state, "running", "not yet: 1 s left");
      assert.deepEqual(h.exec.cancelled, []);

      await h.tick(1_000);
      const done = (await h.store.runs.byPk(run.id))!;
      assert.equal(done.state, "failed");
      assert.match(done.note ?? "", /timeout/);
      assert.deepEqual(h.exec.cancelled, [a.id]);
      // Whoever waits for the run (`sluice dags test`, `trigger --wait`) hears that it ended.
      assert.deepEqual(events, [{ type: "run:finished", dagId: "slow", runId: run.run_id, state: "failed" }]);
      assert.deepEqual(await statesOf(h.store, run.id), { a: "failed", b: "skipped", c: "skipped" });
      const tis = await tisOf(h.store, run.id);
      assert.match(tis.a.error ?? "", /timeout/);
      assert.deepEqual((await h.store.tasks.tries(a.id)).map((t) => t.state), ["failed"]);
      await h.tick(1_000);
      assert.deepEqual(await h.launchedTasks(), ["a"], "nothing of the timed-out run is dispatched afterwards");
    });

    it("clearing a timed-out run later gives it a fresh run timeout: its tasks run again and it can succeed", async () => {
      const h = await open();
      const spec = await putDag(h.store, dag({ id: "slow_then_fixed", schedule: null, runTimeout: "1m" }, (d) => void d.task("a", async () => 1)), h.clock.t);
      const run = await triggerRun(h.store, "slow_then_fixed", { now: h.clock.t });
      await h.tick();
      await h.tick(61_000);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "failed");

      h.clock.advance(3_600_000); // an hour later, someone clears the run
      assert.deepEqual(await clearTasks(h.store, (await h.store.runs.byPk(run.id))!, spec, { now: h.clock.t }), ["a"]);
      await h.tick(1_000);
      assert.equal((await h.store.runs.byPk(run.id))?.state, "running", "the rerun is not timed out at once");
      assert.equal(h.exec.launches.length, 2);
      await h.finishAll();
      await h.tick();
      assert.equal((await h.store.runs.byPk(run.id))?.state, "success");
    });
  });

  describe("crash recovery", () => {
    /** A run whose task instances are put by hand in the states a killed scheduler left them in. */
    async function leftovers(h: Harness, retries: number) {
      await putDag(
        h.store,
        dag({ id: "crashed", schedule: null, retryDelay: "30s" }, (d) => {
          d.task("stuck", async () => 1, { retries });
          d.task("unstarted", async () => 2);
          d.task("elsewhere", async () => 3);
        }),
        h.clock.t,
      );
      const run = await triggerRun(h.store, "crashed", { now: h.clock.t });
      const longAgo = h.clock.t - 10 * 60_000;
      await h.store.runs.setState(run.id, ["queued"], { state: "running", start_date: longAgo });
      const pid = deadPid();
      const deadJob = await h.store.jobs.register("scheduler", hostname(), pid, longAgo);
      const liveJob = await h.store.jobs.register("scheduler", hostname(), process.pid, h.clock.t);
      const tis = await tisOf(h.store, run.id);
      const running = { state: "running", try_number: 1, start_date: longAgo, hostname: hostname(), heartbeat_at: longAgo, queued_at: longAgo } as const;
      assert.ok(await h.store.tasks.cas(tis.stuck.id, ["none"], { ...running, owner_job: deadJob, pid }));
      await h.store.tasks.recordTry({ ti_id: tis.stuck.id, try_number: 1, state: "running", start_date: longAgo, end_date: null, duration_ms: null, hostname: hostname(), pid, error: null });
      assert.ok(await h.store.tasks.cas(tis.unstarted.id, ["none"], { state: "queued", try_number: 1, queued_at: longAgo, owner_job: deadJob }));
      // Running under another scheduler that is alive: not ours to touch.
      assert.ok(await h.store.tasks.cas(tis.elsewhere.id, ["none"], { ...running, owner_job: liveJob, pid: process.pid, heartbeat_at: h.clock.t }));
      return { run, tis, pid, deadJob, liveJob };
    }

    it("a new scheduler's start() retries the dead scheduler's lost attempt and re-queues its unstarted one, touching nothing of a live scheduler", async () => {
      const h = await open({ slots: 0 });
      const { run, tis, pid, deadJob, liveJob } = await leftovers(h, 1);
      await h.scheduler.start();
      await h.scheduler.stop();

      const after = await tisOf(h.store, run.id);
      assert.equal(after.stuck.state, "up_for_retry");
      assert.equal(after.stuck.next_try_at, h.clock.t + 30_000);
      assert.match(after.stuck.error ?? "", new RegExp(`pid ${pid}.*is gone`));
      assert.deepEqual((await h.store.tasks.tries(tis.stuck.id)).map((t) => [t.try_number, t.state]), [[1, "failed"]]);
      // The try number is kept (a process handed try 1 may still try to claim it; try numbers name one
      // attempt only) and the lost try does not count against the retry budget.
      assert.deepEqual(
        [after.unstarted.state, after.unstarted.try_number, after.unstarted.max_tries, after.unstarted.owner_job],
        ["scheduled", 1, tis.unstarted.max_tries + 1, null],
      );
      assert.deepEqual([after.elsewhere.state, after.elsewhere.owner_job], ["running", liveJob]);
      assert.equal((await h.store.jobs.get(deadJob))?.state, "dead");
      assert.equal((await h.store.jobs.get(liveJob))?.state, "running");
      assert.equal(h.exec.launches.length, 0);

      // The dead scheduler's attempt reports late: its try is over, the report is ignored.
      const late = await finishAttempt(h.store, { id: tis.stuck.id, try_number: 1, max_tries: 2, start_date: tis.stuck.start_date }, { kind: "success", result: "1" }, { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 }, h.clock.t);
      assert.equal(late, null);
      assert.equal((await h.store.tasks.get(tis.stuck.id))?.state, "up_for_retry");

      h.exec.slots = 10;
      await h.tick();
      await h.tick(30_000);
      assert.deepEqual(
        h.exec.launches.map((l) => [l.tiId, l.tryNumber]).sort(),
        [
          [tis.stuck.id, 2],
          [tis.unstarted.id, 2],
        ].sort(),
      );
      assert.equal(new Set(h.exec.launches.map((l) => l.tiId)).size, h.exec.launches.length, "each instance dispatched once");
    });

    it("a dead scheduler's attempt on another host is failed only once its heartbeat stops (a live task process is never run twice)", async () => {
      const h = await open({ slots: 0 });
      await putDag(h.store, dag({ id: "remote", schedule: null, retryDelay: "10s" }, (d) => void d.task("t", async () => 1, { retries: 1 })), h.clock.t);
      const run = await triggerRun(h.store, "remote", { now: h.clock.t });
      await h.store.runs.setState(run.id, ["queued"], { state: "running", start_date: h.clock.t });
      const deadJob = await h.store.jobs.register("scheduler", "another-host", 4242, h.clock.t - 10 * 60_000);
      const { t } = await tisOf(h.store, run.id);
      // Its scheduler is gone, but the task process on the other host still heartbeats.
      assert.ok(await h.store.tasks.cas(t.id, ["none"], { state: "running", try_number: 1, start_date: h.clock.t, hostname: "another-host", pid: 4242, heartbeat_at: h.clock.t, owner_job: deadJob }));
      await h.scheduler.start();
      assert.equal((await h.store.jobs.get(deadJob))?.state, "dead");
      assert.equal((await h.store.tasks.get(t.id))?.state, "running", "a heartbeating attempt is left to finish");
      await h.tick(30_000);
      assert.equal((await h.store.tasks.get(t.id))?.state, "running");
      // No heartbeat for longer than zombieThresholdMs (60 s): now it is a zombie.
      await h.tick(31_000);
      const after = await h.store.tasks.get(t.id);
      assert.equal(after?.state, "up_for_retry");
      assert.match(after?.error ?? "", /pid 4242 on another-host\) is gone/);
      assert.equal(after?.next_try_at, h.clock.t + 10_000, "retried with the task's own delay");
      await h.scheduler.stop();
    });

    it("a lost attempt with no retries left fails, and so does its run", async () => {
      const h = await open({ slots: 0 });
      const { run } = await leftovers(h, 0);
      // The live scheduler finishes its own attempt meanwhile; the zombie decides the run.
      const tis = await tisOf(h.store, run.id);
      await finishAttempt(h.store, tis.elsewhere, { kind: "success", result: null }, { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 }, h.clock.t);
      await h.scheduler.start();
      await h.scheduler.stop();
      assert.equal((await tisOf(h.store, run.id)).stuck.state, "failed");
      h.exec.slots = 10;
      await h.tick();
      await h.finishAll();
      await h.tick();
      assert.deepEqual(await statesOf(h.store, run.id), { stuck: "failed", unstarted: "success", elsewhere: "success" });
      assert.equal((await runsOf(h.store, "crashed"))[0].state, "failed");
    });

    it("two schedulers dispatching the same run at once launch each task instance exactly once", async () => {
      // Sweeps only when the clock moves an hour: the loops started by start() stay asleep after their first pass.
      const h = await open({ slots: 0, loopIntervalMs: 3_600_000 });
      const other = h.newScheduler({ store: await h.openAnotherStore(), slots: 0, loopIntervalMs: 3_600_000 });
      await putDag(h.store, dag({ id: "contended", schedule: null, maxActiveTasks: 100 }, (d) => {
        for (let i = 0; i < 20; i++) d.task(`t${i}`, async () => i);
      }), h.clock.t);
      const run = await triggerRun(h.store, "contended", { now: h.clock.t });
      await h.scheduler.start();
      await other.scheduler.start();
      // Registered in that order: the lower job id is h's.
      const [hJob, otherJob] = (await h.store.jobs.running("scheduler")).map((j) => j.id).sort((a, b) => a - b);
      try {
        // Both first passes are done once they reach dispatch (no free slots: nothing launched).
        await waitFor(() => h.exec.freeSlotsCalls > 0 && other.exec.freeSlotsCalls > 0, 10_000, "both schedulers' first pass");
        await h.tick(1); // no sweep: the run is started and its tasks are scheduled
        assert.ok(Object.values(await statesOf(h.store, run.id)).every((s) => s === "scheduled"));
        h.exec.slots = 32;
        other.exec.slots = 32;
        await Promise.all([h.scheduler.tick(), other.scheduler.tick()]);
      } finally {
        await h.scheduler.stop();
        await other.scheduler.stop();
      }
      const all = [...h.exec.launches, ...other.exec.launches];
      assert.equal(all.length, 20);
      assert.equal(new Set(all.map((l) => l.tiId)).size, 20, "no instance launched twice");
      assert.ok(all.every((l) => l.tryNumber === 1));
      for (const ti of await h.store.tasks.forRun(run.id)) {
        assert.equal(ti.state, "queued");
        assert.equal(ti.try_number, 1);
        // Each instance belongs to the scheduler whose executor got it.
        const mine = h.exec.launches.some((l) => l.tiId === ti.id);
        assert.equal(ti.owner_job, mine ? hJob : otherJob);
      }
    });

    // Several schedulers share one database only on PostgreSQL (SQLite is one scheduler per file).
    if (dialect === "postgres") {
      it("two schedulers racing for the last slots of a pool and of a DAG never exceed either limit", async () => {
        const h = await open({ slots: 0, loopIntervalMs: 3_600_000 });
        const other = h.newScheduler({ store: await h.openAnotherStore(), slots: 0, loopIntervalMs: 3_600_000 });
        await h.store.pools.upsert("narrow", 3);
        await putDag(h.store, dag({ id: "pooled", schedule: null, maxActiveTasks: 100, pool: "narrow" }, (d) => {
          for (let i = 0; i < 12; i++) d.task(`p${i}`, async () => i);
        }), h.clock.t);
        await putDag(h.store, dag({ id: "capped", schedule: null, maxActiveTasks: 2 }, (d) => {
          for (let i = 0; i < 12; i++) d.task(`c${i}`, async () => i);
        }), h.clock.t);
        const pooled = await triggerRun(h.store, "pooled", { now: h.clock.t });
        const capped = await triggerRun(h.store, "capped", { now: h.clock.t });
        await h.scheduler.start();
        await other.scheduler.start();
        try {
          await waitFor(() => h.exec.freeSlotsCalls > 0 && other.exec.freeSlotsCalls > 0, 10_000, "both schedulers' first pass");
          await h.tick(1);
          h.exec.slots = 32;
          other.exec.slots = 32;
          for (let round = 0; round < 5; round++) await Promise.all([h.scheduler.tick(), other.scheduler.tick()]);
        } finally {
          await h.scheduler.stop();
          await other.scheduler.stop();
        }
        const active = async (runPk: number) => Object.values(await statesOf(h.store, runPk)).filter((s) => s === "queued" || s === "running").length;
        assert.equal(await active(pooled.id), 3, "pool narrow has 3 slots");
        assert.equal(await active(capped.id), 2, "capped allows 2 active tasks");
        assert.equal(h.exec.launches.length + other.exec.launches.length, 5);
      });
    }
  });
});
