import { hostname } from "node:os";
import type { Logger } from "pino";
import { decideRun } from "../core/runDecisions.js";
import { expandMappedTask } from "./expandMapped.js";
import type { Executor } from "../executors/executor.js";
import type { DagProcessor } from "../parser/dagProcessor.js";
import type { Store } from "../store/store.js";
import { Dispatcher } from "./dispatcher.js";
import { Reaper } from "./reaper.js";
import { RunCreator } from "./runCreator.js";
import { SpecCache } from "./specCache.js";

export interface SchedulerOptions {
  parallelism: number;
  loopIntervalMs: number;
  dagScanIntervalMs: number;
  zombieThresholdMs: number;
  heartbeatIntervalMs: number;
  /** Most instances a mapped task may expand to when the task does not say (default 1024). */
  maxMapLength?: number;
  /** Injected clock (tests). */
  now?: () => number;
}

export type SchedulerEvent =
  | { type: "run:finished"; dagId: string; runId: string; state: string }
  | { type: "scan"; parsed: number; errors: number };

/**
 * The scheduler loop. Event-driven: a finished attempt wakes it at once and
 * only the affected runs are re-evaluated, so a downstream task starts
 * milliseconds after its upstream ends. A slower sweep (every loopIntervalMs)
 * creates scheduled runs, looks at every running run (catching changes made by
 * other processes, like a CLI clear), and reaps lost attempts.
 */
export class Scheduler {
  private readonly specs: SpecCache;
  private readonly creator: RunCreator;
  private readonly dispatcher: Dispatcher;
  private readonly reaper: Reaper;
  private jobId: number | undefined;
  /** Runs to re-evaluate: the task ids that just finished in each, or null for a full evaluation. */
  private dirty = new Map<number, Set<string> | null>();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** Whether the next pass must look up when the next retry is due (the periodic sweep always does). */
  private retryCheck = true;
  /** Earliest next_try_at of an up_for_retry instance, as last read. */
  private nextRetryAt: number | null = null;
  private stopped = true;
  private loopDone: Promise<void> = Promise.resolve();
  private lastSweep = 0;
  private lastScan = 0;
  private lastHeartbeat = 0;
  private scanning: Promise<void> | undefined;
  private listeners: ((e: SchedulerEvent) => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly executor: Executor,
    private readonly processor: DagProcessor | undefined,
    private readonly opts: SchedulerOptions,
    private readonly log: Logger,
  ) {
    this.specs = new SpecCache(store);
    const jobId = () => this.jobId;
    this.creator = new RunCreator(store, this.specs, log);
    this.dispatcher = new Dispatcher(store, executor, this.specs, { parallelism: opts.parallelism, jobId }, log);
    this.reaper = new Reaper(store, executor, this.specs, { jobId, zombieThresholdMs: opts.zombieThresholdMs, heartbeatIntervalMs: opts.heartbeatIntervalMs }, log);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Typed events; a throwing listener is logged and ignored, never breaks the loop. */
  on(listener: (e: SchedulerEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(e: SchedulerEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, "scheduler event listener threw");
      }
    }
  }

  /** Called by the executor when an attempt ends. */
  readonly onAttemptFinished = (_tiId: number, runPk: number, taskId?: string, state?: string | null): void => {
    // Only an attempt that went up_for_retry (or whose end we do not know) can make a retry due now.
    if (state === undefined || state === "up_for_retry") this.retryCheck = true;
    const cur = this.dirty.get(runPk);
    if (taskId === undefined) this.dirty.set(runPk, null);
    else if (cur === undefined) this.dirty.set(runPk, new Set([taskId]));
    else cur?.add(taskId);
    this.signal();
  };

  private markDirty(runPk: number): void {
    this.dirty.set(runPk, null);
  }

  /** Something outside changed (a trigger, an unpause): run a pass now. */
  wake(): void {
    this.signal();
  }

  private signal(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async start(): Promise<void> {
    const now = this.now();
    this.jobId = await this.store.jobs.register("scheduler", hostname(), process.pid, now);
    this.lastHeartbeat = now;
    this.stopped = false;
    if (this.processor) {
      const s = await this.processor.scan();
      this.lastScan = this.now();
      this.emit({ type: "scan", parsed: s.parsed, errors: s.errors });
      this.log.info(s, "DAG folder scanned");
    }
    // Take over what a previous scheduler left before dispatching anything new.
    for (const pk of await this.reaper.reap(this.now())) this.markDirty(pk);
    this.loopDone = this.loop();
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    await this.loopDone;
    await this.scanning;
    await this.executor.stop(graceMs);
    if (this.jobId !== undefined) await this.store.jobs.end(this.jobId, this.now()).catch(() => {});
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      try {
        await this.tick();
      } catch (err) {
        // A database hiccup must not kill the scheduler: log, back off briefly, go on.
        this.log.error({ err }, "scheduler loop error");
        await this.sleep(Math.min(1000, this.opts.loopIntervalMs));
      }
      if (!this.woken && !this.stopped) {
        // Sleep until the next sweep, or until a retry's backoff ends if that is sooner.
        const untilRetry = this.nextRetryAt === null ? Infinity : this.nextRetryAt - this.now();
        await this.sleep(Math.max(1, Math.min(this.opts.loopIntervalMs, untilRetry)));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  /** One pass. Cheap when woken by an event: only dirty runs are evaluated. */
  async tick(): Promise<void> {
    const now = this.now();
    if (now - this.lastHeartbeat >= this.opts.heartbeatIntervalMs && this.jobId !== undefined) {
      if (!(await this.store.jobs.heartbeat(this.jobId, now))) {
        // Our attempts may have been judged zombies meanwhile; each one's compare-and-set decides who wins.
        this.log.warn({ jobId: this.jobId }, "this scheduler had been declared dead by another one (a stall or database outage?); carrying on");
      }
      this.lastHeartbeat = now;
    }
    if (this.processor && !this.scanning && now - this.lastScan >= this.opts.dagScanIntervalMs) {
      this.lastScan = now;
      this.scanning = this.processor
        .scan()
        .then((s) => {
          if (s.parsed > 0 || s.removedFiles > 0) {
            this.log.info(s, "DAG folder changed");
            this.wake();
          }
          this.emit({ type: "scan", parsed: s.parsed, errors: s.errors });
        })
        .catch((err) => this.log.error({ err }, "DAG folder scan failed"))
        .finally(() => (this.scanning = undefined));
    }
    const sweep = now - this.lastSweep >= this.opts.loopIntervalMs;
    if (sweep) {
      this.lastSweep = now;
      // Every sweep: cheap (one query; DAGs whose next interval has not ended cost a comparison),
      // and it notices DAGs unpaused or added by other processes within a loop interval.
      await this.store.exclusive("runs", (tx) => this.creator.createDue(now, tx));
      for (const pk of await this.reaper.timeoutRuns(now)) {
        // A timed-out run is finished too: tell its waiters (dags test, trigger --wait), and its run slot is free.
        const run = await this.store.runs.byPk(pk);
        if (run) this.emit({ type: "run:finished", dagId: run.dag_id, runId: run.run_id, state: run.state });
        this.wake();
      }
      for (const pk of await this.reaper.reap(now)) this.markDirty(pk);
      for (const r of await this.store.runs.inStates(["running"])) this.markDirty(r.id);
    }
    for (const pk of await this.store.exclusive("runs", (tx) => this.creator.startQueued(now, tx))) this.markDirty(pk);
    if (sweep || this.retryCheck) {
      this.retryCheck = false;
      this.nextRetryAt = await this.store.tasks.nextRetryAt();
    }
    if (this.nextRetryAt !== null && this.nextRetryAt <= now) {
      for (const ti of await this.store.tasks.retryDue(now)) {
        if (await this.store.tasks.cas(ti.id, ["up_for_retry"], { state: "scheduled", next_try_at: null, updated_at: now })) this.markDirty(ti.run_pk);
      }
      this.nextRetryAt = await this.store.tasks.nextRetryAt();
    }
    const dirty = [...this.dirty];
    this.dirty.clear();
    for (const [pk, finished] of dirty) await this.evaluateRun(pk, now, finished);
    await this.dispatcher.dispatch(now);
  }

  /**
   * Apply trigger rules to one run and finish it when every task is done.
   * When only tasks without downstream tasks finished, nothing can become
   * runnable: a count tells whether the run is done, instead of reloading and
   * re-deciding every task (which made a wide run cost n² per run).
   */
  private async evaluateRun(runPk: number, now: number, finished: Set<string> | null = null): Promise<void> {
    const run = await this.store.runs.byPk(runPk);
    if (!run || run.state !== "running") return;
    this.specs.noteRun(run.id, run.version_hash);
    const spec = await this.specs.get(run.dag_id, run.version_hash);
    if (!spec) return;
    if (finished) {
      const down = await this.specs.downstreamOf(run.dag_id, run.version_hash);
      const leavesOnly = down !== undefined && [...finished].every((t) => (down.get(t)?.length ?? 0) === 0);
      if (leavesOnly && (await this.store.tasks.countUnfinished(runPk)) > 0) return;
    }
    const tis = await this.store.tasks.briefForRun(runPk);
    const d = decideRun(spec, tis);
    if (d.schedule.length) await this.store.tasks.casMany(d.schedule, ["none"], { state: "scheduled", updated_at: now });
    if (d.skip.length) await this.store.tasks.casMany(d.skip, ["none"], { state: "skipped", end_date: now, updated_at: now });
    if (d.upstreamFailed.length) await this.store.tasks.casMany(d.upstreamFailed, ["none"], { state: "upstream_failed", end_date: now, updated_at: now });
    for (const taskId of d.expand) {
      const r = await expandMappedTask(this.store, spec, runPk, taskId, this.opts.maxMapLength ?? 1024, now);
      this.log.info({ dagId: run.dag_id, runId: run.run_id, taskId, ...r }, "mapped task expanded");
      // A task that expanded to nothing or failed to expand is finished: its downstream can be decided now.
      if (r.kind !== "expanded") {
        this.markDirty(runPk);
        this.signal();
      }
    }
    if (d.runState && (await this.store.runs.setState(runPk, ["running"], { state: d.runState, end_date: now, updated_at: now }))) {
      this.log.info({ dagId: run.dag_id, runId: run.run_id, state: d.runState }, "run finished");
      this.emit({ type: "run:finished", dagId: run.dag_id, runId: run.run_id, state: d.runState });
      // A finished run frees a run slot: queued runs of this DAG may start now.
      this.wake();
    }
  }
}
