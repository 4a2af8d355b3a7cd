/**
 * The small database interface partitionTable() works through, and adapters
 * for the three engines Sluice speaks: a pg Pool/Client (PostgreSQL), a
 * better-sqlite3 Database (SQLite) and a DuckDB connection or database file.
 * The adapters only run a query with positional parameters and return plain
 * rows; the SQL text (placeholders, quoting) is written by sqlRange.ts.
 */
import { isAbsolute, resolve } from "node:path";
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from "@duckdb/node-api";
import type BetterSqlite3 from "better-sqlite3";
import { jsonSafeInteger } from "./jsonSafe.js";
import type { SqlEngine, SqlKeyValue } from "../core/partitions.js";

export interface SqlClient {
  readonly engine: SqlEngine;
  /** The database file (SQLite, DuckDB), written into descriptors so a worker can open it; none for PostgreSQL or in-memory databases. */
  readonly database?: string;
  /** Run one statement; parameters are `$1, $2...` for PostgreSQL and `?` for SQLite and DuckDB. */
  query(sql: string, params?: readonly SqlKeyValue[]): Promise<Record<string, unknown>[]>;
}

/** What pgClient() needs of a pg Pool, Client or PoolClient. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/** A PostgreSQL adapter over a pg Pool, Client or PoolClient (not closed by Sluice). */
export function pgClient(pg: PgQueryable): SqlClient {
  return {
    engine: "postgres",
    async query(sql, params = []) {
      return (await pg.query(sql, [...params])).rows;
    },
  };
}

/**
 * A SQLite adapter over a better-sqlite3 Database (not closed by Sluice).
 * Integers are read as BigInt so keys beyond 2^53 stay exact (then as strings).
 */
export function sqliteClient(db: BetterSqlite3.Database): SqlClient {
  const database = db.memory || db.name === "" ? undefined : isAbsolute(db.name) ? db.name : resolve(db.name);
  return {
    engine: "sqlite",
    ...(database ? { database } : {}),
    async query(sql, params = []) {
      const rows = db
        .prepare(sql)
        .safeIntegers(true)
        .all(...params) as Record<string, unknown>[];
      for (const row of rows) for (const [k, v] of Object.entries(row)) if (typeof v === "bigint") row[k] = jsonSafeInteger(v);
      return rows;
    },
  };
}

export type DuckdbSqlClient = SqlClient & {
  /** Closes the database when the adapter opened it (from a path); a no-op for a connection you passed. */
  close(): void;
};

/**
 * A DuckDB adapter: over an open connection (its current database must be a
 * file for the descriptors to be usable by a worker), or over a database
 * file path, opened read-only (call close() when done).
 */
export async function duckdbClient(source: DuckDBConnection | string): Promise<DuckdbSqlClient> {
  // Loaded here, not at the top: "sluice" (which DAG files import) exports this module.
  const { jsonSafeConverter } = await import("./duckdbJson.js");
  let conn: DuckDBConnection;
  let instance: DuckDBInstance | undefined;
  if (typeof source === "string") {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    instance = await DuckDBInstance.create(resolve(source), { access_mode: "READ_ONLY", threads: "1" });
    conn = await instance.connect();
  } else {
    conn = source;
  }
  const where = (await conn.runAndReadAll("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")).getRowsJS()[0]?.[0];
  const database = typeof where === "string" && where !== "" ? where : undefined;
  return {
    engine: "duckdb",
    ...(database ? { database } : {}),
    async query(sql, params = []) {
      // Whole numbers bind as BIGINT, so an integer key compares as an integer rather than a double.
      const values: DuckDBValue[] = params.map((p) => (typeof p === "number" && Number.isInteger(p) ? BigInt(p) : p));
      const result = await conn.run(sql, values);
      const names = result.deduplicatedColumnNames();
      const rows = await result.convertRows(jsonSafeConverter);
      return rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])));
    },
    close() {
      if (!instance) return;
      conn.closeSync();
      instance.closeSync();
      instance = undefined;
    },
  };
}
