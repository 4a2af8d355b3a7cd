/**
 * partitionTable(): a SQL table split into key ranges of about targetRows
 * rows, without reading the table: a keyset walk asks the database for the
 * key at offset targetRows past the previous boundary (an index-only scan on
 * PostgreSQL and SQLite), then counts the rows in between. Work is two
 * passes over the key index in total, memory a few rows.
 *
 * Ranges are [lo, hi) over the key's own ordering (its collation for text),
 * the first open below and the last open above, so together they cover every
 * key; a run of equal keys is never split (a range holds more rows than the
 * target when one key repeats more often than that). Rows whose key is NULL
 * go to the first range.
 *
 * rangePredicate() turns a range into the WHERE clause that selects it.
 */
import { z } from "zod";
import type { SqlClient } from "./sqlClients.js";
import { PartitionError, type SqlEngine, type SqlKeyValue, type SqlRangePartition } from "../core/partitions.js";

/** Used when targetRows is not given. */
export const DEFAULT_TARGET_TABLE_ROWS = 1_000_000;

const ENGINES: readonly SqlEngine[] = ["postgres", "sqlite", "duckdb"];

const identifier = (what: string) =>
  z
    .string()
    .min(1, `${what} is empty`)
    .refine((s) => !s.includes("\0"), `${what} contains a NUL character`);

const optionsSchema = z.strictObject({
  /** The database, through pgClient(), sqliteClient() or duckdbClient(). */
  client: z.custom<SqlClient>(
    (c) => typeof c === "object" && c !== null && typeof (c as SqlClient).query === "function" && ENGINES.includes((c as SqlClient).engine),
    { message: "client must be an adapter: pgClient(pool), sqliteClient(db) or await duckdbClient(connOrPath)" },
  ),
  /** Table (or view) name, as written in the database: it is quoted, so case and spaces matter. */
  table: identifier("table"),
  /** Schema of the table (default: the connection's search path / main schema). */
  schema: identifier("schema").optional(),
  /** Column whose order defines the ranges: indexed (PostgreSQL, SQLite) and orderable. */
  key: identifier("key"),
  /** Rows per range (default 1,000,000); a key value repeated more often makes its range bigger. */
  targetRows: z.number().int().positive().optional(),
  /** Refuse a key without an index on PostgreSQL and SQLite, where each step would scan the table (default true). */
  requireIndex: z.boolean().optional(),
});

export type PartitionTableOptions = z.input<typeof optionsSchema>;

/** A double-quoted SQL identifier (the same rule in PostgreSQL, SQLite and DuckDB). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL literal for a key bound (used where parameters can't be, like a view's definition). */
export function sqlLiteral(v: SqlKeyValue): string {
  return typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

function placeholders(engine: SqlEngine, first = 1): () => string {
  let i = first;
  return () => (engine === "postgres" ? `$${i++}` : "?");
}

type KeyKind = "integer" | "float" | "other" | "dynamic";

interface KeyInfo {
  kind: KeyKind;
  indexed: boolean;
}

const PG_INTEGERS = new Set(["smallint", "integer", "bigint"]);
const PG_FLOATS = new Set(["real", "double precision"]);
const DUCK_INTEGERS = new Set(["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"]);
const DUCK_FLOATS = new Set(["FLOAT", "DOUBLE"]);
const SQLITE_ROWID = new Set(["rowid", "_rowid_", "oid"]);

function describeTable(schema: string | undefined, table: string): string {
  return schema ? `${schema}.${table}` : table;
}

/** Columns of the table, the key's type class, and whether an index starts with the key. */
async function inspectKey(client: SqlClient, schema: string | undefined, table: string, key: string): Promise<KeyInfo> {
  const name = describeTable(schema, table);
  let columns: { name: string; type: string; indexed: boolean }[];
  if (client.engine === "postgres") {
    const qualified = schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table);
    const rows = await client.query(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
              EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indkey[0] = a.attnum AND i.indpred IS NULL) AS indexed
         FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [qualified],
    );
    columns = rows.map((r) => ({ name: String(r.name), type: String(r.type), indexed: r.indexed === true }));
  } else if (client.engine === "sqlite") {
    const args = schema ? [table, schema] : [table];
    const tableInfo = await client.query(`SELECT name, type, pk FROM pragma_table_info(${args.map(() => "?").join(", ")})`, args);
    const pkCount = tableInfo.filter((r) => Number(r.pk) > 0).length;
    const indexedCols = new Set(
      (
        await client.query(
          `SELECT ii.name AS name FROM pragma_index_list(${args.map(() => "?").join(", ")}) il, pragma_index_info(il.name${schema ? ", ?" : ""}) ii
            WHERE ii.seqno = 0 AND il.partial = 0`,
          schema ? [...args, schema] : args,
        )
      ).map((r) => String(r.name)),
    );
    columns = tableInfo.map((r) => ({
      name: String(r.name),
      type: String(r.type),
      // An INTEGER PRIMARY KEY is the rowid itself: the table is its index.
      indexed: indexedCols.has(String(r.name)) || (Number(r.pk) === 1 && pkCount === 1 && String(r.type).toUpperCase() === "INTEGER"),
    }));
    if (columns.length > 0 && SQLITE_ROWID.has(key.toLowerCase()) && !columns.some((c) => c.name.toLowerCase() === key.toLowerCase())) {
      return { kind: "dynamic", indexed: true };
    }
  } else {
    const rows = await client.query(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns
        WHERE table_catalog = current_database() AND table_schema = ${schema ? "?" : "current_schema()"} AND table_name = ?
        ORDER BY ordinal_position`,
      schema ? [schema, table] : [table],
    );
    // Columnar: each step is one scan of the key column, with min/max pruning; no index needed.
    columns = rows.map((r) => ({ name: String(r.name), type: String(r.type), indexed: true }));
  }
  if (columns.length === 0) {
    throw new PartitionError(
      `partitionTable(): table "${name}" does not exist in the ${client.engine} database${client.database ? ` ${client.database}` : ""}; check the name (it is quoted: on PostgreSQL case matters) and the schema option.`,
      { table: name },
    );
  }
  const col = columns.find((c) => c.name === key);
  if (!col) {
    throw new PartitionError(`partitionTable(): table "${name}" has no column "${key}" (columns: ${columns.map((c) => c.name).join(", ")}); pass one of them as key.`, {
      table: name,
      key,
    });
  }
  const type = col.type.toLowerCase();
  const upper = col.type.toUpperCase();
  const kind: KeyKind =
    client.engine === "sqlite"
      ? "dynamic"
      : client.engine === "postgres"
        ? PG_INTEGERS.has(type)
          ? "integer"
          : PG_FLOATS.has(type)
            ? "float"
            : "other"
        : DUCK_INTEGERS.has(upper)
          ? "integer"
          : DUCK_FLOATS.has(upper)
            ? "float"
            : "other";
  return { kind, indexed: col.indexed };
}

/** The key as a JSON value: numbers when exact, else the database's text for it. */
function keyValue(raw: unknown, kind: KeyKind, where: string): SqlKeyValue {
  if (typeof raw === "number") return raw;
  if (typeof raw === "bigint") return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
  if (typeof raw !== "string") {
    throw new PartitionError(`partitionTable(): a key value of ${where} is a ${raw instanceof Uint8Array ? "blob" : typeof raw}; partition on a column of numbers, text or dates.`);
  }
  if (kind === "integer" && /^-?\d+$/.test(raw)) {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : raw;
  }
  if (kind === "float") {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  return raw;
}

interface Range {
  lo: SqlKeyValue | null;
  hi: SqlKeyValue | null;
  rows: number;
}

/**
 * Split a table into key ranges of about targetRows rows (see the file
 * comment). An empty table gives []. The table must not change while this
 * runs for the counts to be exact; the ranges themselves stay a partition of
 * the key space whatever changes.
 */
export async function partitionTable(options: PartitionTableOptions): Promise<SqlRangePartition[]> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
    throw new PartitionError(`partitionTable(): invalid options: ${issues}.`, { issues: parsed.error.issues });
  }
  const { client, table, schema, key } = parsed.data;
  const target = parsed.data.targetRows ?? DEFAULT_TARGET_TABLE_ROWS;
  const name = describeTable(schema, table);
  const info = await inspectKey(client, schema, table, key);
  if (!info.indexed && parsed.data.requireIndex !== false) {
    throw new PartitionError(
      `partitionTable(): no index starts with column "${key}" of table "${name}", so each range would cost a full scan and sort. Create one (CREATE INDEX ON ${quoteIdent(table)} (${quoteIdent(key)})), partition on an indexed column such as the primary key, or pass requireIndex: false for a small table.`,
      { table: name, key },
    );
  }

  const src = schema ? `${quoteIdent(schema)}.${quoteIdent(table)}` : quoteIdent(table);
  const k = quoteIdent(key);
  const asText = client.engine === "postgres" ? `(${k})::text` : client.engine === "duckdb" ? `CAST(${k} AS VARCHAR)` : k;
  const run = async (sql: string, params: SqlKeyValue[]) => {
    try {
      return await client.query(sql, params);
    } catch (err) {
      throw new PartitionError(`partitionTable(): reading key "${key}" of table "${name}" failed: ${(err as Error).message}. The key must be a column whose values can be ordered (numbers, text, dates).`, {
        table: name,
        key,
      });
    }
  };
  const boundary = async (where: string, params: SqlKeyValue[], offset: number): Promise<SqlKeyValue | undefined> => {
    const rows = await run(`SELECT ${asText} AS boundary FROM ${src} WHERE ${where} ORDER BY ${k} LIMIT 1 OFFSET ${offset}`, params);
    return rows.length === 0 ? undefined : keyValue(rows[0]!.boundary, info.kind, `table "${name}"`);
  };
  const count = async (lo: SqlKeyValue | null, hi: SqlKeyValue | null): Promise<number> => {
    const ph = placeholders(client.engine);
    const parts: string[] = [];
    const params: SqlKeyValue[] = [];
    if (lo !== null) {
      parts.push(`${k} >= ${ph()}`);
      params.push(lo);
    }
    if (hi !== null) {
      parts.push(`${k} < ${ph()}`);
      params.push(hi);
    }
    if (parts.length === 0) parts.push(`${k} IS NOT NULL`);
    const rows = await run(`SELECT count(*) AS n FROM ${src} WHERE ${parts.join(" AND ")}`, params);
    return Number(rows[0]?.n ?? 0);
  };

  const nulls = Number((await run(`SELECT count(*) AS n FROM ${src} WHERE ${k} IS NULL`, []))[0]?.n ?? 0);
  const ranges: Range[] = [];
  let lo: SqlKeyValue | null = null;
  for (;;) {
    const ph = placeholders(client.engine);
    const from = lo === null ? { where: `${k} IS NOT NULL`, params: [] as SqlKeyValue[] } : { where: `${k} >= ${ph()}`, params: [lo] };
    let hi = await boundary(from.where, from.params, target);
    if (hi === undefined) break;
    let rows = await count(lo, hi);
    if (rows === 0) {
      // More than targetRows rows share one key: the range takes the whole run, up to the next distinct key.
      hi = await boundary(`${k} > ${placeholders(client.engine)()}`, [hi], 0);
      if (hi === undefined) break;
      rows = await count(lo, hi);
    }
    ranges.push({ lo, hi, rows });
    lo = hi;
  }
  ranges.push({ lo, hi: null, rows: await count(lo, null) });
  ranges[0]!.rows += nulls;
  if (ranges.length === 1 && ranges[0]!.rows === 0) return [];
  return ranges.map((r, index) => ({
    format: "sql-range" as const,
    engine: client.engine,
    ...(client.database ? { database: client.database } : {}),
    ...(schema ? { schema } : {}),
    table,
    key,
    lo: r.lo,
    hi: r.hi,
    rows: r.rows,
    index,
    of: ranges.length,
  }));
}

export interface RangePredicateOptions {
  /** Number of the first placeholder for PostgreSQL ($1 by default), to append the predicate to a query with parameters. */
  firstParam?: number;
  /** Write the bounds as SQL literals instead of parameters (for a view definition); params is then empty. */
  inline?: boolean;
  /** Qualify the key column, e.g. "t" gives "t"."id". */
  tableAlias?: string;
}

/**
 * The WHERE condition selecting one range: `key >= lo AND key < hi`, with the
 * first range also taking NULL keys. Placeholders are `$n` for PostgreSQL and
 * `?` for SQLite and DuckDB (the dialect defaults to the descriptor's engine).
 */
export function rangePredicate(desc: SqlRangePartition, dialect: SqlEngine = desc.engine, opts: RangePredicateOptions = {}): { sql: string; params: SqlKeyValue[] } {
  if (desc?.format !== "sql-range") throw new PartitionError(`rangePredicate(): expected a "sql-range" descriptor from partitionTable(), got format ${JSON.stringify((desc as { format?: unknown })?.format)}.`);
  if (!ENGINES.includes(dialect)) throw new PartitionError(`rangePredicate(): unknown dialect ${JSON.stringify(dialect)}; use "postgres", "sqlite" or "duckdb".`);
  const k = opts.tableAlias ? `${quoteIdent(opts.tableAlias)}.${quoteIdent(desc.key)}` : quoteIdent(desc.key);
  const ph = placeholders(dialect, opts.firstParam ?? 1);
  const params: SqlKeyValue[] = [];
  const bound = (v: SqlKeyValue) => {
    if (opts.inline) return sqlLiteral(v);
    params.push(v);
    return ph();
  };
  const parts: string[] = [];
  if (desc.lo !== null) parts.push(`${k} >= ${bound(desc.lo)}`);
  if (desc.hi !== null) parts.push(`${k} < ${bound(desc.hi)}`);
  let sql: string;
  if (desc.lo === null) sql = parts.length === 0 ? "TRUE" : `(${parts[0]} OR ${k} IS NULL)`;
  else sql = parts.join(" AND ");
  return { sql, params };
}
