/**
 * Running the task's query: into a Parquet file (COPY ... TO, written under
 * a temporary name and renamed, so a failed or cancelled attempt never
 * leaves a half-written file where the output should be), or back as rows,
 * streamed chunk by chunk and refused past the result size limit.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { ErrorCode } from "../core/errors.js";
import { jsonSafeConverter } from "../data/duckdbJson.js";
import type { DuckdbTaskResult } from "../sdk/taskKinds.js";
import { DuckdbTaskError } from "./errors.js";
import { str } from "./sqlText.js";

export type ColumnSchema = DuckdbTaskResult["schema"];

/** Write the query's result to `path` as Parquet; returns the rows written, the file's schema and size. */
export async function writeParquet(conn: DuckDBConnection, query: string, path: string): Promise<{ rows: number; schema: ColumnSchema; bytes: number }> {
  await mkdir(dirname(path), { recursive: true });
  // Same folder as the target, so the rename is atomic (one file system).
  const tmp = join(dirname(path), `.${basename(path)}.sluice-${process.pid}-${randomBytes(4).toString("hex")}.tmp`);
  try {
    // The newline before ")" keeps a trailing -- comment in the query from swallowing it.
    const copied = await conn.run(`COPY (\n${query}\n) TO ${str(tmp)} (FORMAT parquet)`);
    const rows = copied.rowsChanged;
    const described = await conn.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${str(tmp)}))`);
    const schema = described.getRowsJS().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
    const bytes = (await stat(tmp)).size;
    await rename(tmp, path);
    return { rows, schema, bytes };
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * The query's rows as JSON-safe objects (see data/duckdbJson.ts), read chunk
 * by chunk; more than maxBytes of JSON stops the query with an error that
 * says to write an output file instead.
 */
export async function collectRows(
  conn: DuckDBConnection,
  query: string,
  maxBytes: number,
  taskId: string,
): Promise<{ rows: number; schema: ColumnSchema; data: Record<string, unknown>[] }> {
  const result = await conn.stream(query);
  const names = result.deduplicatedColumnNames();
  const schema = names.map((name, i) => ({ name, type: result.columnType(i).toString() }));
  const data: Record<string, unknown>[] = [];
  let bytes = 2;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const values of chunk.convertRows(jsonSafeConverter)) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
      bytes += Buffer.byteLength(JSON.stringify(row)) + 1;
      if (bytes > maxBytes) {
        throw new DuckdbTaskError(
          ErrorCode.ResultTooLarge,
          `DuckDB task "${taskId}": the query's rows exceed ${(maxBytes / 1024).toFixed(0)} KiB of JSON (tasks.maxResultBytes) after ${data.length} rows; write them to a Parquet file with output: "/path/result.parquet" and pass the path downstream, or aggregate more in the SQL.`,
        );
      }
      data.push(row);
    }
  }
  return { rows: data.length, schema, data };
}
