/**
 * Process helpers for the end-to-end tests: they run Sluice the way a user
 * does, as `node bin/sluice.js ...` subprocesses, and make sure nothing they
 * started outlives the test file.
 *
 * Every process is spawned in its own process group (detached), so a
 * standalone's task and parser processes can be found and killed with it even
 * after the standalone itself died (kill -9 leaves them orphaned on purpose).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Package root: this file is compiled to dist/test/e2e/helpers.js. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SLUICE_BIN = join(REPO_ROOT, "bin", "sluice.js");
export const EXAMPLES_DAGS = join(REPO_ROOT, "examples", "dags");

/** Process groups this file started (negative pid targets the group). */
const groups = new Set<number>();
const tempDirs = new Set<string>();

export interface Project {
  /** Project root (cwd of every command). */
  dir: string;
  /** DAG folder. */
  dags: string;
  /** SLUICE_HOME. */
  home: string;
}

/**
 * A throwaway project under os.tmpdir(): a DAG folder with copies of the
 * named example files and a node_modules link to this package's
 * dependencies, which is what `npm install` gives a real project (the
 * ml_features example imports zod). No package.json: a bare folder of .ts
 * DAG files must load too.
 */
export function makeProject(examples: readonly string[] = []): Project {
  const dir = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
  tempDirs.add(dir);
  const dags = join(dir, "dags");
  mkdirSync(dags);
  for (const f of examples) cpSync(join(EXAMPLES_DAGS, f), join(dags, f));
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return { dir, dags, home: join(dir, "home") };
}

/**
 * The child environment: this process's environment without any SLUICE_*
 * setting (and without node:test's marker), plus what the test passes. A
 * short loop and scan interval keep the suite fast; they are what a user
 * would set too when they want snappy local runs.
 */
export function sluiceEnv(o: { dbUrl?: string; home: string; extra?: Record<string, string> }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("SLUICE_") || k === "NODE_TEST_CONTEXT" || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  if (o.dbUrl) env.SLUICE_DB_URL = o.dbUrl;
  env.SLUICE_HOME = o.home;
  env.SLUICE_SCHEDULER__LOOP_INTERVAL_MS = "200";
  env.SLUICE_SCHEDULER__DAG_SCAN_INTERVAL_MS = "500";
  // Standalones run side by side in the tests: each API takes a free port.
  env.SLUICE_API__PORT = "0";
  Object.assign(env, o.extra ?? {});
  return env;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `sluice <args>` to completion; killed (and rejected) after timeoutMs. */
export function runSluice(args: readonly string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SLUICE_BIN, ...args], { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    groups.add(proc.pid!);
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
    proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      killGroup(proc.pid!);
      reject(new Error(`sluice ${args.join(" ")} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    proc.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // "close" waits for stdout/stderr to drain, so the output is complete.
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Describe a CLI result for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ""}\n--- stdout ---\n${r.stdout.slice(-4000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

/** Parse the --json output of a command. */
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON:\n${show(r)}`);
  }
}

/** Processes (not zombies) in process group `pgid`, from /proc. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && Number(fields[2]) === pgid) out.push(Number(name));
  }
  return out;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    /* already gone */
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Poll `check` until it returns something other than undefined/false; fail
 * with `what` (and `context()`, e.g. a process's output) after timeoutMs.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number; intervalMs?: number; context?: () => string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError ? `\nlast error: ${(lastError as Error)?.stack ?? lastError}` : "";
      throw new Error(`Timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${what}${why}${opts.context ? `\n${opts.context()}` : ""}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `sluice standalone` (or `scheduler`) with its output captured. */
export class SluiceProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  private out = "";
  private exit: Exit | undefined;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string) {
    this.proc = spawn(process.execPath, [SLUICE_BIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.pid = this.proc.pid!;
    groups.add(this.pid);
    const keep = (b: Buffer) => {
      this.out = (this.out + b.toString()).slice(-200_000);
    };
    this.proc.stdout!.on("data", keep);
    this.proc.stderr!.on("data", keep);
    // "exit", not "close": after a kill -9 its orphaned task processes still hold the pipes.
    this.exited = new Promise((resolve) =>
      this.proc.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  /** Everything it (and its task processes, which share its stdout) printed so far. */
  output(): string {
    return this.out;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** kill -9 of this process only: its task processes are left running, as after a real crash. */
  kill9(): Promise<Exit> {
    process.kill(this.pid, "SIGKILL");
    return this.exited;
  }

  /**
   * SIGTERM, then wait for the exit (up to timeoutMs) and for every process it
   * started to be gone (up to 5 s more). Returns how it exited and the pids
   * still alive in its process group, so callers assert a clean stop.
   */
  async stop(timeoutMs = 15_000): Promise<Exit & { timedOut: boolean; leftovers: number[] }> {
    if (this.alive) process.kill(this.pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([this.exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), timeoutMs)))]);
    clearTimeout(timer);
    if (!exit) {
      killGroup(this.pid);
      const killed = await this.exited;
      return { ...killed, timedOut: true, leftovers: [] };
    }
    const deadline = Date.now() + 5_000;
    let leftovers = groupMembers(this.pid);
    while (leftovers.length > 0 && Date.now() < deadline) {
      await sleep(100);
      leftovers = groupMembers(this.pid);
    }
    return { ...exit, timedOut: false, leftovers };
  }
}

export function startStandalone(dags: string, env: NodeJS.ProcessEnv, cwd?: string): SluiceProcess {
  return new SluiceProcess(["standalone", "--dags", dags], env, cwd);
}

/**
 * For after() hooks: SIGKILL every process group this file started that still
 * has a live member, remove the temp projects, and return the pids that were
 * still running (callers fail the suite if any were left).
 */
export async function killLeftovers(): Promise<number[]> {
  const left: number[] = [];
  for (const pgid of groups) {
    const members = groupMembers(pgid);
    if (members.length > 0) {
      left.push(...members);
      killGroup(pgid);
    }
  }
  groups.clear();
  if (left.length > 0) await sleep(200);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
  return left;
}
