import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { DagSpec } from "../core/dagSpec.js";
import type { ParseFailure } from "./loadDagFile.js";

export interface ParseRequest {
  id: number;
  absPath: string;
  dagsFolder: string;
  version: string;
}
export type ParseResult = { ok: true; specs: DagSpec[] } | { ok: false; error: ParseFailure };
export interface ParseResponse {
  id: number;
  result: ParseResult;
}

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
}

const CHILD_MAIN = fileURLToPath(new URL("./parseChild.js", import.meta.url));

/**
 * A few child processes that import DAG files, so user code never runs in the
 * scheduler: a file that throws, exits or hangs only costs its child, which is
 * killed after `timeoutMs` and replaced.
 */
export class ParserPool {
  private children: Child[] = [];
  private waiting: (() => void)[] = [];
  private nextId = 1;

  constructor(private readonly opts: { processes: number; timeoutMs: number }) {}

  private spawn(): Child {
    const proc = fork(CHILD_MAIN, [], { stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "advanced" });
    proc.stderr?.resume();
    const ready = new Promise<void>((resolve, reject) => {
      const onMsg = (m: unknown) => {
        if ((m as { ready?: boolean })?.ready) {
          proc.off("message", onMsg);
          resolve();
        }
      };
      proc.on("message", onMsg);
      proc.once("exit", (code) => reject(new Error(`DAG parser process exited during start (code ${code})`)));
    });
    ready.catch(() => {});
    const child: Child = { proc, ready, busy: false };
    proc.once("exit", () => {
      this.children = this.children.filter((c) => c !== child);
      // Its slot is free now: a parse waiting for a process may start one.
      this.waiting.shift()?.();
    });
    return child;
  }

  private async acquire(): Promise<Child> {
    for (;;) {
      // Not a child that was killed (timeout) but has not exited yet: it would take the next file down with it.
      const idle = this.children.find((c) => !c.busy && c.proc.exitCode === null && !c.proc.killed);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (this.children.length < this.opts.processes) {
        const c = this.spawn();
        c.busy = true;
        this.children.push(c);
        return c;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  private release(child: Child): void {
    child.busy = false;
    this.waiting.shift()?.();
  }

  /** Parse one file in a child; never throws for problems in the file itself. */
  async parse(absPath: string, dagsFolder: string, version: string): Promise<ParseResult> {
    const child = await this.acquire();
    try {
      await child.ready;
      const id = this.nextId++;
      return await new Promise<ParseResult>((resolve) => {
        const done = (r: ParseResult) => {
          clearTimeout(timer);
          child.proc.off("message", onMsg);
          child.proc.off("exit", onExit);
          resolve(r);
        };
        const onMsg = (m: ParseResponse) => {
          if (m?.id === id) done(m.result);
        };
        const onExit = (code: number | null, signal: string | null) =>
          done({ ok: false, error: { transient: true, message: `Loading the file ended its process (exit code ${code}${signal ? `, signal ${signal}` : ""}). Does it call process.exit() at import time?`, location: { file: absPath } } });
        const timer = setTimeout(() => {
          child.proc.kill("SIGKILL");
          done({
            ok: false,
            error: {
              transient: true,
              message: `Loading the file took longer than ${this.opts.timeoutMs} ms (parsing.timeoutMs) and was stopped. Does it do work or wait at import time? Move that work into a task.`,
              location: { file: absPath },
            },
          });
        }, this.opts.timeoutMs);
        child.proc.on("message", onMsg);
        child.proc.once("exit", onExit);
        child.proc.send({ id, absPath, dagsFolder, version } satisfies ParseRequest);
      });
    } catch (err) {
      return { ok: false, error: { transient: true, message: `Could not start a DAG parser process: ${(err as Error).message}` } };
    } finally {
      this.release(child);
    }
  }

  /** Kill all children (the next parse starts fresh ones, with an empty module cache). */
  async stop(): Promise<void> {
    const exits = this.children.map((c) => new Promise<void>((r) => (c.proc.exitCode !== null ? r() : c.proc.once("exit", () => r()))));
    for (const c of this.children) c.proc.kill("SIGKILL");
    await Promise.all(exits);
    this.children = [];
  }
}
