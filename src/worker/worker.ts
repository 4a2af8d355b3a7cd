import { hostname } from "node:os";
import type { Logger } from "pino";
import type { SluiceConfig } from "../config/config.js";
import { LocalExecutor } from "../executors/localExecutor.js";
import type { DbTarget } from "../store/db.js";
import { CANCEL_CHANNEL, FINISHED_CHANNEL, PgListener, QUEUED_CHANNEL, type ClaimedAttempt, type FinishedNotice } from "../store/queueQueries.js";
import type { Store } from "../store/store.js";
import { SpecCache } from "../scheduler/specCache.js";

const NO_DELAY = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };
/** After hand-back, how long task processes get to stop before they are killed. */
const STOP_GRACE_MS = 5_000;

export interface WorkerOptions {
  store: Store;
  db: Extract<DbTarget, { dialect: "postgres" }>;
  config: SluiceConfig;
  queues: readonly string[];
  concurrency: number;
  log: Logger;
}

/**
 * A `sluice worker`: takes queued attempts of its queues from PostgreSQL
 * (FOR UPDATE SKIP LOCKED, woken by NOTIFY, polling as a fallback) and runs
 * each in a warm task process, with the local executor's process machinery.
 * It is a job of kind "worker" with a heartbeat, so schedulers can tell its
 * attempts from those of a dead worker.
 */
export class Worker {
  readonly executor: LocalExecutor;
  private readonly specs: SpecCache;
  private listener: PgListener | undefined;
  private jobId: number | undefined;
  private inflight = new Map<number, ClaimedAttempt>();
  private claiming = false;
  private claimAgain = false;
  private stopping = false;
  private timers: NodeJS.Timeout[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: WorkerOptions) {
    const c = o.config;
    this.specs = new SpecCache(o.store);
    this.executor = new LocalExecutor({
      store: o.store,
      db: o.db,
      dagsFolder: c.dagsFolder,
      bundles: { home: c.home, list: c.bundles },
      slots: o.concurrency,
      tasksPerProcess: c.executor.tasksPerProcess,
      maxProcessMemoryMb: c.executor.maxProcessMemoryMb,
      maxResultBytes: c.tasks.maxResultBytes,
      heartbeatIntervalMs: c.scheduler.heartbeatIntervalMs,
      secrets: { home: c.home, secrets: c.secrets },
      zombieThresholdMs: c.scheduler.zombieThresholdMs,
      log: o.log.child({ part: "executor" }),
      onFinished: (tiId, runPk, taskId, state) => this.onFinished(tiId, runPk, taskId, state),
    });
  }

  get id(): number | undefined {
    return this.jobId;
  }

  async start(): Promise<void> {
    await this.executor.start();
    this.listener = new PgListener(this.o.db.url, [QUEUED_CHANNEL, CANCEL_CHANNEL], (ch, payload) => this.onNotify(ch, payload), this.o.log, () => this.fill());
    await this.listener.start();
    // Registered last: a registered worker is one that can take work at once
    // (warm task processes up, LISTEN connected). The autoscaler and operators
    // count registered workers; counting one that cannot claim yet misleads both.
    this.jobId = await this.o.store.jobs.register("worker", hostname(), process.pid, Date.now());
    const c = this.o.config;
    this.timers.push(setInterval(() => void this.heartbeat(), c.scheduler.heartbeatIntervalMs));
    this.timers.push(setInterval(() => this.fill(), c.worker.pollIntervalMs));
    this.o.log.info({ jobId: this.jobId, queues: this.o.queues, concurrency: this.o.concurrency }, "worker started");
    this.fill();
  }

  private async heartbeat(): Promise<void> {
    if (this.jobId === undefined) return;
    try {
      if (!(await this.o.store.jobs.heartbeat(this.jobId, Date.now()))) {
        // Our attempts may have been failed or re-queued meanwhile; their compare-and-set decides who wins.
        this.o.log.warn({ jobId: this.jobId }, "this worker had been declared dead (a stall or database outage?); carrying on");
      }
    } catch (err) {
      this.o.log.warn({ err }, "could not record the worker heartbeat");
    }
  }

  private onNotify(channel: string, payload: string): void {
    if (channel === QUEUED_CHANNEL) {
      if (this.o.queues.includes(payload)) this.fill();
    } else if (channel === CANCEL_CHANNEL) {
      const tiId = Number(payload);
      if (this.inflight.has(tiId)) this.executor.cancel(tiId);
    }
  }

  /** Claim up to the free concurrency; one claim loop at a time (a wake-up during it runs another). */
  private fill(): void {
    if (this.stopping || this.jobId === undefined) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    void this.claimLoop()
      .catch((err) => this.o.log.warn({ err }, "could not claim queued attempts; will try again"))
      .finally(() => {
        this.claiming = false;
        if (this.claimAgain) {
          this.claimAgain = false;
          this.fill();
        }
      });
  }

  private async claimLoop(): Promise<void> {
    for (;;) {
      const free = this.o.concurrency - this.inflight.size;
      if (free <= 0 || this.stopping) return;
      const rows = await this.o.store.queue.claim({ jobId: this.jobId!, queues: this.o.queues, limit: free, hostname: hostname(), pid: process.pid, now: Date.now() });
      for (const r of rows) {
        this.inflight.set(r.id, r);
        const task = (await this.specs.get(r.dag_id, r.version_hash))?.tasks.find((t) => t.id === r.task_id);
        this.executor.launch({ tiId: r.id, tryNumber: r.try_number, runPk: r.run_pk, taskId: r.task_id, timeoutMs: task?.timeoutMs, policy: task ?? NO_DELAY });
      }
      if (rows.length < free) return;
    }
  }

  private onFinished(tiId: number, runPk: number, taskId: string | undefined, state: string | null | undefined): void {
    const a = this.inflight.get(tiId);
    this.inflight.delete(tiId);
    if (a) void this.notifyFinished({ tiId, tryNumber: a.try_number, runPk, taskId: taskId ?? a.task_id, state: state ?? null });
    if (this.inflight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    this.fill();
  }

  private async notifyFinished(n: FinishedNotice): Promise<void> {
    // Lost, it costs the scheduler one poll interval (it looks at the store too).
    await this.o.store.queue.notify(FINISHED_CHANNEL, JSON.stringify(n)).catch((err) => this.o.log.warn({ err, tiId: n.tiId }, "could not notify the end of an attempt"));
  }

  /**
   * Graceful stop: claim nothing more, let running attempts finish for up to
   * `graceMs`, then hand the rest back (scheduled again, a new try that does
   * not count against retries) and stop their task processes.
   */
  async stop(graceMs: number): Promise<{ handedBack: number }> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.listener?.stop();
    if (this.inflight.size > 0) {
      this.o.log.info({ running: this.inflight.size, graceMs }, "waiting for running attempts to finish");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    let handedBack = 0;
    const now = Date.now();
    for (const a of [...this.inflight.values()]) {
      const error = `Handed back: the worker running this attempt shut down (SIGTERM) before it finished; a new try runs it again (not counted as a retry).`;
      const back = await this.o.store
        .transaction(async (tx) => {
          const before = await tx.queue.handBack(a.id, a.try_number, this.jobId!, now, error);
          if (before?.state === "running") {
            await tx.tasks.recordTry({ ti_id: a.id, try_number: a.try_number, state: "failed", start_date: before.start_date, end_date: now, duration_ms: before.start_date != null ? now - before.start_date : null, hostname: before.hostname, pid: before.pid, error });
          }
          return before;
        })
        .catch((err) => {
          this.o.log.error({ err, tiId: a.id }, "could not hand an attempt back (the scheduler's reaper will retry it once this worker is gone)");
          return undefined;
        });
      if (back) {
        handedBack++;
        this.o.log.warn({ tiId: a.id, task: a.task_id }, "handed back an attempt that did not finish within the grace period");
        await this.notifyFinished({ tiId: a.id, tryNumber: a.try_number, runPk: a.run_pk, taskId: a.task_id, state: "scheduled" });
      }
      // Its task process's own "done" comes later and is no news: the notice above said it all.
      this.inflight.delete(a.id);
      this.executor.cancel(a.id);
    }
    await this.executor.stop(STOP_GRACE_MS);
    if (this.jobId !== undefined) await this.o.store.jobs.end(this.jobId, Date.now()).catch(() => {});
    return { handedBack };
  }
}
