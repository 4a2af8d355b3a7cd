import { hostname } from "node:os";
import type { Logger } from "pino";
import type { AdoptInfo, Executor } from "../executors/executor.js";

const NO_DELAY = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };
import { finishAttempt } from "../runner/finishAttempt.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";
import type { SpecCache } from "./specCache.js";

/**
 * Finds work that lost its owner: attempts of a dead scheduler (adopted when
 * their process still runs on this host, reset when never started, failed or
 * retried when their process is gone), attempts whose heartbeat stopped, and
 * runs past their timeout. Returns the run pks it touched.
 */
export class Reaper {
  constructor(
    private readonly store: Store,
    private readonly executor: Executor,
    private readonly specs: SpecCache,
    private readonly opts: { jobId: () => number | undefined; zombieThresholdMs: number; heartbeatIntervalMs: number },
    private readonly log: Logger,
  ) {}

  /** Scheduler jobs that stopped heartbeating (or whose process is gone on this host) are dead. */
  private async deadJobs(now: number): Promise<Set<number>> {
    const me = this.opts.jobId();
    const running = await this.store.jobs.running("scheduler");
    const dead: number[] = [];
    for (const j of running) {
      if (j.id === me) continue;
      const stale = now - j.heartbeat_at > Math.max(this.opts.zombieThresholdMs, this.opts.heartbeatIntervalMs * 3);
      const goneHere = j.hostname === hostname() && !pidAlive(j.pid);
      if (stale || goneHere) dead.push(j.id);
    }
    // --- queue workers: a worker is dead when its heartbeat stops (it may run on another host: no pid check) ---
    for (const j of await this.store.jobs.running("worker")) {
      if (now - j.heartbeat_at > Math.max(this.opts.zombieThresholdMs, this.opts.heartbeatIntervalMs * 3)) dead.push(j.id);
    }
    await this.store.jobs.markDead(dead, now);
    const all = new Set(dead);
    // Jobs already marked dead/ended earlier also own nothing any more.
    return all;
  }

  async reap(now: number): Promise<Set<number>> {
    const touched = new Set<number>();
    const me = this.opts.jobId();
    await this.deadJobs(now);
    const liveJobs = new Set((await this.store.jobs.running("scheduler")).map((j) => j.id));
    // Attempts a live worker holds are its own; it reports them through the store.
    for (const j of await this.store.jobs.running("worker")) liveJobs.add(j.id);
    const mine = new Set(this.executor.runningIds());
    const orphaned: TaskInstanceRow[] = [];
    for (const ti of await this.store.tasks.active()) {
      if (mine.has(ti.id)) continue;
      const ownerAlive = ti.owner_job != null && ti.owner_job !== me && liveJobs.has(ti.owner_job);
      if (ownerAlive) continue;
      if (ti.owner_job === me) {
        // Ours but not in the executor: lost between dispatch and launch, or a stale heartbeat.
        if (ti.state === "queued" || this.heartbeatStale(ti, now)) orphaned.push(ti);
        continue;
      }
      orphaned.push(ti);
    }
    if (orphaned.length === 0) return touched;
    const info = new Map<number, AdoptInfo>();
    for (const ti of orphaned) info.set(ti.id, await this.taskInfo(ti));
    // A process whose heartbeat is already stale is not worth adopting (it may be wedged, or its pid reused).
    // Attempts of dead workers: their task process may live on elsewhere, so only the heartbeat judges them.
    const workerOwned = await this.store.queue.workerJobs(orphaned.flatMap((t) => (t.owner_job != null ? [t.owner_job] : [])));
    const adoptable = orphaned.filter((t) => t.state === "running" && !this.heartbeatStale(t, now) && !(t.owner_job != null && workerOwned.has(t.owner_job)));
    const notAdopted = new Set((await this.executor.adopt(adoptable, info)).map((t) => t.id));
    for (const ti of orphaned) {
      if (ti.state === "running" && !notAdopted.has(ti.id) && adoptable.includes(ti)) continue;
      if (ti.state === "queued") {
        // Never started. The try number is not given back: a process that got the old try
        // may still be about to claim it, and try numbers must name one attempt only. The
        // lost try does not count against the retry budget.
        const ok = await this.store.tasks.cas(
          ti.id,
          ["queued"],
          { state: "scheduled", max_tries: ti.max_tries + 1, owner_job: null, queued_at: null, updated_at: now },
          ti.try_number,
        );
        if (ok) {
          touched.add(ti.run_pk);
          this.log.warn({ tiId: ti.id, task: ti.task_id }, "re-queued an attempt whose scheduler died before it started");
        }
        continue;
      }
      // Running, not adopted: fail it only when it is certainly gone (its process is dead on
      // this host) or has stopped heartbeating. A live task process outlives its scheduler
      // and records its own result; failing it early would run the task twice.
      const byWorker = ti.owner_job != null && workerOwned.has(ti.owner_job);
      const goneHere = !byWorker && ti.hostname === hostname() && (ti.pid == null || !pidAlive(ti.pid));
      if (!goneHere && !this.heartbeatStale(ti, now)) continue;
      touched.add(ti.run_pk);
      const state = await finishAttempt(
        this.store,
        ti,
        { kind: "failed", error: `The process running this attempt (pid ${ti.pid ?? "?"} on ${ti.hostname ?? "?"}) is gone: no heartbeat since ${new Date(ti.heartbeat_at ?? ti.start_date ?? now).toISOString()}.`, retryable: true },
        info.get(ti.id)?.policy ?? NO_DELAY,
        now,
      );
      if (state) this.log.warn({ tiId: ti.id, task: ti.task_id, state }, "failed a zombie attempt");
    }
    return touched;
  }

  private heartbeatStale(ti: TaskInstanceRow, now: number): boolean {
    return (ti.heartbeat_at ?? ti.start_date ?? ti.queued_at ?? 0) < now - this.opts.zombieThresholdMs;
  }

  /** The task's retry policy and timeout, from the DAG version its run uses. */
  private async taskInfo(ti: TaskInstanceRow): Promise<AdoptInfo> {
    const version = await this.specs.runVersion(ti.run_pk);
    const task = version ? (await this.specs.get(ti.dag_id, version))?.tasks.find((t) => t.id === ti.task_id) : undefined;
    return { timeoutMs: task?.timeoutMs, policy: task ?? NO_DELAY };
  }

  /** Fail runs older than their DAG's run timeout: running attempts are killed, waiting ones skipped. */
  async timeoutRuns(now: number): Promise<Set<number>> {
    const touched = new Set<number>();
    for (const run of await this.store.runs.inStates(["running"])) {
      const spec = await this.specs.get(run.dag_id, run.version_hash);
      if (!spec?.runTimeoutMs || run.start_date == null || now - run.start_date < spec.runTimeoutMs) continue;
      const msg = `The run exceeded its timeout of ${spec.runTimeoutMs} ms (runTimeout).`;
      for (const ti of await this.store.tasks.forRun(run.id)) {
        if (ti.state === "running" || ti.state === "queued") {
          // Record first, then stop the process: its own late report then loses the compare-and-set.
          const ok = await this.store.tasks.cas(ti.id, ["running", "queued"], { state: "failed", end_date: now, error: msg, updated_at: now }, ti.try_number);
          this.executor.cancel(ti.id);
          if (ok) await this.store.tasks.recordTry({ ti_id: ti.id, try_number: ti.try_number, state: "failed", start_date: ti.start_date, end_date: now, duration_ms: ti.start_date != null ? now - ti.start_date : null, hostname: ti.hostname, pid: ti.pid, error: msg });
        } else if (["none", "scheduled", "up_for_retry"].includes(ti.state)) {
          await this.store.tasks.cas(ti.id, ["none", "scheduled", "up_for_retry"], { state: "skipped", end_date: now, error: msg, updated_at: now });
        }
      }
      if (await this.store.runs.setState(run.id, ["running"], { state: "failed", end_date: now, note: msg, updated_at: now })) {
        this.log.warn({ dagId: run.dag_id, runId: run.run_id }, "run timed out");
        touched.add(run.id);
      }
    }
    return touched;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
