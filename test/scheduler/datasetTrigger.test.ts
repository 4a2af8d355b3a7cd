/**
 * DAGs scheduled on datasets, through the real scheduler on SQLite and
 * PostgreSQL: producer tasks run for real (executeAttempt, the runner's own
 * path, so a success records its events and a failure none), the scheduler
 * sweeps on an injected clock, and the consumer's runs, the events they
 * consumed and the queue are read back from the store.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import type { Executor, FinishedListener, LaunchRequest } from "../../src/executors/executor.js";
import { executeAttempt } from "../../src/runner/executeAttempt.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { Scheduler } from "../../src/scheduler/scheduler.js";
import { dag, type Dag } from "../../src/sdk/dag.js";
import { anyOf, allOf, dataset, type DatasetSchedule } from "../../src/sdk/dataset.js";
import { openStore, type Store } from "../../src/store/store.js";
import type { TaskInstanceRow } from "../../src/store/taskQueries.js";
import { DIALECTS, type TestDialect } from "../helpers/db.js";
import { Clock, iso, LOOP_MS, openFresh, putDag, runsOf, schedulerOptions, silentLog } from "./helpers.js";

const A = dataset("s3://lake/a");
const B = dataset("s3://lake/b");
const C = dataset("s3://lake/c");

/** Producer DAGs whose next attempt fails (their task throws). */
const failing = new Set<string>();

/** prod_a, prod_b, prod_c: one task "write" producing one dataset. */
const producers = ([["prod_a", A], ["prod_b", B], ["prod_c", C]] as const).map(([id, uri]) =>
  dag({ id, schedule: null }, (d) => {
    d.task(
      "write",
      async () => {
        if (failing.has(id)) throw new Error("source unavailable");
        return 1;
      },
      { outlets: [uri] },
    );
  }),
);

/** A consumer scheduled on `schedule`: one task that reads the datasets. */
const consumer = (schedule: DatasetSchedule, opts: { id?: string; maxActiveRuns?: number } = {}) =>
  dag({ id: opts.id ?? "consumer", schedule, maxActiveRuns: opts.maxActiveRuns }, (d) => void d.task("read", async () => "read"));

/**
 * Runs launched attempts for real, in this process (executeAttempt with the
 * DAG objects above), when the test calls settle(). Attempts of a DAG in
 * `holding` wait, launched but not run, until release(): a run that stays
 * active as long as the test wants.
 */
class RunnerExecutor implements Executor {
  readonly name = "runner";
  onFinished: FinishedListener | undefined;
  readonly holding = new Set<string>();
  launches = 0;
  private fresh: LaunchRequest[] = [];
  private waiting: { req: LaunchRequest; dagId: string }[] = [];
  private inFlight = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly dags: Dag[],
    private readonly clock: Clock,
    private readonly dagsFolder: string,
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  freeSlots(): number {
    return 32 - this.fresh.length - this.waiting.length - this.inFlight.size;
  }
  launch(req: LaunchRequest): void {
    this.launches++;
    this.fresh.push(req);
  }
  cancel(): void {}
  runningIds(): number[] {
    return [...this.fresh.map((r) => r.tiId), ...this.waiting.map((w) => w.req.tiId), ...this.inFlight];
  }
  async adopt(rows: TaskInstanceRow[]): Promise<TaskInstanceRow[]> {
    return rows;
  }

  /** Run every launched attempt that is not held, to its end. */
  async settle(): Promise<void> {
    while (this.fresh.length > 0) {
      for (const req of this.fresh.splice(0)) {
        const dagId = (await this.store.tasks.get(req.tiId))!.dag_id;
        if (this.holding.has(dagId)) {
          this.waiting.push({ req, dagId });
          continue;
        }
        this.inFlight.add(req.tiId);
        const deps = { store: this.store, dagsFolder: this.dagsFolder, maxResultBytes: 65_536, heartbeatIntervalMs: 60_000, loadDag: async () => this.dags, now: this.clock.now };
        const report = await executeAttempt(deps, req.tiId, req.tryNumber);
        this.inFlight.delete(req.tiId);
        this.onFinished?.(req.tiId, req.runPk, req.taskId, report.state);
      }
    }
  }

  /** Let a held DAG's attempts run (at the next settle) and stop holding it. */
  release(dagId: string): void {
    this.holding.delete(dagId);
    for (const w of this.waiting.splice(0)) {
      if (w.dagId === dagId) this.fresh.push(w.req);
      else this.waiting.push(w);
    }
  }
}

interface Setup {
  store: Store;
  clock: Clock;
  exec: RunnerExecutor;
  scheduler: Scheduler;
  /** Scheduler passes until nothing more is launched; `sweep` first moves the clock so the first pass sweeps (creates runs). */
  pump(sweep?: boolean): Promise<void>;
  /** Trigger a producer and run it to its end; returns its run id. */
  produce(producerId: string): Promise<string>;
  /** The consumer's runs, oldest first, with the events each consumed (URI list, oldest first). */
  consumerRuns(dagId?: string): Promise<{ runId: string; runType: string; state: string; logical: string; interval: [string, string]; uris: string[]; eventIds: number[] }[]>;
  eventIds(uri: string): Promise<number[]>;
  /** A second connection pool to the same database, as another scheduler process has (closed by close()). */
  openAnotherStore(): Promise<Store>;
  close(): Promise<void>;
}

let triggered = 0;

async function setup(dialect: TestDialect, dags: Dag[], opts: { pausedConsumers?: boolean } = {}): Promise<Setup> {
  const { store, target, cleanup } = await openFresh(dialect, "ds_trigger");
  const clock = new Clock(Date.parse("2026-03-01T12:00:00Z"));
  const folder = mkdtempSync(join(tmpdir(), "sluice-ds-trigger-"));
  const all = [...producers, ...dags];
  for (const d of producers) await putDag(store, d, clock.t);
  for (const d of dags) await putDag(store, d, clock.t, opts.pausedConsumers ?? false);
  const exec = new RunnerExecutor(store, all, clock, folder);
  const scheduler = new Scheduler(store, exec, undefined, schedulerOptions(clock), silentLog);
  exec.onFinished = scheduler.onAttemptFinished;
  const others: Store[] = [];
  const s: Setup = {
    store,
    clock,
    exec,
    scheduler,
    async pump(sweep = false) {
      if (sweep) clock.advance(LOOP_MS);
      // Two quiet passes in a row: the first may only finish a run, which frees a slot the second fills.
      let quiet = 0;
      for (let i = 0; i < 50 && quiet < 2; i++) {
        const before = exec.launches;
        await scheduler.tick();
        await exec.settle();
        quiet = exec.launches === before ? quiet + 1 : 0;
      }
      assert.equal(quiet, 2, "the scheduler kept launching attempts");
    },
    async produce(producerId) {
      const run = await triggerRun(store, producerId, { runId: `p${++triggered}`, now: clock.t });
      await s.pump();
      return run.run_id;
    },
    async consumerRuns(dagId = "consumer") {
      const out = [];
      for (const r of await runsOf(store, dagId)) {
        const events = (await store.datasetTriggers.eventsOfRun(r.id, 1000)).rows.reverse();
        out.push({
          runId: r.run_id,
          runType: r.run_type,
          state: r.state,
          logical: iso(r.logical_date),
          interval: [iso(r.interval_start), iso(r.interval_end)] as [string, string],
          uris: events.map((e) => e.uri),
          eventIds: events.map((e) => Number(e.id)),
        });
      }
      return out;
    },
    async eventIds(uri) {
      return (await store.datasets.events({ uri, limit: 1000, offset: 0 })).rows.map((e) => Number(e.id)).reverse();
    },
    async openAnotherStore() {
      const other = await openStore(target);
      others.push(other);
      return other;
    },
    async close() {
      for (const o of others) await o.close();
      await store.close();
      cleanup();
      rmSync(folder, { recursive: true, force: true });
    },
  };
  return s;
}

for (const dialect of DIALECTS) {
  describe(`dataset-triggered runs on ${dialect}`, () => {
    const opened: Setup[] = [];
    const open = async (dags: Dag[], opts: { pausedConsumers?: boolean } = {}) => {
      const s = await setup(dialect, dags, opts);
      opened.push(s);
      // The first pass of a new scheduler always sweeps: get it out of the way, so the tests decide when sweeps happen.
      await s.pump();
      return s;
    };
    afterEach(async () => {
      failing.clear();
      for (const s of opened.splice(0)) await s.close();
    });

    it("a producer's success creates one run of the DAG scheduled on its dataset, consuming its event", async () => {
      const s = await open([consumer([A])]);
      await s.produce("prod_a");
      const [event] = (await s.store.datasets.events({ uri: A.uri, limit: 10, offset: 0 })).rows;
      assert.ok(event, "the producer's success recorded an event");
      assert.deepEqual(
        (await s.store.datasetTriggers.queueOf("consumer")).map((q) => [q.uri, Number(q.first_event_id), Number(q.last_event_id)]),
        [[A.uri, Number(event.id), Number(event.id)]],
        "queued for the consumer in the producer's transaction",
      );
      assert.deepEqual(await s.consumerRuns(), [], "runs are created by the sweep, not before");

      await s.pump(true);
      const at = iso(Number(event.created_at));
      assert.deepEqual(await s.consumerRuns(), [
        { runId: `dataset_triggered__${at}`, runType: "dataset_triggered", state: "success", logical: at, interval: [at, at], uris: [A.uri], eventIds: [Number(event.id)] },
      ]);
      assert.deepEqual(await s.store.datasetTriggers.queueOf("consumer"), [], "the queue was consumed");
      await s.pump(true);
      await s.pump(true);
      assert.equal((await s.consumerRuns()).length, 1, "later sweeps create nothing more");
      assert.deepEqual(await s.store.datasetTriggers.triggeredRuns([Number(event.id)]), new Map([[Number(event.id), [{ dagId: "consumer", runId: `dataset_triggered__${at}` }]]]));
    });

    it('"all" (a list) waits for every dataset, then one run consumes them all', async () => {
      const s = await open([consumer([A, B])]);
      await s.produce("prod_a");
      await s.pump(true);
      assert.deepEqual(await s.consumerRuns(), [], "B has not updated yet");
      assert.deepEqual((await s.store.datasetTriggers.queueOf("consumer")).map((q) => q.uri), [A.uri]);
      await s.produce("prod_c");
      await s.pump(true);
      assert.deepEqual(await s.consumerRuns(), [], "C is not in the condition");
      await s.produce("prod_b");
      await s.pump(true);
      const runs = await s.consumerRuns();
      assert.equal(runs.length, 1);
      assert.deepEqual(runs[0].uris, [A.uri, B.uri]);
      assert.deepEqual(await s.store.datasetTriggers.queueOf("consumer"), []);
    });

    it('"any" fires on one dataset; nested conditions follow their and/or', async () => {
      const s = await open([consumer(anyOf(A, B)), consumer(allOf(A, anyOf(B, C)), { id: "nested" })]);
      await s.produce("prod_a");
      await s.pump(true);
      assert.deepEqual((await s.consumerRuns()).map((r) => r.uris), [[A.uri]]);
      assert.deepEqual(await s.consumerRuns("nested"), [], "a and (b or c): b or c is missing");
      await s.produce("prod_b");
      await s.pump(true);
      assert.deepEqual((await s.consumerRuns()).map((r) => r.uris), [[A.uri], [B.uri]], "each update of either is a run");
      assert.deepEqual((await s.consumerRuns("nested")).map((r) => r.uris), [[A.uri, B.uri]]);
      await s.produce("prod_c");
      await s.pump(true);
      assert.equal((await s.consumerRuns("nested")).length, 1, "c alone does not satisfy a and (b or c) again");
      assert.deepEqual((await s.store.datasetTriggers.queueOf("nested")).map((q) => q.uri), [C.uri], "c waits for the next a");
    });

    it("several updates before a sweep make one run that consumes all of them", async () => {
      const s = await open([consumer([A])]);
      const t0 = s.clock.t;
      for (let i = 0; i < 3; i++) {
        await s.produce("prod_a");
        s.clock.advance(10); // less than a loop interval: no sweep in between
      }
      await s.pump(true);
      const runs = await s.consumerRuns();
      assert.equal(runs.length, 1);
      assert.deepEqual(runs[0].eventIds, await s.eventIds(A.uri));
      assert.equal(runs[0].eventIds.length, 3);
      assert.deepEqual(runs[0].interval, [iso(t0), iso(t0 + 20)], "the data interval spans the consumed events");
      assert.equal(runs[0].logical, iso(t0 + 20), "the logical date is the newest event's");
    });

    it("a failed producer records no event and triggers nothing", async () => {
      const s = await open([consumer([A])]);
      failing.add("prod_a");
      const failed = await s.produce("prod_a");
      assert.equal((await s.store.runs.get("prod_a", failed))!.state, "failed");
      await s.pump(true);
      assert.deepEqual(await s.eventIds(A.uri), []);
      assert.deepEqual(await s.store.datasetTriggers.queueOf("consumer"), []);
      assert.deepEqual(await s.consumerRuns(), []);
      failing.clear();
      await s.produce("prod_a");
      await s.pump(true);
      assert.equal((await s.consumerRuns()).length, 1, "the next success does trigger it");
    });

    it("a paused consumer keeps its updates and, once unpaused, runs once on all of them", async () => {
      const s = await open([consumer([A])], { pausedConsumers: true });
      await s.produce("prod_a");
      await s.pump(true);
      await s.produce("prod_a");
      await s.pump(true);
      assert.deepEqual(await s.consumerRuns(), []);
      const [first, second] = await s.eventIds(A.uri);
      assert.deepEqual(
        (await s.store.datasetTriggers.queueOf("consumer")).map((q) => [q.uri, Number(q.first_event_id), Number(q.last_event_id)]),
        [[A.uri, first, second]],
      );
      await s.store.dags.setPaused("consumer", false, s.clock.t);
      await s.pump(true);
      assert.deepEqual((await s.consumerRuns()).map((r) => r.eventIds), [[first, second]]);
    });

    it("maxActiveRuns: no new run while the DAG's runs fill its slots; the next one consumes every update since", async () => {
      const s = await open([consumer([A], { maxActiveRuns: 1 })]);
      s.exec.holding.add("consumer");
      await s.produce("prod_a");
      await s.pump(true);
      const [firstRun] = await s.consumerRuns();
      assert.equal(firstRun.state, "running");
      await s.produce("prod_a");
      await s.produce("prod_a");
      await s.pump(true);
      await s.pump(true);
      assert.equal((await s.consumerRuns()).length, 1, "the one run slot is taken");
      assert.deepEqual((await s.store.datasetTriggers.queueOf("consumer")).map((q) => q.uri), [A.uri], "the updates wait in the queue");

      s.exec.release("consumer");
      await s.pump();
      assert.equal((await s.consumerRuns())[0].state, "success");
      await s.pump(true);
      const runs = await s.consumerRuns();
      assert.equal(runs.length, 2);
      assert.deepEqual(runs[1].eventIds, (await s.eventIds(A.uri)).slice(1), "the second run has both later updates");
      assert.equal(runs[1].state, "success");
    });

    it("an event a run already consumed is not consumed again when a queue range spans it (a late commit on PostgreSQL)", async () => {
      const s = await open([consumer([A])]);
      await s.produce("prod_a");
      await s.pump(true);
      await s.produce("prod_a");
      const [e1, e2] = await s.eventIds(A.uri);
      // What an event committed late, with an id below one already consumed, does to the range: it widens it back over e1.
      await s.store.datasetTriggers.requeue([{ dag_id: "consumer", uri: A.uri, first_event_id: e1, last_event_id: e1, created_at: s.clock.t }]);
      assert.deepEqual((await s.store.datasetTriggers.queueOf("consumer")).map((q) => [Number(q.first_event_id), Number(q.last_event_id)]), [[e1, e2]]);
      await s.pump(true);
      assert.deepEqual((await s.consumerRuns()).map((r) => r.eventIds), [[e1], [e2]]);
    });

    it("a DAG edited to drop a dataset from its schedule drops that dataset's queued updates, and keeps the others", async () => {
      const s = await open([consumer([A, B])]);
      await s.produce("prod_a");
      await s.produce("prod_b");
      // Not yet swept: both wait. The file changes to [B, C] before the next sweep.
      assert.deepEqual((await s.store.datasetTriggers.queueOf("consumer")).map((q) => q.uri), [A.uri, B.uri]);
      await putDag(s.store, consumer([B, C]), s.clock.t);
      assert.deepEqual((await s.store.datasetTriggers.queueOf("consumer")).map((q) => q.uri), [B.uri]);
      await s.pump(true);
      assert.deepEqual(await s.consumerRuns(), [], "C has not updated");
      await s.produce("prod_c");
      await s.pump(true);
      assert.deepEqual((await s.consumerRuns()).map((r) => r.uris), [[B.uri, C.uri]]);
    });

    if (dialect === "postgres") {
      it("two schedulers sweeping at once create one run per batch of updates", async () => {
        const s = await open([consumer([A])]);
        const other = await s.openAnotherStore();
        for (let round = 1; round <= 5; round++) {
          await s.produce("prod_a");
          // Fresh schedulers sweep on their first pass: both decide at the same moment.
          const one = new Scheduler(s.store, new RunnerExecutor(s.store, [], s.clock, tmpdir()), undefined, schedulerOptions(s.clock), silentLog);
          const two = new Scheduler(other, new RunnerExecutor(other, [], s.clock, tmpdir()), undefined, schedulerOptions(s.clock), silentLog);
          await Promise.all([one.tick(), two.tick()]);
          const runs = await s.consumerRuns();
          assert.equal(runs.length, round, `round ${round}: one new run`);
          assert.equal(runs[round - 1].eventIds.length, 1, `round ${round}: its event once`);
          s.clock.advance(1);
        }
        const linked = (await s.consumerRuns()).flatMap((r) => r.eventIds);
        assert.deepEqual(linked, await s.eventIds(A.uri), "every event consumed by exactly one run");
      });
    }
  });
}
