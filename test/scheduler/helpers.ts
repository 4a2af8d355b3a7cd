/**
 * Shared set-up for the scheduler integration tests: a real store (SQLite file
 * or PostgreSQL database), an injected clock, and a recording executor that
 * remembers every launch and lets the test finish attempts itself, the way a
 * task process would (queued -> running on its try, then finishAttempt).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pino from "pino";
import { dagVersionHash, type DagSpec } from "../../src/core/dagSpec.js";
import type { Executor, FinishedListener, LaunchRequest } from "../../src/executors/executor.js";
import { InProcessExecutor } from "../../src/executors/inProcessExecutor.js";
import { DagProcessor } from "../../src/parser/dagProcessor.js";
import { ParserPool } from "../../src/parser/parserPool.js";
import { finishAttempt, type AttemptOutcome } from "../../src/runner/finishAttempt.js";
import { pidAlive } from "../../src/scheduler/reaper.js";
import { Scheduler, type SchedulerOptions } from "../../src/scheduler/scheduler.js";
import type { Dag } from "../../src/sdk/dag.js";
import type { DbTarget } from "../../src/store/db.js";
import type { DagRunRow } from "../../src/store/runQueries.js";
import { openStore, type Store } from "../../src/store/store.js";
import type { TaskInstanceRow } from "../../src/store/taskQueries.js";
import { freshTarget, type TestDialect } from "../helpers/db.js";

export const silentLog = pino({ level: "silent" });

/** A clock the test moves by hand. */
export class Clock {
  constructor(public t: number) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
  set(iso: string | number): number {
    this.t = typeof iso === "number" ? iso : Date.parse(iso);
    return this.t;
  }
}

/**
 * An executor that runs nothing: it records launches and cancellations, holds
 * a slot per launched attempt until the test finishes it, and can adopt
 * nothing (like the in-process executor).
 */
export class RecordingExecutor implements Executor {
  readonly name = "recording";
  readonly launches: LaunchRequest[] = [];
  readonly cancelled: number[] = [];
  private readonly held = new Map<number, LaunchRequest>();
  onFinished: FinishedListener | undefined;
  /** How often the dispatcher asked for free slots: once per pass, when its last step (dispatch) begins. */
  freeSlotsCalls = 0;

  constructor(
    private readonly store: Store,
    /** Attempts it can hold at once; change it at any time. */
    public slots = 32,
  ) {}

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  freeSlots(): number {
    this.freeSlotsCalls++;
    return Math.max(0, this.slots - this.held.size);
  }

  launch(req: LaunchRequest): void {
    this.launches.push(req);
    this.held.set(req.tiId, req);
  }

  cancel(tiId: number): void {
    this.cancelled.push(tiId);
    this.held.delete(tiId);
  }

  runningIds(): number[] {
    return [...this.held.keys()];
  }

  async adopt(rows: TaskInstanceRow[]): Promise<TaskInstanceRow[]> {
    return rows;
  }

  /** Ids of attempts launched and not yet finished or cancelled. */
  heldIds(): number[] {
    return [...this.held.keys()];
  }

  /** The attempt process starts: queued -> running on exactly the launched try. */
  async begin(tiId: number, now: number): Promise<void> {
    const req = this.held.get(tiId);
    if (!req) throw new Error(`attempt of task instance ${tiId} was not launched on this executor`);
    const ok = await this.store.tasks.cas(
      tiId,
      ["queued"],
      { state: "running", start_date: now, end_date: null, hostname: hostname(), pid: process.pid, heartbeat_at: now, error: null, updated_at: now },
      req.tryNumber,
    );
    if (!ok) throw new Error(`task instance ${tiId} could not be claimed on try ${req.tryNumber}`);
    await this.store.tasks.recordTry({ ti_id: tiId, try_number: req.tryNumber, state: "running", start_date: now, end_date: null, duration_ms: null, hostname: hostname(), pid: process.pid, error: null });
  }

  /**
   * Finish a launched attempt (starting it first when still queued) with the
   * launch's retry policy, free its slot and tell the scheduler, as a real
   * executor does. Returns the state written.
   */
  async finish(tiId: number, outcome: AttemptOutcome | "success" | "failed", now: number): Promise<string | null> {
    const req = this.held.get(tiId);
    if (!req) throw new Error(`attempt of task instance ${tiId} was not launched on this executor`);
    let ti = await this.store.tasks.get(tiId);
    if (ti?.state === "queued") {
      await this.begin(tiId, now);
      ti = await this.store.tasks.get(tiId);
    }
    const o: AttemptOutcome =
      outcome === "success" ? { kind: "success", result: null } : outcome === "failed" ? { kind: "failed", error: "boom (test failure)", retryable: true } : outcome;
    const state = await finishAttempt(this.store, ti!, o, req.policy, now);
    this.held.delete(tiId);
    this.onFinished?.(tiId, req.runPk);
    return state;
  }
}

export interface Harness {
  dialect: TestDialect;
  store: Store;
  clock: Clock;
  exec: RecordingExecutor;
  scheduler: Scheduler;
  /** Advance the clock by `ms` (default 0: no sweep, only event-driven work), then run one scheduler pass. */
  tick(ms?: number): Promise<void>;
  /** Task ids of every launch so far, in order. */
  launchedTasks(): Promise<string[]>;
  /** Finish every attempt the executor holds with `outcome`; returns their task ids. */
  finishAll(outcome?: "success" | "failed"): Promise<string[]>;
  /** Finish the held attempt of `taskId` in run `runPk`. */
  finishTask(runPk: number, taskId: string, outcome: AttemptOutcome | "success" | "failed"): Promise<string | null>;
  /** A second connection to the same database (as another process would have), closed by close(). */
  openAnotherStore(): Promise<Store>;
  /** Another scheduler on the same clock (own executor; on `store` when given). */
  newScheduler(opts?: Partial<SchedulerOptions> & { slots?: number; store?: Store }): { scheduler: Scheduler; exec: RecordingExecutor };
  close(): Promise<void>;
}

/** Sweeps (run creation, reaping, timeouts) happen when the clock moved this far since the last one. */
export const LOOP_MS = 1_000;

export function schedulerOptions(clock: Clock, o: Partial<SchedulerOptions> = {}): SchedulerOptions {
  return { parallelism: 32, loopIntervalMs: LOOP_MS, dagScanIntervalMs: 3_600_000, zombieThresholdMs: 60_000, heartbeatIntervalMs: 5_000, now: clock.now, ...o };
}

export async function openFresh(dialect: TestDialect, label: string): Promise<{ store: Store; target: DbTarget; cleanup(): void }> {
  const target = await freshTarget(dialect, label);
  const store = await openStore(target, { migrate: true });
  await store.pools.ensureDefault(128);
  return {
    store,
    target,
    cleanup: () => {
      if (target.dialect === "sqlite") rmSync(dirname(target.path), { recursive: true, force: true });
    },
  };
}

/** A fresh store, a clock at `start`, a recording executor and a scheduler wired together (not started). */
export async function harness(
  dialect: TestDialect,
  opts: { label?: string; start?: string; slots?: number } & Partial<SchedulerOptions> = {},
): Promise<Harness> {
  const { label = "sched", start = "2026-03-01T12:00:00Z", slots = 32, ...schedOpts } = opts;
  const { store, target, cleanup } = await openFresh(dialect, label);
  const clock = new Clock(Date.parse(start));
  const extraStores: Store[] = [];
  const make = (o: Partial<SchedulerOptions> & { slots?: number; store?: Store } = {}) => {
    const { slots: s = 32, store: st = store, ...so } = o;
    const exec = new RecordingExecutor(st, s);
    const scheduler = new Scheduler(st, exec, undefined, schedulerOptions(clock, { ...schedOpts, ...so }), silentLog);
    exec.onFinished = scheduler.onAttemptFinished;
    return { scheduler, exec };
  };
  const { scheduler, exec } = make({ slots });
  const taskOf = async (tiId: number) => (await store.tasks.get(tiId))?.task_id ?? `?${tiId}`;
  const h: Harness = {
    dialect,
    store,
    clock,
    exec,
    scheduler,
    async tick(ms = 0) {
      clock.advance(ms);
      await scheduler.tick();
    },
    async launchedTasks() {
      const out: string[] = [];
      for (const l of exec.launches) out.push(await taskOf(l.tiId));
      return out;
    },
    async finishAll(outcome = "success") {
      const done: string[] = [];
      for (const id of exec.heldIds()) {
        done.push(await taskOf(id));
        await exec.finish(id, outcome, clock.t);
      }
      return done;
    },
    async finishTask(runPk, taskId, outcome) {
      const ti = (await store.tasks.forRun(runPk)).find((t) => t.task_id === taskId);
      if (!ti) throw new Error(`run ${runPk} has no task ${taskId}`);
      return exec.finish(ti.id, outcome, clock.t);
    },
    async openAnotherStore() {
      const s = await openStore(target);
      extraStores.push(s);
      return s;
    },
    newScheduler: make,
    async close() {
      for (const s of extraStores) await s.close();
      await store.close();
      cleanup();
    },
  };
  return h;
}

/** Store a DAG declared with dag() as the parser would (active, paused or not). */
export async function putDag(store: Store, d: Dag, now: number, paused = false): Promise<DagSpec> {
  const spec = d.toSpec(`${d.id}.ts`);
  await store.dags.upsert(spec, dagVersionHash(spec), now, paused);
  return spec;
}

/** Runs of a DAG, oldest logical date first. */
export async function runsOf(store: Store, dagId: string): Promise<DagRunRow[]> {
  return (await store.runs.list({ dagId })).sort((a, b) => a.logical_date - b.logical_date || a.id - b.id);
}

/** Task instances of a run by task id. */
export async function tisOf(store: Store, runPk: number): Promise<Record<string, TaskInstanceRow>> {
  return Object.fromEntries((await store.tasks.forRun(runPk)).map((t) => [t.task_id, t]));
}

/** State of each task of a run, by task id. */
export async function statesOf(store: Store, runPk: number): Promise<Record<string, string>> {
  return Object.fromEntries((await store.tasks.forRun(runPk)).map((t) => [t.task_id, t.state]));
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** A pid no process has: above Linux's largest pid_max (2^22), checked anyway. */
export function deadPid(): number {
  for (let pid = 4_194_400; ; pid++) if (!pidAlive(pid)) return pid;
}

/** Poll `cond` until it holds or `ms` pass (for the tests that run real attempts). */
export async function waitFor(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RealDags {
  store: Store;
  /** How the folder scanned (every file must import: the helper asserts no import error). */
  scan: { dags: number; errors: number };
  /** Start the scheduler (in-process executor, 4 slots, real clock) and wait until `runs` runs finished; their states by run id. */
  runUntilFinished(runs: number, timeoutMs?: number): Promise<Map<string, string>>;
  close(): Promise<void>;
}

/**
 * Real DAG files (name -> source) in a temp ESM folder, scanned into a fresh
 * store, run by a scheduler with the in-process executor on the real clock:
 * the set-up of the tests that run user code end to end.
 */
export async function realDags(dialect: TestDialect, label: string, files: Record<string, string>): Promise<RealDags> {
  const folder = mkdtempSync(join(tmpdir(), `sluice-${label}-dags-`));
  const { store, cleanup } = await openFresh(dialect, label);
  const pool = new ParserPool({ processes: 1, timeoutMs: 30_000 });
  let scheduler: Scheduler | undefined;
  const close = async () => {
    if (scheduler) await scheduler.stop().catch(() => {});
    await pool.stop();
    await store.close();
    cleanup();
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module" }));
    for (const [name, source] of Object.entries(files)) writeFileSync(join(folder, name), source);
    const scan = await new DagProcessor(store, pool, folder).scan();
    assert.equal(scan.errors, 0, JSON.stringify(await store.dags.importErrors()));
    return {
      store,
      scan,
      async runUntilFinished(runs, timeoutMs = 45_000) {
        const executor = new InProcessExecutor({ store, dagsFolder: folder, slots: 4, maxResultBytes: 65_536, log: silentLog, onFinished: (ti, pk) => scheduler?.onAttemptFinished(ti, pk) });
        // Real clock here: the attempts record real times.
        const { now: _ignored, ...opts } = schedulerOptions(new Clock(0), { loopIntervalMs: 100 });
        scheduler = new Scheduler(store, executor, undefined, opts, silentLog);
        const finished = new Map<string, string>();
        scheduler.on((e) => {
          if (e.type === "run:finished") finished.set(e.runId, e.state);
        });
        await scheduler.start();
        await waitFor(() => finished.size >= runs, timeoutMs, `${runs} run(s) to finish`);
        await scheduler.stop();
        scheduler = undefined;
        return finished;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
