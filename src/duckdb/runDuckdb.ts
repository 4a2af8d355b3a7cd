/**
 * One DuckDB task attempt, given its resolved SQL, sources and output: a
 * fresh in-memory DuckDB (memory limit, threads, spill folder in scratch),
 * the sources as views, setup statements, then the last statement written to
 * Parquet or returned as rows. Cancelling (the signal) interrupts the running
 * statement at once.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode } from "../core/errors.js";
import type { DuckdbTaskResult } from "../sdk/taskKinds.js";
import { openTaskDatabase } from "./database.js";
import { DuckdbTaskError, duckdbMessage } from "./errors.js";
import { collectRows, writeParquet } from "./query.js";
import { registerSources } from "./sources.js";
import { splitStatements } from "./sqlText.js";

export interface DuckdbRunInput {
  taskId: string;
  sql: string;
  /** View name -> source (path, glob, list, partition descriptor); validated here. */
  sources: Record<string, unknown>;
  /** Parquet file (path or file:// URI) to write the result to; rows are returned when absent. */
  output?: string;
  memoryLimit?: string;
  threads?: number;
  /** The attempt's private folder (copied partitions, DuckDB's spill files). */
  scratchDir: string;
  /** Relative paths (sources, output, inside the SQL) resolve here: the DAG file's folder. */
  baseDir: string;
  signal: AbortSignal;
  /** Bound on the JSON of returned rows. */
  maxResultBytes: number;
  log: (message: string) => void;
}

const REMOTE = /^[a-z][a-z0-9+.-]*:\/\//i;

function outputPath(taskId: string, output: string, baseDir: string): string {
  if (output.startsWith("file://")) return fileURLToPath(output);
  if (REMOTE.test(output)) {
    throw new DuckdbTaskError(
      ErrorCode.Usage,
      `DuckDB task "${taskId}": output ${JSON.stringify(output)} is not a local path; DuckDB tasks write Parquet to the local file system (a path or file:// URI) so the file appears whole or not at all. Write to a mounted volume, or copy the file to object storage in a downstream task.`,
    );
  }
  return isAbsolute(output) ? output : resolve(baseDir, output);
}

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

const SYSTEM_NOT_RETRYABLE = new Set(["ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "EROFS"]);

/** Anything that stopped the attempt, as a DuckdbTaskError naming the task. */
function classify(err: unknown, input: DuckdbRunInput, stage: string): DuckdbTaskError {
  if (input.signal.aborted) {
    const reason = (input.signal.reason as Error | undefined)?.message ?? "cancelled";
    return new DuckdbTaskError(ErrorCode.TaskFailed, `DuckDB task "${input.taskId}": interrupted while ${stage} (${reason}).`, { retryable: true, cause: err });
  }
  if (err instanceof DuckdbTaskError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return new DuckdbTaskError(ErrorCode.TaskFailed, `DuckDB task "${input.taskId}": ${stage} failed: ${(err as Error).message}`, { retryable: !SYSTEM_NOT_RETRYABLE.has(code), cause: err });
  }
  let message = duckdbMessage(err);
  if (stage === "writing the output" && /^Parser Error/.test(message)) {
    message += "\n(With output, the last statement is written with COPY (<statement>) TO ..., so it must be a query: SELECT, WITH, FROM, VALUES, ...)";
  }
  // The same SQL over the same data fails the same way: a retry would not help. A full disk may not be full next time.
  const transient = /No space left on device/i.test(message);
  return new DuckdbTaskError(ErrorCode.TaskFailed, `DuckDB task "${input.taskId}": ${message}`, { retryable: transient, cause: err });
}

export async function runDuckdb(input: DuckdbRunInput): Promise<DuckdbTaskResult> {
  const started = Date.now();
  const statements = splitStatements(input.sql);
  if (statements.length === 0) throw new DuckdbTaskError(ErrorCode.Usage, `DuckDB task "${input.taskId}": the SQL has no statement; give the query to run.`);
  const output = input.output === undefined ? undefined : outputPath(input.taskId, input.output, input.baseDir);
  let stage = "starting DuckDB";
  if (input.signal.aborted) throw classify(undefined, input, stage);
  const db = await openTaskDatabase({
    taskId: input.taskId,
    memoryLimit: input.memoryLimit,
    threads: input.threads,
    scratchDir: input.scratchDir,
    baseDir: input.baseDir,
    preserveInsertionOrder: output === undefined,
  });
  const onAbort = () => db.conn.interrupt();
  input.signal.addEventListener("abort", onAbort, { once: true });
  try {
    stage = "registering the sources";
    await registerSources(db.conn, input.sources, { taskId: input.taskId, scratchDir: input.scratchDir, baseDir: input.baseDir, signal: input.signal, log: input.log });
    stage = "running the setup statements";
    for (const stmt of statements.slice(0, -1)) {
      if (input.signal.aborted) throw new Error("aborted");
      await db.conn.run(stmt);
    }
    const query = statements.at(-1)!;
    if (input.signal.aborted) throw new Error("aborted");
    if (output) {
      stage = "writing the output";
      const w = await writeParquet(db.conn, query, output);
      const elapsedMs = Date.now() - started;
      input.log(`DuckDB: ${w.rows} rows written to ${output} (${mib(w.bytes)}) in ${elapsedMs} ms`);
      return { rows: w.rows, schema: w.schema, output: { path: output, bytes: w.bytes }, elapsedMs };
    }
    stage = "reading the result";
    const r = await collectRows(db.conn, query, input.maxResultBytes, input.taskId);
    const elapsedMs = Date.now() - started;
    input.log(`DuckDB: ${r.rows} rows returned in ${elapsedMs} ms`);
    return { rows: r.rows, schema: r.schema, data: r.data, elapsedMs };
  } catch (err) {
    throw classify(err, input, stage);
  } finally {
    input.signal.removeEventListener("abort", onAbort);
    db.close();
  }
}
