import { sql, type Kysely } from "kysely";
import { SchemaTooNewError, SluiceError, ErrorCode } from "../core/errors.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Dialect } from "./migrations/index.js";
import type { Database } from "./schema.js";

/** Arbitrary constant key for pg_advisory_xact_lock: "sluice" in ASCII. */
const PG_MIGRATION_LOCK = 0x736c75696365;

export interface MigrateResult {
  from: number;
  to: number;
  applied: string[];
}

async function ensureSchemaTable(conn: Kysely<any>): Promise<void> {
  await conn.schema
    .createTable("sluice_schema")
    .ifNotExists()
    .addColumn("version", "integer", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("applied_at", "bigint", (c) => c.notNull())
    .execute();
}

async function currentVersion(conn: Kysely<any>): Promise<number> {
  const row = await conn
    .selectFrom("sluice_schema")
    .select((eb: any) => eb.fn.max("version").as("v"))
    .executeTakeFirst();
  return Number((row as { v?: unknown } | undefined)?.v ?? 0);
}

/**
 * Apply pending migrations. Safe when several processes start at once: the
 * whole check-and-apply runs in one transaction holding an exclusive lock
 * (SQLite: BEGIN IMMEDIATE takes the write lock up front, so two migrators
 * cannot both read "version 0"; PostgreSQL: a transaction-scoped advisory
 * lock). Refuses a database whose schema is newer than this code.
 */
export async function migrate(db: Kysely<Database>, dialect: Dialect, now = Date.now()): Promise<MigrateResult> {
  return db.connection().execute(async (conn) => {
    await sql.raw(dialect === "sqlite" ? "begin immediate" : "begin").execute(conn);
    try {
      if (dialect === "postgres") await sql`select pg_advisory_xact_lock(${PG_MIGRATION_LOCK})`.execute(conn);
      await ensureSchemaTable(conn);
      const from = await currentVersion(conn);
      if (from > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(from, LATEST_SCHEMA_VERSION);
      const applied: string[] = [];
      for (const m of MIGRATIONS) {
        if (m.version <= from) continue;
        try {
          await m.up(conn, dialect);
        } catch (err) {
          throw new SluiceError(ErrorCode.MigrationFailed, `Migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
        }
        await conn.insertInto("sluice_schema").values({ version: m.version, name: m.name, applied_at: now }).execute();
        applied.push(`${m.version}_${m.name}`);
      }
      await sql.raw("commit").execute(conn);
      return { from, to: Math.max(from, LATEST_SCHEMA_VERSION), applied };
    } catch (err) {
      await sql.raw("rollback").execute(conn).catch(() => {});
      throw err;
    }
  });
}

/** Check without changing anything: throws if the schema is newer than the code or not migrated. */
export async function assertSchemaCurrent(db: Kysely<Database>): Promise<void> {
  let version = 0;
  try {
    version = await currentVersion(db as Kysely<any>);
  } catch (err) {
    // Only a missing sluice_schema table means "never migrated"; anything else
    // (database missing, server down, bad credentials) is the real problem to report.
    if (!isMissingTable(err)) throw err;
  }
  if (version > LATEST_SCHEMA_VERSION) throw new SchemaTooNewError(version, LATEST_SCHEMA_VERSION);
  if (version < LATEST_SCHEMA_VERSION) {
    throw new SluiceError(
      ErrorCode.SchemaOutdated,
      `The database schema is at version ${version}; this Sluice needs ${LATEST_SCHEMA_VERSION}. Run \`sluice db migrate\` first.`,
    );
  }
}

function isMissingTable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "42P01" || /no such table/i.test(e?.message ?? "");
}
