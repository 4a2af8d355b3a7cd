/**
 * A DuckDB task's attempt: compute its SQL, sources and output for this run
 * (each a value or a function of the context and inputs), run them in the
 * task's own DuckDB (src/duckdb), and record rows, schema, output and time
 * as the result.
 */
import { DuckdbTaskError } from "../duckdb/errors.js";
import type { DuckdbTaskResult } from "../sdk/taskKinds.js";
import type { AttemptOutcome } from "./finishAttempt.js";
import type { CodeRunOptions } from "./codeRunOptions.js";

function kib(n: number): string {
  return n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

function failed(error: string, retryable = false): AttemptOutcome {
  return { kind: "failed", error, retryable };
}

/** Run a DuckDB task's attempt. Errors thrown by the user's per-run functions propagate (runTaskCode classifies them). */
export async function runDuckdbTask(o: CodeRunOptions, inputs: Record<string, unknown>): Promise<AttemptOutcome> {
  const id = o.def.spec.id;
  const code = o.def.duckdb;
  if (!code) return failed(`DuckDB task "${id}" has no SQL; declare it with d.duckdb("${id}", { sql: "..." }).`);
  const perRun = async (v: unknown): Promise<unknown> => (typeof v === "function" ? await (v as (ctx: unknown, inputs: unknown) => unknown)(o.ctx, inputs) : v);

  const sql = await perRun(code.sql);
  if (typeof sql !== "string" || sql.trim() === "") return failed(`DuckDB task "${id}": sql must give a non-empty string, got ${JSON.stringify(sql)?.slice(0, 100)}.`);
  let sources: unknown = await perRun(code.sources);
  if (sources === undefined && o.item) {
    // A mapped task without sources reads its element (a partition descriptor, a path) as the view `input`.
    sources = { input: o.item.value };
  }
  sources ??= {};
  if (typeof sources !== "object" || sources === null || Array.isArray(sources)) {
    return failed(`DuckDB task "${id}": sources must give an object of view name -> source, like { input: "data/*.parquet" }, got ${JSON.stringify(sources)?.slice(0, 100)}.`);
  }
  const output = await perRun(code.output);
  if (output !== undefined && (typeof output !== "string" || output.trim() === "")) {
    return failed(`DuckDB task "${id}": output must give a path or file:// URI of a Parquet file, got ${JSON.stringify(output)?.slice(0, 100)}.`);
  }

  // Loaded on first use, so task processes that never run a DuckDB task don't load the native module (~150 ms, ~35 MB).
  const { runDuckdb } = await import("../duckdb/runDuckdb.js");
  let result: DuckdbTaskResult;
  try {
    result = await runDuckdb({
      taskId: id,
      sql,
      sources: sources as Record<string, unknown>,
      output: output as string | undefined,
      memoryLimit: o.def.spec.duckdb?.memoryLimit,
      threads: o.def.spec.duckdb?.threads,
      scratchDir: await o.services.scratchDir(),
      baseDir: o.dagDir,
      signal: o.ctx.signal,
      maxResultBytes: o.maxResultBytes,
      log: (m) => o.ctx.log.info(m),
    });
  } catch (err) {
    if (err instanceof DuckdbTaskError) return failed(err.message, err.retryable);
    throw err;
  }
  const json = JSON.stringify(result);
  const size = Buffer.byteLength(json);
  if (size > o.maxResultBytes) {
    const hint = result.data ? ` write the rows to a Parquet file with output: "/path/result.parquet"` : " the result's schema is unusually large";
    return failed(`DuckDB task "${id}": its result is ${kib(size)} of JSON; results are limited to ${kib(o.maxResultBytes)} (tasks.maxResultBytes):${hint}.`);
  }
  return { kind: "success", result: json };
}
