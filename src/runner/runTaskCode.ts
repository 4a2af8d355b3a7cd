import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { TaskSpec } from "../core/dagSpec.js";
import { coerceError, Skip, Unrecoverable } from "../core/errors.js";
import type { TaskDef } from "../sdk/dag.js";
import type { TaskContext } from "../sdk/context.js";
import type { AttemptOutcome } from "./finishAttempt.js";
import { runDuckdbTask } from "./duckdbTask.js";
import { runSparkTask } from "./sparkTask.js";
import type { CodeRunOptions } from "./codeRunOptions.js";

export type { CodeRunOptions };

function kib(n: number): string {
  return n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

/** Serialize a task's return value, enforcing JSON and the size bound. */
export function encodeResult(taskId: string, value: unknown, maxBytes: number): { ok: true; json: string | null } | { ok: false; error: string } {
  if (value === undefined) return { ok: true, json: null };
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return { ok: false, error: `Task "${taskId}" returned a value that is not JSON (${(err as Error).message}). Return plain data: objects, arrays, strings, numbers, booleans, null.` };
  }
  if (json === undefined) return { ok: true, json: null };
  const size = Buffer.byteLength(json);
  if (size > maxBytes) {
    return {
      ok: false,
      error: `Task "${taskId}" returned ${kib(size)} of JSON; results are limited to ${kib(maxBytes)} (tasks.maxResultBytes). Write the data to storage (a file, a table, an object store) and return a reference to it, like { path: "/data/out.parquet" }.`,
    };
  }
  return { ok: true, json };
}

function classify(err: unknown): AttemptOutcome {
  if (err instanceof Skip || (err as Error)?.name === "Skip") return { kind: "skipped", message: (err as Error).message };
  const e = coerceError(err);
  const retryable = !(err instanceof Unrecoverable || e.name === "Unrecoverable");
  return { kind: "failed", error: e.stack ?? `${e.name}: ${e.message}`, retryable };
}

/** Build a task's second argument: upstream results by task id, named inputs, and a mapped instance's item. */
export function inputsFor(def: TaskDef, upstream: Record<string, unknown>, item?: { value: unknown }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const id of def.spec.upstream) out[id] = upstream[id];
  for (const [name, id] of Object.entries(def.inputs)) out[name] = upstream[id];
  if (item) out.item = item.value;
  return out;
}

/** Run the user's code for one attempt. Never throws: every ending is an outcome. */
export async function runTaskCode(o: CodeRunOptions): Promise<AttemptOutcome> {
  try {
    const kind = o.def.spec.kind;
    if (kind === "shell") return await runShell(o.def.spec, o.ctx, o.dagDir, o.write, o.maxResultBytes, o.onSpawn, o.item);
    const inputs = inputsFor(o.def, o.upstreamResults, o.item);
    if (kind === "duckdb") return await runDuckdbTask(o, inputs);
    if (kind === "spark") return await runSparkTask(o, inputs);
    const value = await o.def.fn!(o.ctx, inputs);
    const r = encodeResult(o.def.spec.id, value, o.maxResultBytes);
    return r.ok ? { kind: "success", result: r.json } : { kind: "failed", error: r.error, retryable: false };
  } catch (err) {
    return classify(err);
  }
}

/**
 * Params bigger than this reach a shell task as a file (SLUICE_PARAMS_FILE)
 * instead of SLUICE_PARAMS: Linux refuses to start a process whose one
 * environment string exceeds 128 KiB (E2BIG), and a conf may be up to the API's
 * body limit.
 */
export const MAX_ENV_PARAMS_BYTES = 32 * 1024;

/** Environment every task process gets, so shell tasks know which run they belong to. */
export function taskEnv(ctx: TaskContext<any>, paramsJson = JSON.stringify(ctx.params)): Record<string, string> {
  return {
    SLUICE_DAG_ID: ctx.dagId,
    SLUICE_RUN_ID: ctx.runId,
    SLUICE_TASK_ID: ctx.taskId,
    SLUICE_MAP_INDEX: String(ctx.mapIndex),
    SLUICE_TRY_NUMBER: String(ctx.tryNumber),
    SLUICE_LOGICAL_DATE: ctx.logicalDate.toISOString(),
    SLUICE_DATA_INTERVAL_START: ctx.dataInterval.start.toISOString(),
    SLUICE_DATA_INTERVAL_END: ctx.dataInterval.end.toISOString(),
    SLUICE_PARAMS: paramsJson,
  };
}

/** The params part of a shell task's environment: inline, or in a private temp file the caller removes. */
function paramsEnv(ctx: TaskContext<any>): { env: Record<string, string>; cleanup: () => void } {
  const json = JSON.stringify(ctx.params);
  if (Buffer.byteLength(json) <= MAX_ENV_PARAMS_BYTES) return { env: taskEnv(ctx, json), cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), "sluice-params-"));
  const file = join(dir, "params.json");
  writeFileSync(file, json, { mode: 0o600 });
  const { SLUICE_PARAMS: _inline, ...rest } = taskEnv(ctx, json);
  return { env: { ...rest, SLUICE_PARAMS_FILE: file }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function runShell(
  spec: TaskSpec,
  ctx: TaskContext<any>,
  dagDir: string,
  write: CodeRunOptions["write"],
  maxResultBytes: number,
  onSpawn?: (pgid: number) => void,
  item?: { value: unknown },
): Promise<AttemptOutcome> {
  const cwd = spec.cwd ? (isAbsolute(spec.cwd) ? spec.cwd : resolve(dagDir, spec.cwd)) : dagDir;
  const params = paramsEnv(ctx);
  // A mapped instance's element, as JSON (a partition descriptor is a few hundred bytes).
  if (item) params.env.SLUICE_MAP_ITEM = JSON.stringify(item.value ?? null);
  return new Promise<AttemptOutcome>((resolvePromise) => {
    // Own process group, so a timeout or cancel kills the command and everything it started.
    const child = spawn("/bin/sh", ["-c", spec.command!], {
      cwd,
      env: { ...process.env, ...params.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    if (child.pid) onSpawn?.(child.pid);
    let lastLine = "";
    let tail = "";
    child.stdout.on("data", (b: Buffer) => {
      const text = b.toString();
      write("stdout", text);
      tail = (tail + text).slice(-65_536);
    });
    child.stderr.on("data", (b: Buffer) => write("stderr", b.toString()));
    const onAbort = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err) => {
      ctx.signal.removeEventListener("abort", onAbort);
      resolvePromise({ kind: "failed", error: `Could not start the shell command in ${cwd}: ${err.message}`, retryable: true });
    });
    child.on("close", (code, signal) => {
      ctx.signal.removeEventListener("abort", onAbort);
      lastLine = tail.split(/\r?\n/).filter((l) => l.trim() !== "").pop() ?? "";
      if (code === 0) {
        const r = encodeResult(spec.id, lastLine, maxResultBytes);
        resolvePromise(r.ok ? { kind: "success", result: r.json } : { kind: "failed", error: r.error, retryable: false });
      } else if (code === 99) {
        resolvePromise({ kind: "skipped", message: "The command exited with code 99 (skip)." });
      } else {
        resolvePromise({
          kind: "failed",
          error: signal ? `The command was killed by ${signal}.` : `The command exited with code ${code}.`,
          retryable: true,
        });
      }
    });
  }).finally(params.cleanup);
}

