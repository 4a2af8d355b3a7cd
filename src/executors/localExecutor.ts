import type { CodeLocations } from "../bundles/codePath.js";
import { fork, type ChildProcess } from "node:child_process";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { finishAttempt, type AttemptOutcome } from "../runner/finishAttempt.js";
import type { SecretsConfig } from "../secrets/secretBox.js";
import type { ChildCancel, ChildInit, ChildMessage, ChildRun } from "../runner/taskChild.js";
import type { DbTarget } from "../store/db.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";
import type { AdoptInfo, Executor, FinishedListener, LaunchRequest } from "./executor.js";

const CHILD_MAIN = fileURLToPath(new URL("../runner/taskChild.js", import.meta.url));
/** Grace after a task's own timeout before the executor kills its process (the task process tries first). */
const HARD_KILL_GRACE_MS = 3_000;
/** After a cancel message, how long the task process gets to stop its work before it is killed. */
const CANCEL_GRACE_MS = 2_000;
const ADOPT_POLL_MS = 500;
/** A task process that dies while starting is replaced after this pause, not in a tight loop. */
const RESPAWN_BACKOFF_MS = 1_000;
const NO_DELAY = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };

interface Running extends LaunchRequest {
  cancelled?: boolean;
  timedOut?: boolean;
  timer?: NodeJS.Timeout;
  /** Process groups of shell commands the attempt started: killed with the task process. */
  pgids: number[];
}

interface WarmProc {
  proc: ChildProcess;
  ready: boolean;
  attempt: Running | undefined;
  runs: number;
  retiring: boolean;
}

interface Adopted {
  row: TaskInstanceRow;
  pid: number;
  deadline: number | null;
  policy: LaunchRequest["policy"];
}

export interface LocalExecutorOptions {
  store: Store;
  db: DbTarget;
  dagsFolder: string;
  /** Git bundles task processes may need to check out (a run's commit). */
  bundles?: CodeLocations["bundles"];
  slots: number;
  tasksPerProcess: number;
  maxProcessMemoryMb: number;
  maxResultBytes: number;
  heartbeatIntervalMs: number;
  /** Where the secrets key is, passed to task processes (connections). */
  secrets?: SecretsConfig;
  /** An adopted attempt whose heartbeat is older than this is considered dead. */
  zombieThresholdMs: number;
  log: Logger;
  onFinished: FinishedListener;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

/**
 * Runs each attempt in a separate OS process, from a pool of warm task
 * processes (one per slot). A task that throws, exits, leaks or is killed
 * takes down only its own process; the executor records the crash and starts
 * a fresh process. Processes are reused for later attempts (the cold start of
 * Node plus the DAG import is paid once per process, not per task) and
 * recycled after `tasksPerProcess` attempts or when their memory grows.
 */
export class LocalExecutor implements Executor {
  readonly name = "local";
  private procs: WarmProc[] = [];
  private pending: LaunchRequest[] = [];
  private adopted = new Map<number, Adopted>();
  private adoptTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private respawnTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: LocalExecutorOptions) {}

  async start(): Promise<void> {
    // Two warm processes up front hide the first tasks' start-up; more start on demand.
    for (let i = 0; i < Math.min(2, this.o.slots); i++) this.spawn();
  }

  private spawn(): WarmProc {
    // The V8 heap cap makes a leaking task die alone (and be recorded) instead of swapping the machine.
    const proc = fork(CHILD_MAIN, [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
      execArgv: [...process.execArgv, `--max-old-space-size=${this.o.maxProcessMemoryMb}`],
    });
    const w: WarmProc = { proc, ready: false, attempt: undefined, runs: 0, retiring: false };
    this.procs.push(w);
    proc.on("message", (m: ChildMessage) => this.onMessage(w, m));
    proc.on("exit", (code, signal) => {
      this.onExit(w, code, signal).catch((err) => this.o.log.error({ err }, "error while handling a task process exit"));
    });
    proc.on("error", (err) => this.o.log.error({ err }, "task process error"));
    proc.send({
      type: "init",
      db: this.o.db,
      dagsFolder: this.o.dagsFolder,
      bundles: this.o.bundles,
      maxResultBytes: this.o.maxResultBytes,
      heartbeatIntervalMs: this.o.heartbeatIntervalMs,
      secrets: this.o.secrets,
    } satisfies ChildInit);
    return w;
  }

  private onMessage(w: WarmProc, m: ChildMessage): void {
    const a = w.attempt;
    if (m.type === "ready") {
      w.ready = true;
      this.pump();
    } else if (m.type === "fatal") {
      this.o.log.error({ error: m.error }, "task process could not start");
    } else if (m.type === "claimed" && a?.tiId === m.tiId && a.timeoutMs) {
      // The hard limit counts from the claim, like the task's own timeout, not from the hand-over
      // (a cold process may still be importing the DAG).
      a.timer = setTimeout(() => {
        a.timedOut = true;
        this.kill(w);
      }, a.timeoutMs + HARD_KILL_GRACE_MS);
    } else if (m.type === "spawned" && a?.tiId === m.tiId) {
      a.pgids.push(m.pgid);
    } else if (m.type === "done") {
      if (!a || a.tiId !== m.tiId) return;
      clearTimeout(a.timer);
      w.attempt = undefined;
      w.runs++;
      if (m.recycle || w.runs >= this.o.tasksPerProcess || m.rssMb > this.o.maxProcessMemoryMb) this.retire(w);
      if (m.unrecorded) {
        // The task process could not write the end of the attempt: record it from here.
        void this.recordFailure(a, "The task process could not record the attempt's end in the database (see the scheduler log).").finally(() =>
          this.o.onFinished(a.tiId, a.runPk, a.taskId),
        );
      } else this.o.onFinished(a.tiId, a.runPk, a.taskId, m.state);
      this.pump();
    }
  }

  /** Kill a task process and every shell command its attempt started. */
  private kill(w: WarmProc): void {
    for (const pgid of w.attempt?.pgids ?? []) killGroup(pgid);
    w.proc.kill("SIGKILL");
  }

  private async recordFailure(a: Running, error: string): Promise<void> {
    const ti = await this.o.store.tasks.get(a.tiId).catch(() => undefined);
    if (!ti || ti.try_number !== a.tryNumber) return;
    const outcome: AttemptOutcome = { kind: "failed", error, retryable: true };
    await finishAttempt(this.o.store, ti, outcome, a.policy, Date.now(), ["running", "queued"]).catch((err) =>
      this.o.log.error({ err, tiId: a.tiId }, "could not record a failed attempt"),
    );
    await this.o.store.logs.append([{ ti_id: a.tiId, try_number: a.tryNumber, ts: Date.now(), stream: "log", line: `[ERROR] ${error}` }]).catch(() => {});
  }

  private async onExit(w: WarmProc, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.procs = this.procs.filter((p) => p !== w);
    const a = w.attempt;
    w.attempt = undefined;
    if (a) {
      clearTimeout(a.timer);
      for (const pgid of a.pgids) killGroup(pgid);
      if (!a.cancelled) {
        const error = a.timedOut
          ? `Task exceeded its timeout of ${a.timeoutMs} ms; its process did not stop by itself and was killed.`
          : `The task process ended while running the task (${signal ? `signal ${signal}` : `exit code ${code}`}${
              code === 134 || signal === "SIGABRT"
                ? `; it most likely ran out of memory (heap limit executor.maxProcessMemoryMb = ${this.o.maxProcessMemoryMb} MB)`
                : signal === "SIGKILL"
                  ? "; it was killed, possibly by the kernel's out-of-memory killer"
                  : ""
            }).`;
        await this.recordFailure(a, error);
      }
      this.o.onFinished(a.tiId, a.runPk, a.taskId);
    }
    if (this.stopping) return;
    const diedStarting = !w.ready && !w.retiring && !a;
    if (diedStarting) this.o.log.warn({ code, signal }, "a task process exited during start-up; starting another in 1 s");
    // Keep one warm process around for the next attempt.
    if (this.procs.length === 0 || this.pending.length > 0) {
      if (diedStarting) {
        this.respawnTimer ??= setTimeout(() => {
          this.respawnTimer = undefined;
          if (!this.stopping) this.pump(true);
        }, RESPAWN_BACKOFF_MS);
      } else this.spawn();
    }
    this.pump();
  }

  /** Let a process go after its attempt, and start its replacement now so the next attempt finds it warm. */
  private retire(w: WarmProc): void {
    w.retiring = true;
    w.proc.disconnect();
    if (!this.stopping && this.procs.filter((p) => !p.retiring).length < this.o.slots) this.spawn();
  }

  /**
   * Slots plus a short prefetch queue of the same size: a process that
   * finishes an attempt starts its next one straight away instead of idling
   * through a scheduler round trip. Prefetched attempts stay `queued` (and count
   * against parallelism, pools and DAG limits) until a process takes them.
   */
  freeSlots(): number {
    const busy = this.procs.filter((p) => p.attempt).length + this.pending.length + this.adopted.size;
    return Math.max(0, this.o.slots * 2 - busy);
  }

  launch(req: LaunchRequest): void {
    this.pending.push(req);
    this.pump();
  }

  /** Hand pending attempts to ready idle processes; start processes up to the slot count. */
  private pump(force = false): void {
    if (this.stopping) return;
    while (this.pending.length > 0) {
      const idle = this.procs.find((p) => p.ready && !p.attempt && !p.retiring && p.proc.connected);
      if (!idle) break;
      const req = this.pending.shift()!;
      idle.attempt = { ...req, pgids: [] };
      idle.proc.send({ type: "run", tiId: req.tiId, tryNumber: req.tryNumber, policy: req.policy } satisfies ChildRun);
    }
    if (this.respawnTimer && !force) return;
    const live = this.procs.filter((p) => !p.retiring).length;
    const starting = this.procs.filter((p) => !p.ready && !p.retiring).length;
    const want = Math.max(force && live === 0 ? 1 : 0, Math.min(this.pending.length - starting, this.o.slots - live));
    for (let i = 0; i < want; i++) this.spawn();
  }

  /** Stop a running attempt: the task process aborts it (and its shell commands); killed if it does not stop in time. */
  cancel(tiId: number): void {
    this.pending = this.pending.filter((p) => p.tiId !== tiId);
    const w = this.procs.find((p) => p.attempt?.tiId === tiId);
    if (w?.attempt) {
      w.attempt.cancelled = true;
      if (w.proc.connected) w.proc.send({ type: "cancel", tiId } satisfies ChildCancel);
      const proc = w;
      setTimeout(() => {
        if (proc.attempt?.tiId === tiId) this.kill(proc);
      }, CANCEL_GRACE_MS).unref();
    }
    const a = this.adopted.get(tiId);
    if (a) {
      try {
        process.kill(a.pid, "SIGKILL");
      } catch {
        /* gone */
      }
      this.adopted.delete(tiId);
    }
  }

  runningIds(): number[] {
    return [...this.procs.flatMap((p) => (p.attempt ? [p.attempt.tiId] : [])), ...this.pending.map((p) => p.tiId), ...this.adopted.keys()];
  }

  /**
   * A task process outlives a killed scheduler: it finishes its attempt and
   * records it. Adopt the ones still alive on this host and watch them (their
   * timeout and heartbeat included); hand back the rest as orphans.
   */
  async adopt(rows: TaskInstanceRow[], info?: Map<number, AdoptInfo>): Promise<TaskInstanceRow[]> {
    const orphans: TaskInstanceRow[] = [];
    const me = hostname();
    for (const r of rows) {
      if (r.state === "running" && r.hostname === me && r.pid != null && alive(r.pid)) {
        const i = info?.get(r.id);
        const deadline = i?.timeoutMs && r.start_date != null ? r.start_date + i.timeoutMs + HARD_KILL_GRACE_MS : null;
        this.adopted.set(r.id, { row: r, pid: r.pid, deadline, policy: i?.policy ?? NO_DELAY });
        this.o.log.info({ tiId: r.id, pid: r.pid }, "adopted a running task process");
      } else orphans.push(r);
    }
    if (this.adopted.size > 0 && !this.adoptTimer) {
      this.adoptTimer = setInterval(() => {
        this.watchAdopted().catch((err) => this.o.log.error({ err }, "error while watching adopted attempts"));
      }, ADOPT_POLL_MS);
    }
    return orphans;
  }

  /** Adopted processes report to the store, not to us: poll for their end, their death, their timeout. */
  private async watchAdopted(): Promise<void> {
    const now = Date.now();
    for (const a of [...this.adopted.values()]) {
      const ti = await this.o.store.tasks.get(a.row.id);
      const done = () => {
        this.adopted.delete(a.row.id);
        this.o.onFinished(a.row.id, a.row.run_pk, a.row.task_id);
      };
      if (!ti || ti.state !== "running" || ti.try_number !== a.row.try_number) {
        done();
        continue;
      }
      let error: string | undefined;
      if (!alive(a.pid)) error = "The task process died while the scheduler was away.";
      else if (a.deadline !== null && now > a.deadline) error = "Task exceeded its timeout (adopted after a scheduler restart) and was killed.";
      else if ((ti.heartbeat_at ?? 0) < now - this.o.zombieThresholdMs) error = "The adopted task process stopped heartbeating and was killed.";
      if (!error) continue;
      try {
        process.kill(a.pid, "SIGKILL");
      } catch {
        /* gone */
      }
      await finishAttempt(this.o.store, ti, { kind: "failed", error, retryable: true }, a.policy, now);
      done();
    }
    if (this.adopted.size === 0 && this.adoptTimer) {
      clearInterval(this.adoptTimer);
      this.adoptTimer = undefined;
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.adoptTimer) clearInterval(this.adoptTimer);
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    this.pending = [];
    const deadline = Date.now() + graceMs;
    while (this.procs.some((p) => p.attempt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const exits = this.procs.map((p) => new Promise<void>((r) => (p.proc.exitCode !== null || p.proc.signalCode !== null ? r() : p.proc.once("exit", () => r()))));
    for (const p of this.procs) {
      if (p.attempt) this.kill(p);
      else if (p.proc.connected) p.proc.disconnect();
      else p.proc.kill("SIGKILL");
    }
    await Promise.all(exits);
  }
}
