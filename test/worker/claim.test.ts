/**
 * The queue claim (FOR UPDATE SKIP LOCKED): concurrent claimers never take the
 * same instance, routing by queue, a claimed instance is not claimed again,
 * hand-back, and an attempt finishes at most once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { finishAttempt } from "../../src/runner/finishAttempt.js";
import { openStore, type Store } from "../../src/store/store.js";
import { DIALECTS } from "../helpers/db.js";
import { T0, taskSpec } from "../store/fixtures/specs.js";
import { targetTracker } from "../store/fixtures/targets.js";

const targets = targetTracker();
after(() => targets.removeAll());
const NO_DELAY = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };

/** A run with `n` tasks (queue by index), all queued by scheduler job `schedulerJob`. */
async function queuedRun(store: Store, label: string, n: number, queueOf: (i: number) => string, schedulerJob: number): Promise<number[]> {
  const run = await store.runs.create({
    dagId: label,
    runId: "manual__1",
    runType: "manual",
    state: "running",
    logicalDate: T0,
    intervalStart: T0,
    intervalEnd: T0,
    versionHash: "h",
    conf: {},
    params: {},
    tasks: Array.from({ length: n }, (_, i) => taskSpec(`t${i}`, { queue: queueOf(i) })),
    now: T0,
  });
  const ids = (await store.tasks.forRun(run.id)).map((t) => t.id);
  await store.tasks.casMany(ids, ["none"], { state: "scheduled", updated_at: T0 });
  const queued = await store.tasks.queueMany(ids, T0, schedulerJob);
  assert.equal(queued.length, n);
  return ids;
}

describe("queue claim (postgres)", () => {
  let store: Store;
  let other: Store;
  before(async () => {
    const target = await targets.fresh("postgres", "claim");
    store = await openStore(target, { migrate: true });
    await store.pools.ensureDefault(128);
    // A second pool of connections: another worker process.
    other = await openStore(target);
  });
  after(async () => {
    await other?.close();
    await store?.close();
  });

  it("two concurrent claimers never get the same instance, and together get all of them", async () => {
    const sched = await store.jobs.register("scheduler", "h", 1, T0);
    const ids = await queuedRun(store, "race", 200, () => "default", sched);
    const w1 = await store.jobs.register("worker", "h", 2, T0);
    const w2 = await other.jobs.register("worker", "h", 3, T0);
    const got = new Map<number, number[]>([
      [w1, []],
      [w2, []],
    ]);
    // Small batches, many rounds, both at once: the rows each one locks are skipped by the other.
    const claimer = async (s: Store, job: number) => {
      for (;;) {
        const rows = await s.queue.claim({ jobId: job, queues: ["default"], limit: 3, hostname: "h", pid: job, now: T0 });
        if (rows.length === 0) return;
        got.get(job)!.push(...rows.map((r) => r.id));
      }
    };
    await Promise.all([claimer(store, w1), claimer(other, w2), claimer(store, w1), claimer(other, w2)]);
    const all = [...got.get(w1)!, ...got.get(w2)!];
    assert.equal(new Set(all).size, all.length, "an instance was claimed twice");
    assert.deepEqual([...all].sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
    assert.ok(got.get(w1)!.length > 0 && got.get(w2)!.length > 0, "both claimers got work");
    // Ownership is recorded: each row names the worker that took it.
    const rows = await store.tasks.forRun((await store.tasks.get(ids[0]))!.run_pk);
    for (const r of rows) assert.equal(r.owner_job, got.get(w1)!.includes(r.id) ? w1 : w2);
  });

  it("routes by queue and never re-claims an instance a worker owns", async () => {
    const sched = await store.jobs.register("scheduler", "h", 1, T0);
    const ids = await queuedRun(store, "routing", 6, (i) => (i % 3 === 0 ? "highmem" : "default"), sched);
    const wDefault = await store.jobs.register("worker", "h", 4, T0);
    const wHigh = await store.jobs.register("worker", "h", 5, T0);
    const d = await store.queue.claim({ jobId: wDefault, queues: ["default"], limit: 100, hostname: "h", pid: 4, now: T0 });
    assert.deepEqual(new Set(d.map((r) => r.queue)), new Set(["default"]));
    assert.equal(d.length, 4);
    // The default worker's rows are queued still (no task process claimed them yet) but owned: not offered again.
    const h = await store.queue.claim({ jobId: wHigh, queues: ["highmem", "default"], limit: 100, hostname: "h", pid: 5, now: T0 });
    assert.deepEqual(h.map((r) => r.id).sort((a, b) => a - b), [ids[0], ids[3]].sort((a, b) => a - b));
    assert.deepEqual(await store.queue.claim({ jobId: wHigh, queues: ["highmem", "default"], limit: 100, hostname: "h", pid: 5, now: T0 }), []);
    assert.deepEqual(await store.queue.workerJobs([wDefault, wHigh, sched]), new Set([wDefault, wHigh]));
  });

  it("hand-back makes the abandoned try lose its compare-and-set; an attempt finishes at most once", async () => {
    const sched = await store.jobs.register("scheduler", "h", 1, T0);
    const [a, b] = await queuedRun(store, "once", 2, () => "default", sched);
    const w = await store.jobs.register("worker", "h", 6, T0);
    const claimed = await store.queue.claim({ jobId: w, queues: ["default"], limit: 2, hostname: "h", pid: 6, now: T0 });
    assert.equal(claimed.length, 2);
    const tryOf = (id: number) => claimed.find((c) => c.id === id)!.try_number;
    // Both start running (what the task process's claim does).
    for (const id of [a, b]) assert.ok(await store.tasks.cas(id, ["queued"], { state: "running", start_date: T0 + 1 }, tryOf(id)));

    // a: two reporters of the same try (task process and a reaper): only the first write wins.
    const ti = (await store.tasks.get(a))!;
    assert.equal(await finishAttempt(store, ti, { kind: "success", result: null }, NO_DELAY, T0 + 2), "success");
    assert.equal(await finishAttempt(other, ti, { kind: "failed", error: "zombie", retryable: true }, NO_DELAY, T0 + 3), null);
    const tries = await store.db.selectFrom("task_try").selectAll().where("ti_id", "=", a).execute();
    assert.deepEqual(tries.map((t) => t.state), ["success"]);

    // b: handed back by its worker; the late report of the abandoned try loses.
    const before = (await store.tasks.get(b))!;
    const back = await store.transaction((tx) => tx.queue.handBack(b, tryOf(b), w, T0 + 4, "handed back"));
    assert.equal(back?.state, "running");
    const after = (await store.tasks.get(b))!;
    assert.deepEqual([after.state, after.try_number, after.max_tries, after.owner_job], ["scheduled", before.try_number, before.max_tries + 1, null]);
    assert.equal(await finishAttempt(store, before, { kind: "success", result: null }, NO_DELAY, T0 + 5), null);
    // Another worker cannot hand back what it does not own, nor can the same worker twice.
    assert.equal(await store.transaction((tx) => tx.queue.handBack(b, tryOf(b), w, T0 + 6, "again")), undefined);
    // The next dispatch is a new try, runnable once.
    const [re] = await store.tasks.queueMany([b], T0 + 7, sched);
    assert.equal(re.try_number, before.try_number + 1);
  });
});

for (const dialect of DIALECTS.filter((d) => d === "sqlite")) {
  describe(`queue claim (${dialect})`, () => {
    it("is refused with the fix named: queue workers need PostgreSQL", async () => {
      const store = await openStore(await targets.fresh(dialect, "claim_sqlite"), { migrate: true });
      try {
        await assert.rejects(store.queue.claim({ jobId: 1, queues: ["default"], limit: 1, hostname: "h", pid: 1, now: T0 }), /need PostgreSQL/);
        // NOTIFY is a no-op there (the local executor never uses it), not an error.
        await store.queue.notify("sluice_queued", "default");
        assert.deepEqual(await store.queue.workerJobs([1]), new Set());
      } finally {
        await store.close();
      }
    });
  });
}
