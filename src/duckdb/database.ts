/**
 * One in-memory DuckDB per attempt, set up for a task: its memory limit and
 * threads, and a temp directory inside the attempt's scratch folder, so a
 * query bigger than the limit spills there (sorts, joins, aggregates) and the
 * spill is removed with the folder when the attempt ends.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { ErrorCode } from "../core/errors.js";
import { DuckdbTaskError, duckdbMessage } from "./errors.js";

export interface TaskDatabaseOptions {
  taskId: string;
  /** DuckDB memory_limit ("512MB"); DuckDB's default (80% of RAM) when absent. */
  memoryLimit?: string;
  /** DuckDB threads (default 1: mapped instances are the parallelism). */
  threads?: number;
  /** The attempt's scratch folder; DuckDB spills to <scratch>/duckdb-tmp. */
  scratchDir: string;
  /** Relative paths inside the SQL resolve here (the DAG file's folder). */
  baseDir: string;
  /**
   * DuckDB's preserve_insertion_order. False when writing Parquet: rows of a
   * query without ORDER BY may then leave in any order, so DuckDB streams
   * them out instead of buffering them (ORDER BY is still honoured). Set
   * here, before the task's own statements, so a SET in them wins.
   */
  preserveInsertionOrder: boolean;
}

export interface TaskDatabase {
  conn: DuckDBConnection;
  /** Where DuckDB spills (exists from the start). */
  tempDir: string;
  close(): void;
}

export async function openTaskDatabase(o: TaskDatabaseOptions): Promise<TaskDatabase> {
  const tempDir = join(o.scratchDir, "duckdb-tmp");
  await mkdir(tempDir, { recursive: true });
  const config: Record<string, string> = {
    threads: String(o.threads ?? 1),
    temp_directory: tempDir,
    file_search_path: o.baseDir,
    preserve_insertion_order: String(o.preserveInsertionOrder),
  };
  if (o.memoryLimit) config.memory_limit = o.memoryLimit.trim();
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(":memory:", config);
  } catch (err) {
    throw new DuckdbTaskError(ErrorCode.Usage, `DuckDB task "${o.taskId}": could not start DuckDB with memoryLimit ${JSON.stringify(o.memoryLimit)}, threads ${o.threads ?? 1}: ${duckdbMessage(err)}`, {
      cause: err,
    });
  }
  const conn = await instance.connect();
  let closed = false;
  return {
    conn,
    tempDir,
    close() {
      if (closed) return;
      closed = true;
      conn.closeSync();
      instance.closeSync();
    },
  };
}
