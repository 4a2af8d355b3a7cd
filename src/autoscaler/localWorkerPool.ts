/**
 * The local actuator: `sluice worker` processes on this machine, one pool per
 * queue. Scaling down sends SIGTERM, so a worker stops claiming, lets its
 * running attempts finish within worker.shutdownGraceMs and hands back the
 * rest (src/worker/worker.ts); it is no longer counted from that moment.
 * The newest workers are stopped first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "pino";
import type { Actuator } from "./actuator.js";

export interface LocalWorkerPoolOptions {
  /** Program and arguments that start a worker; `--queues <queue>` is appended. */
  command: readonly [string, ...string[]];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log: Logger;
  /** Where the workers' stdout/stderr go (default: inherited). */
  stdio?: "inherit" | "ignore";
}

export class LocalWorkerPool implements Actuator {
  readonly name = "local";
  private readonly live = new Map<string, ChildProcess[]>();
  private readonly stopping = new Set<ChildProcess>();

  constructor(private readonly o: LocalWorkerPoolOptions) {}

  async current(queue: string): Promise<number> {
    return this.workers(queue).length;
  }

  pids(queue: string): number[] {
    return this.workers(queue).map((c) => c.pid!).filter((p) => p !== undefined);
  }

  /** Children that have not exited and were not told to stop. */
  private workers(queue: string): ChildProcess[] {
    const list = (this.live.get(queue) ?? []).filter((c) => c.exitCode === null && c.signalCode === null && !this.stopping.has(c));
    this.live.set(queue, list);
    return list;
  }

  async scale(queue: string, replicas: number): Promise<void> {
    const list = this.workers(queue);
    while (list.length < replicas) list.push(this.spawnWorker(queue));
    while (list.length > replicas) this.terminate(list.pop()!);
  }

  private spawnWorker(queue: string): ChildProcess {
    const [program, ...args] = this.o.command;
    const child = spawn(program, [...args, "--queues", queue], { env: this.o.env ?? process.env, cwd: this.o.cwd, stdio: ["ignore", this.o.stdio ?? "inherit", this.o.stdio ?? "inherit"] });
    this.o.log.info({ queue, pid: child.pid }, "autoscaler started a worker");
    child.on("exit", (code, signal) => {
      this.stopping.delete(child);
      const expected = code === 0 || signal === "SIGTERM";
      this.o.log[expected ? "info" : "warn"]({ queue, pid: child.pid, code, signal }, "worker exited");
    });
    child.on("error", (err) => this.o.log.error({ err, queue }, "could not start a worker"));
    return child;
  }

  private terminate(child: ChildProcess): void {
    this.stopping.add(child);
    this.o.log.info({ pid: child.pid }, "autoscaler stopping a worker (SIGTERM: finish or hand back)");
    child.kill("SIGTERM");
  }

  /** SIGTERM every worker and wait for all to exit (each bounded by its own grace period). */
  async stop(): Promise<void> {
    const all = [...this.live.values()].flat().concat([...this.stopping]);
    for (const [q] of this.live) for (const c of this.workers(q)) this.terminate(c);
    await Promise.all(all.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("exit", r)))));
    this.live.clear();
  }
}
