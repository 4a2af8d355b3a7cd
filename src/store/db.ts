import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { Dialect } from "./migrations/index.js";
import type { Database } from "./schema.js";

export type DbTarget = { dialect: "sqlite"; path: string } | { dialect: "postgres"; url: string };

export interface DbHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Human description with secrets masked, for logs. */
  describe: string;
  destroy(): Promise<void>;
}

/** Parse bigint columns (ms timestamps) as JS numbers: they stay far below 2^53. */
const pgTypes = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as "text");
  },
};

export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, "//$1:****@");
}

/**
 * Open the metadata database. SQLite runs in WAL mode with synchronous=NORMAL
 * (durable across process crashes, which is what we need; an OS crash may lose
 * the last commits) and a busy timeout so several local processes (scheduler,
 * task processes, CLI) can write without SQLITE_BUSY errors.
 */
export function openDb(target: DbTarget, opts: { poolSize?: number } = {}): DbHandle {
  if (target.dialect === "sqlite") {
    if (target.path !== ":memory:") mkdirSync(dirname(target.path), { recursive: true });
    const sqlite = new BetterSqlite3(target.path);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 15000");
    sqlite.pragma("foreign_keys = ON");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect: "sqlite", describe: `sqlite:${target.path}`, destroy: () => db.destroy() };
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: opts.poolSize ?? 10,
    types: pgTypes,
    // A task process that loses its connection should fail fast, not hang.
    connectionTimeoutMillis: 15_000,
  });
  // An idle client error (server restart) must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: "postgres", describe: maskUrl(target.url), destroy: () => db.destroy() };
}
