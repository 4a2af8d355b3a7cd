/**
 * Runs one DuckDB task attempt the way the runner does, without a scheduler:
 * the task is declared with the real SDK (dag() + d.duckdb()), the context
 * has a real AbortController, and the services a real scratch folder that is
 * removed afterwards (like attemptServices().dispose()).
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag, type DagBuilder } from "../../src/sdk/dag.js";
import type { TaskContext } from "../../src/sdk/context.js";
import type { DuckdbTaskResult } from "../../src/sdk/taskKinds.js";
import type { AttemptOutcome } from "../../src/runner/finishAttempt.js";
import { runDuckdbTask } from "../../src/runner/duckdbTask.js";
import { inputsFor } from "../../src/runner/runTaskCode.js";
import type { TaskServices } from "../../src/runner/taskServices.js";

export interface RunOptions {
  /** A mapped instance's element. */
  item?: unknown;
  upstreamResults?: Record<string, unknown>;
  signal?: AbortSignal;
  maxResultBytes?: number;
  dagDir?: string;
  /** Called with the scratch folder once the attempt asks for it (before the query runs). */
  onScratch?: (dir: string) => void;
}

export interface RunReport {
  outcome: AttemptOutcome;
  /** The parsed result of a success. */
  result?: DuckdbTaskResult;
  logs: string[];
  /** Entries left in the scratch folder when the attempt ended (before it is removed). */
  scratchLeft: string[];
}

/** Declare a DAG with `build` and run the attempt of task `taskId`. */
export async function runDuckdbAttempt(build: (d: DagBuilder<Record<string, unknown>>) => void, taskId: string, o: RunOptions = {}): Promise<RunReport> {
  const d = dag({ id: "duckdb_test" }, build as never);
  const def = d.tasks.get(taskId);
  if (!def) throw new Error(`no task ${taskId}`);
  const logs: string[] = [];
  const controller = new AbortController();
  const signal = o.signal ?? controller.signal;
  const now = new Date("2024-05-01T00:00:00Z");
  const ctx: TaskContext<any> = {
    dagId: "duckdb_test",
    runId: "manual__1",
    taskId,
    mapIndex: o.item === undefined ? -1 : 0,
    tryNumber: 1,
    maxTries: 1,
    logicalDate: now,
    dataInterval: { start: now, end: now },
    params: {},
    conf: {},
    log: {
      debug: (m) => logs.push(`DEBUG ${m}`),
      info: (m) => logs.push(`INFO ${m}`),
      warn: (m) => logs.push(`WARN ${m}`),
      error: (m) => logs.push(`ERROR ${m}`),
    },
    signal,
    outletExtra: () => {},
  };
  let scratch: Promise<string> | undefined;
  const services: TaskServices = {
    connection: () => Promise.reject(new Error("no connections in this test")),
    recordSparkApp: () => Promise.reject(new Error("no spark in this test")),
    scratchDir() {
      scratch ??= mkdtemp(join(tmpdir(), "sluice-duckdb-scratch-")).then((dir) => {
        o.onScratch?.(dir);
        return dir;
      });
      return scratch;
    },
  };
  const item = o.item === undefined ? undefined : { value: o.item };
  const upstreamResults = o.upstreamResults ?? {};
  try {
    const outcome = await runDuckdbTask(
      {
        def,
        ctx,
        upstreamResults,
        item,
        services,
        dagDir: o.dagDir ?? tmpdir(),
        maxResultBytes: o.maxResultBytes ?? 65_536,
        write: (_s, t) => logs.push(t),
      },
      inputsFor(def, upstreamResults, item),
    );
    const scratchLeft = scratch ? await listTree(await scratch) : [];
    return { outcome, logs, scratchLeft, ...(outcome.kind === "success" && outcome.result ? { result: JSON.parse(outcome.result) as DuckdbTaskResult } : {}) };
  } finally {
    if (scratch) await rm(await scratch, { recursive: true, force: true });
  }
}

async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(prefix + e.name);
    if (e.isDirectory()) out.push(...(await listTree(join(dir, e.name), `${prefix}${e.name}/`)));
  }
  return out;
}

/** The success's result, or a failure with the attempt's error. */
export function ok(r: RunReport): DuckdbTaskResult {
  if (r.outcome.kind !== "success") throw new Error(`expected success, got ${r.outcome.kind}: ${"error" in r.outcome ? r.outcome.error : ""}`);
  return r.result!;
}

/** The failure's error and retryable flag. */
export function failure(r: RunReport): { error: string; retryable: boolean } {
  if (r.outcome.kind !== "failed") throw new Error(`expected a failure, got ${r.outcome.kind}: ${JSON.stringify(r.result)?.slice(0, 300)}`);
  return { error: r.outcome.error, retryable: r.outcome.retryable };
}
