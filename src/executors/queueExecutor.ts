import type { Logger } from "pino";
import type { DbTarget } from "../store/db.js";
import { CANCEL_CHANNEL, FINISHED_CHANNEL, PgListener, type FinishedNotice } from "../store/queueQueries.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";
import type { Executor, FinishedListener, LaunchRequest } from "./executor.js";

export interface QueueExecutorOptions {
  store: Store;
  db: Extract<DbTarget, { dialect: "postgres" }>;
  /** The scheduler's parallelism: the only budget here (workers bring their own process slots). */
  parallelism: number;
  /** How often tracked attempts are looked up when no NOTIFY told of their end. */
  pollIntervalMs: number;
  log: Logger;
  onFinished: FinishedListener;
}

/**
 * The scheduler side of the queue executor. The dispatcher has already
 * queued each attempt in the store; launching it only wakes the workers
 * (NOTIFY), which claim it with FOR UPDATE SKIP LOCKED and run it. Workers
 * NOTIFY when they have recorded an end; a periodic look at the store catches
 * ends whose notification was lost.
 */
export class QueueExecutor implements Executor {
  readonly name = "queue";
  /** Queued by this scheduler, not yet taken by a worker: the reaper must leave them alone. */
  private waiting = new Map<number, LaunchRequest>();
  /** Taken by a worker: watched only to report their end if the NOTIFY is missed. */
  private watching = new Map<number, LaunchRequest>();
  private toNotify: number[] = [];
  private flushing: Promise<void> | undefined;
  private listener: PgListener | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly o: QueueExecutorOptions) {}

  async start(): Promise<void> {
    this.listener = new PgListener(this.o.db.url, [FINISHED_CHANNEL], (_ch, payload) => this.onFinishedNotice(payload), this.o.log, () => void this.sweep());
    await this.listener.start();
    this.timer = setInterval(() => void this.sweep(), this.o.pollIntervalMs);
    this.timer.unref();
  }

  private onFinishedNotice(payload: string): void {
    let n: FinishedNotice;
    try {
      n = JSON.parse(payload) as FinishedNotice;
    } catch {
      this.o.log.warn({ payload }, "ignoring a malformed sluice_finished notification");
      return;
    }
    for (const m of [this.waiting, this.watching]) if (m.get(n.tiId)?.tryNumber === n.tryNumber) m.delete(n.tiId);
    // Also for attempts this scheduler never launched (queued by a scheduler that died): the run moves on at once.
    this.o.onFinished(n.tiId, n.runPk, n.taskId, n.state);
  }

  /** Attempts whose end we did not hear of, and attempts workers have taken over. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const tracked = new Map([...this.waiting, ...this.watching]);
      const rows = new Map((await this.o.store.queue.attemptStates([...tracked.keys()])).map((r) => [r.id, r]));
      const waitingOwners = [...rows.values()].flatMap((r) => (this.waiting.has(r.id) && r.owner_job != null ? [r.owner_job] : []));
      const workers = await this.o.store.queue.workerJobs(waitingOwners);
      for (const [id, req] of tracked) {
        const r = rows.get(id);
        if (!r || r.try_number !== req.tryNumber || (r.state !== "queued" && r.state !== "running")) {
          if (!this.waiting.delete(id) && !this.watching.delete(id)) continue;
          this.o.onFinished(id, req.runPk, req.taskId, r?.try_number === req.tryNumber ? r.state : undefined);
        } else if (this.waiting.has(id) && r.owner_job != null && workers.has(r.owner_job)) {
          this.waiting.delete(id);
          this.watching.set(id, req);
        }
      }
    } catch (err) {
      this.o.log.warn({ err }, "could not look up queued attempts; will try again");
    } finally {
      this.sweeping = false;
    }
  }

  async stop(): Promise<void> {
    // Attempts belong to the workers, which outlive the scheduler: nothing to wait for or kill.
    clearInterval(this.timer);
    await this.flushing;
    await this.listener?.stop();
  }

  /** The parallelism budget: the dispatcher subtracts what is queued and running. */
  freeSlots(): number {
    return this.o.parallelism;
  }

  launch(req: LaunchRequest): void {
    this.waiting.set(req.tiId, req);
    this.toNotify.push(req.tiId);
    // The dispatcher launches a batch synchronously: one NOTIFY statement for all of it.
    if (this.toNotify.length === 1) queueMicrotask(() => (this.flushing = this.flush()));
  }

  private async flush(): Promise<void> {
    const ids = this.toNotify;
    this.toNotify = [];
    // A lost NOTIFY only costs the workers' poll interval: the attempts are queued in the store.
    await this.o.store.queue.notifyQueued(ids).catch((err) => this.o.log.warn({ err }, "could not notify workers of queued attempts"));
  }

  /** The worker running it aborts it; the caller has recorded the state (its heartbeat would notice too). */
  cancel(tiId: number): void {
    this.waiting.delete(tiId);
    void this.o.store.queue.notify(CANCEL_CHANNEL, String(tiId)).catch((err) => this.o.log.warn({ err, tiId }, "could not notify workers of a cancel"));
  }

  runningIds(): number[] {
    return [...this.waiting.keys()];
  }

  /**
   * Nothing runs in this process, so there is no process to adopt: running
   * attempts of a dead scheduler belong to workers, which report through the
   * store. (The reaper leaves attempts of live workers alone and judges those of
   * dead workers by their heartbeat.)
   */
  async adopt(rows: TaskInstanceRow[]): Promise<TaskInstanceRow[]> {
    return rows;
  }
}
