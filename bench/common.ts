/**
 * Shared pieces of the benchmark harness: result types, cleanup scopes (every
 * process, server and temp dir a benchmark starts is stopped even when it
 * fails or the user presses Ctrl-C), statistics and small helpers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchPostgres } from "./postgres.js";

export type BenchDialect = "sqlite" | "postgres";
export const BENCH_DIALECTS: readonly BenchDialect[] = ["sqlite", "postgres"];

/** One reported number. Metrics with a target appear in the summary table with "met?". */
export interface Metric {
  /** Short label shown in the table, e.g. "median of 5". */
  name: string;
  value: number;
  unit: "ms" | "s" | "tasks/s" | "MB" | "x";
  target?: { op: "<=" | ">="; value: number };
  /** Extra words for the table (e.g. "incl. 2 child processes"). */
  note?: string;
}

export interface BenchOutcome {
  metrics: Metric[];
  /** Raw samples by name, kept in the JSON for later analysis. */
  samples: Record<string, number[]>;
  /** What was measured, how, and anything a reader must know to interpret it. */
  details: Record<string, unknown>;
}

export interface BenchOptions {
  /** Seconds over which memory1000 samples the scheduler's RSS (one sample a second). */
  memoryWindowS: number;
}

export interface BenchContext {
  dialect: BenchDialect;
  options: BenchOptions;
  /** Started once by the runner when a PostgreSQL benchmark is selected. */
  pg: BenchPostgres | undefined;
  scope: Scope;
  /** Progress messages on stderr. */
  progress(message: string): void;
}

export interface Benchmark {
  /** Used in --only and in the results file name. */
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

export function met(m: Metric): boolean | undefined {
  if (!m.target) return undefined;
  return m.target.op === "<=" ? m.value <= m.target.value : m.value >= m.target.value;
}

// ---- cleanup ----

type Cleanup = () => unknown;
const openScopes = new Set<Scope>();
const lateCleanups = new Set<Promise<void>>();

async function runCleanup(what: string, fn: Cleanup): Promise<void> {
  try {
    await fn();
  } catch (err) {
    process.stderr.write(`bench: cleanup "${what}" failed: ${(err as Error)?.message ?? err}\n`);
  }
}

/**
 * Things to undo, run last-in first-out by close(). Every open scope is also
 * closed by closeAllScopes(), which the runner calls on SIGINT/SIGTERM.
 */
export class Scope {
  private fns: { what: string; fn: Cleanup }[] = [];
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor() {
    openScopes.add(this);
  }

  defer(what: string, fn: Cleanup): void {
    if (this.closed) {
      // Closed under a running benchmark (Ctrl-C): undo what it just made right away.
      const p = runCleanup(what, fn).finally(() => lateCleanups.delete(p));
      lateCleanups.add(p);
      return;
    }
    this.fns.push({ what, fn });
  }

  /** A temp directory under os.tmpdir(), removed when the scope closes. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `sluice-bench-${prefix}-`));
    this.defer(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Runs the cleanups once; a second caller (a signal arriving meanwhile) waits for the same work. */
  close(): Promise<void> {
    this.closing ??= this.runCleanups();
    return this.closing;
  }

  private async runCleanups(): Promise<void> {
    this.closed = true;
    for (const { what, fn } of this.fns.reverse()) await runCleanup(what, fn);
    this.fns = [];
    openScopes.delete(this);
  }
}

export async function closeAllScopes(): Promise<void> {
  // Newest first: a benchmark's scope before the runner's (which holds PostgreSQL).
  for (const s of [...openScopes].reverse()) await s.close();
  while (lateCleanups.size > 0) await Promise.all([...lateCleanups]);
}

export async function withScope<T>(fn: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope();
  try {
    return await fn(scope);
  } finally {
    await scope.close();
  }
}

// ---- databases ----

/** A fresh, empty database for one benchmark: a SQLite file in `dir`, or a new database on the bench PostgreSQL. */
export async function freshDbUrl(ctx: BenchContext, dir: string, label: string): Promise<string> {
  if (ctx.dialect === "sqlite") return join(dir, `${label}.db`);
  if (!ctx.pg) throw new Error("PostgreSQL was not started (internal error in the runner)");
  return ctx.pg.createDatabase(label);
}

// ---- numbers ----

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function min(xs: readonly number[]): number {
  return Math.min(...xs);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until it returns a value (not undefined) or the deadline passes. */
export async function pollUntil<T>(what: string, timeoutMs: number, intervalMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Reject if `p` does not settle within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: () => string | Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void Promise.resolve(what()).then(
        (w) => reject(new Error(`timed out after ${Math.round(ms / 1000)} s: ${w}`)),
        () => reject(new Error(`timed out after ${Math.round(ms / 1000)} s`)),
      );
    }, ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
