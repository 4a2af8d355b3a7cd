/**
 * partitionTable() and rangePredicate() against real databases: a SQLite
 * file (better-sqlite3), the test run's PostgreSQL (a fresh database) and a
 * DuckDB database file. Every check reads the rows back through the
 * predicate of each range, on the same engine, so "every row in exactly one
 * range" is what the database says, not what the code believes.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { rejectsUsage } from "../helpers/usageError.js";
import { duckdbClient, pgClient, sqliteClient, type DuckdbSqlClient, type SqlClient } from "../../src/data/sqlClients.js";
import { partitionTable, rangePredicate, type PartitionTableOptions } from "../../src/data/sqlRange.js";
import type { SqlEngine, SqlRangePartition } from "../../src/core/partitions.js";
import { freshTarget } from "../helpers/db.js";

const N = 5000;
const WORDS = ["apple", "Äpfel", "Zebra", "zebra", "émile", "b", "", "o'neil", 'say "hi"', "日本"];

interface Item {
  id: number;
  grp: number | null;
  name: string;
  ts: string;
}

/** Ids strictly increasing with gaps; grp with a run of 2,500 equal keys and some NULLs; text and timestamp keys in scrambled order. */
function items(): Item[] {
  const base = Date.UTC(2024, 0, 1);
  return Array.from({ length: N }, (_, i) => {
    const perm = (i * 7919) % N;
    const t = new Date(base + perm * 61_000).toISOString().replace("T", " ").replace("Z", "");
    return {
      id: i * 3 + (i % 3),
      grp: i % 97 === 5 ? null : i < 2500 ? 7 : Math.floor(i / 300),
      name: `${WORDS[i % WORDS.length]}-${perm}`,
      ts: `${t}${String(perm % 1000).padStart(3, "0")}`,
    };
  });
}

interface Db {
  engine: SqlEngine;
  client: SqlClient;
  /** CAST(x AS TEXT) in this engine. */
  text(expr: string): string;
  close(): Promise<void>;
}

/** Builds the test tables, then returns a client over them. */
async function setup(engine: SqlEngine, dir: string): Promise<Db> {
  const rows = items();
  const ddl = (types: { int: string; text: string; ts: string; big: string; json?: string }) => [
    `CREATE TABLE items (id ${types.int} PRIMARY KEY, grp ${types.int}, name ${types.text}, ts ${types.ts})`,
    `CREATE INDEX items_grp ON items (grp)`,
    `CREATE INDEX items_name ON items (name)`,
    `CREATE INDEX items_ts ON items (ts)`,
    `CREATE TABLE empty_t (id ${types.int} PRIMARY KEY)`,
    `CREATE TABLE noidx (id ${types.int}, v ${types.text})`,
    `CREATE TABLE small (k ${types.int}, v ${types.int})`,
    `CREATE INDEX small_k ON small (k)`,
    `CREATE TABLE bigkeys (k ${types.big} PRIMARY KEY, v ${types.int})`,
    `CREATE TABLE "we""ird tab" ("Key Col" ${types.int} PRIMARY KEY, v ${types.text})`,
  ];
  const smallRows = [1, 1, 1, 2, 3, 3, 4, 5, 5, 5, 5, 6, 7, 8, 8, 9, 10, 10, 10, 11];
  if (engine === "sqlite") {
    const db = new BetterSqlite3(join(dir, "test.sqlite"));
    for (const s of ddl({ int: "INTEGER", text: "TEXT", ts: "TEXT", big: "INTEGER" })) db.exec(s);
    db.transaction(() => {
      const ins = db.prepare("INSERT INTO items VALUES (?, ?, ?, ?)");
      for (const r of rows) ins.run(r.id, r.grp, r.name, r.ts);
      const s = db.prepare("INSERT INTO small VALUES (?, ?)");
      smallRows.forEach((k, v) => s.run(k, v));
      const n = db.prepare("INSERT INTO noidx VALUES (?, ?)");
      for (let i = 0; i < 50; i++) n.run(i, `v${i}`);
      const b = db.prepare("INSERT INTO bigkeys VALUES (?, ?)");
      for (let i = 0; i < 300; i++) b.run((1n << 60n) + BigInt(i) * 1_000_003n, i);
      const w = db.prepare(`INSERT INTO "we""ird tab" VALUES (?, ?)`);
      for (let i = 0; i < 100; i++) w.run(i * 2, `w${i}`);
    })();
    return { engine, client: sqliteClient(db), text: (e) => `CAST(${e} AS TEXT)`, close: async () => void db.close() };
  }
  if (engine === "postgres") {
    const target = await freshTarget("postgres", "sqlrange");
    const pool = new pg.Pool({ connectionString: (target as { url: string }).url, max: 2 });
    for (const s of ddl({ int: "integer", text: "text", ts: "timestamp", big: "bigint" })) await pool.query(s);
    await pool.query("CREATE TABLE jsonkeys (j json, v integer)");
    await pool.query("INSERT INTO jsonkeys VALUES ('{}', 1), ('[]', 2)");
    await pool.query("CREATE SCHEMA s2");
    await pool.query("CREATE TABLE s2.items AS SELECT * FROM generate_series(1, 30) AS id");
    await pool.query("CREATE INDEX ON s2.items (id)");
    await pool.query(`INSERT INTO items SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::timestamp[])`, [
      rows.map((r) => r.id),
      rows.map((r) => r.grp),
      rows.map((r) => r.name),
      rows.map((r) => r.ts),
    ]);
    await pool.query(`INSERT INTO small SELECT k, v - 1 FROM unnest($1::int[]) WITH ORDINALITY AS t(k, v)`, [smallRows]);
    await pool.query("INSERT INTO noidx SELECT i, 'v' || i FROM generate_series(0, 49) i");
    await pool.query("INSERT INTO bigkeys SELECT (1::bigint << 60) + i * 1000003, i FROM generate_series(0, 299) i");
    await pool.query(`INSERT INTO "we""ird tab" SELECT i * 2, 'w' || i FROM generate_series(0, 99) i`);
    return { engine, client: pgClient(pool), text: (e) => `CAST(${e} AS text)`, close: () => pool.end() };
  }
  const path = join(dir, "test.duckdb");
  const json = join(dir, "items.json");
  await writeFile(json, JSON.stringify(rows));
  const writer = await DuckDBInstance.create(path);
  const conn = await writer.connect();
  for (const s of ddl({ int: "INTEGER", text: "VARCHAR", ts: "TIMESTAMP", big: "BIGINT" })) await conn.run(s);
  await conn.run(`INSERT INTO items SELECT id, grp, name, ts::TIMESTAMP FROM read_json('${json}', columns = {id: 'INTEGER', grp: 'INTEGER', name: 'VARCHAR', ts: 'VARCHAR'})`);
  await conn.run(`INSERT INTO small SELECT unnest([${smallRows.join(",")}]), unnest(range(${smallRows.length}))`);
  await conn.run("INSERT INTO noidx SELECT range, 'v' || range FROM range(50)");
  await conn.run("INSERT INTO bigkeys SELECT (1::BIGINT << 60) + range * 1000003, range FROM range(300)");
  await conn.run(`INSERT INTO "we""ird tab" SELECT range * 2, 'w' || range FROM range(100)`);
  await conn.run("CREATE SCHEMA s2");
  await conn.run("CREATE TABLE s2.items AS SELECT range + 1 AS id FROM range(30)");
  conn.closeSync();
  writer.closeSync();
  const client: DuckdbSqlClient = await duckdbClient(path);
  return { engine, client, text: (e) => `CAST(${e} AS VARCHAR)`, close: async () => client.close() };
}

interface Seen {
  /** Row identity -> how many ranges returned it. */
  rows: Map<string, number>;
  /** Key values (as text, "NULL" for null) per range. */
  keysPerRange: Set<string>[];
}

/** Read every range back through its predicate. */
async function readBack(db: Db, descs: SqlRangePartition[], table: string, rowId: string): Promise<Seen> {
  const rows = new Map<string, number>();
  const keysPerRange: Set<string>[] = [];
  for (const d of descs) {
    const where = rangePredicate(d);
    const tbl = d.schema ? `"${d.schema}"."${table}"` : `"${table.replace(/"/g, '""')}"`;
    const k = `"${d.key.replace(/"/g, '""')}"`;
    const got = await db.client.query(`SELECT ${db.text(rowId)} AS rid, ${db.text(k)} AS k FROM ${tbl} WHERE ${where.sql}`, where.params);
    assert.equal(got.length, d.rows, `range ${d.index} of ${table}.${d.key}: rows counted when partitioning match the rows its predicate selects`);
    keysPerRange.push(new Set(got.map((r) => (r.k === null ? "NULL" : String(r.k)))));
    for (const r of got) rows.set(String(r.rid), (rows.get(String(r.rid)) ?? 0) + 1);
  }
  return { rows, keysPerRange };
}

async function allRowIds(db: Db, table: string, rowId: string, schema?: string): Promise<string[]> {
  const tbl = schema ? `"${schema}"."${table}"` : `"${table.replace(/"/g, '""')}"`;
  return (await db.client.query(`SELECT ${db.text(rowId)} AS rid FROM ${tbl}`)).map((r) => String(r.rid));
}

/** Ranges are ordered, chained (each lo is the previous hi), open at both ends, and indexed. */
function assertChained(descs: SqlRangePartition[], engine: SqlEngine, table: string, key: string): void {
  assert.ok(descs.length >= 1);
  assert.equal(descs[0]!.lo, null);
  assert.equal(descs.at(-1)!.hi, null);
  descs.forEach((d, i) => {
    assert.equal(d.format, "sql-range");
    assert.equal(d.engine, engine);
    assert.equal(d.table, table);
    assert.equal(d.key, key);
    assert.equal(d.index, i);
    assert.equal(d.of, descs.length);
    if (i > 0) assert.deepEqual(d.lo, descs[i - 1]!.hi);
  });
}

/** Every row exactly once, no key value in two ranges, ranges at most the target unless one key fills them. */
async function assertPartitionsTable(db: Db, opts: Omit<PartitionTableOptions, "client">, rowId: string): Promise<SqlRangePartition[]> {
  const descs = await partitionTable({ client: db.client, ...opts });
  assertChained(descs, db.engine, opts.table, opts.key);
  const seen = await readBack(db, descs, opts.table, rowId);
  const all = await allRowIds(db, opts.table, rowId, opts.schema);
  assert.equal(seen.rows.size, all.length, `${opts.table}.${opts.key} target ${opts.targetRows}: every row in some range`);
  for (const id of all) assert.equal(seen.rows.get(id), 1, `row ${id} is in exactly one range`);
  const owner = new Map<string, number>();
  seen.keysPerRange.forEach((keys, i) => {
    for (const k of keys) {
      if (k === "NULL") assert.equal(i, 0, "NULL keys go to the first range");
      assert.ok(!owner.has(k), `key ${k} appears in ranges ${owner.get(k)} and ${i}: equal keys must not be split`);
      owner.set(k, i);
    }
    const d = descs[i]!;
    const nonNull = [...keys].filter((x) => x !== "NULL");
    if (opts.targetRows !== undefined && d.rows > opts.targetRows) {
      assert.equal(nonNull.length, 1, `range ${i} exceeds the target (${d.rows} rows) only because one key repeats: keys ${nonNull.slice(0, 5).join(", ")}`);
    }
  });
  return descs;
}

const rejects = rejectsUsage;

for (const engine of ["sqlite", "postgres", "duckdb"] as const) {
  describe(`partitionTable on ${engine}`, () => {
    let dir: string;
    let db: Db;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `sluice-sqlrange-${engine}-`));
      db = await setup(engine, dir);
    });
    after(async () => {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });

    it("splits an integer primary key into ranges holding every row exactly once", async () => {
      for (const targetRows of [1000, 777, 4999, 5000, 10 ** 9]) {
        const descs = await assertPartitionsTable(db, { table: "items", key: "id", targetRows }, "id");
        assert.equal(descs.length, Math.ceil(N / targetRows), `targetRows ${targetRows}`);
        for (const d of descs.slice(0, -1)) assert.equal(d.rows, targetRows, "unique keys give exactly targetRows per range");
        if (descs.length > 1) assert.equal(typeof descs[1]!.lo, "number", "integer keys are JSON numbers");
      }
    });

    it("never splits a run of equal keys, and puts NULL keys in the first range", async () => {
      const descs = await assertPartitionsTable(db, { table: "items", key: "grp", targetRows: 500 }, "id");
      const nulls = items().filter((r) => r.grp === null).length;
      assert.ok(nulls > 0);
      const sevens = items().filter((r) => r.grp === 7).length;
      // The first range is the run of 7s (bigger than the target) plus the NULLs.
      assert.equal(descs[0]!.rows, sevens + nulls);
      assert.equal(descs[0]!.hi, 8);
      for (const targetRows of [1, 300, 301, 2600]) await assertPartitionsTable(db, { table: "items", key: "grp", targetRows }, "id");
    });

    it("handles runs of duplicates at every position with targetRows 1 and 2", async () => {
      for (const targetRows of [1, 2, 3]) {
        const descs = await assertPartitionsTable(db, { table: "small", key: "k", targetRows }, "v");
        if (targetRows === 1) assert.deepEqual(descs.map((d) => d.rows), [3, 1, 2, 1, 4, 1, 1, 2, 1, 3, 1]);
      }
    });

    it("splits on a text key (quotes, unicode, empty strings) and on a timestamp key", async () => {
      const byName = await assertPartitionsTable(db, { table: "items", key: "name", targetRows: 600 }, "id");
      assert.ok(byName.length >= 8);
      assert.equal(typeof byName[1]!.lo, "string");
      const byTs = await assertPartitionsTable(db, { table: "items", key: "ts", targetRows: 999 }, "id");
      assert.equal(byTs.length, 6);
      assert.match(String(byTs[1]!.lo), /^2024-01-\d\d \d\d:\d\d:\d\d\.\d{6}$/, "timestamps keep their microseconds (the database's text form)");
    });

    it("keeps 64-bit keys beyond 2^53 exact, as strings", async () => {
      const descs = await assertPartitionsTable(db, { table: "bigkeys", key: "k", targetRows: 70 }, "v");
      assert.equal(descs.length, 5);
      assert.equal(descs[1]!.lo, String((1n << 60n) + 70n * 1_000_003n));
    });

    it("quotes identifiers: a table and a key with quotes and spaces", async () => {
      const descs = await assertPartitionsTable(db, { table: 'we"ird tab', key: "Key Col", targetRows: 30 }, '"Key Col"');
      assert.equal(descs.length, 4);
      assert.deepEqual(descs.map((d) => d.rows), [30, 30, 30, 10]);
    });

    it("reads a table in another schema", async () => {
      const schema = engine === "sqlite" ? "main" : "s2";
      const table = engine === "sqlite" ? "small" : "items";
      const key = engine === "sqlite" ? "k" : "id";
      const descs = await assertPartitionsTable(db, { schema, table, key, targetRows: 7 }, engine === "sqlite" ? "v" : "id");
      assert.equal(descs[0]!.schema, schema);
      if (engine !== "sqlite") assert.deepEqual(descs.map((d) => d.rows), [7, 7, 7, 7, 2]);
    });

    it("gives [] for an empty table", async () => {
      assert.deepEqual(await partitionTable({ client: db.client, table: "empty_t", key: "id", targetRows: 10 }), []);
    });

    it("records where the table lives, without credentials", async () => {
      const [d] = await partitionTable({ client: db.client, table: "items", key: "id", targetRows: 10 ** 9 });
      if (engine === "postgres") assert.equal(d!.database, undefined);
      else assert.equal(d!.database, join(dir, engine === "sqlite" ? "test.sqlite" : "test.duckdb"));
      assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
    });

    it("rejects a missing table or column, and an unindexed key, naming the fix", async () => {
      await rejects(partitionTable({ client: db.client, table: "nope", key: "id" }), /table "nope" does not exist in the \w+ database.*check the name/);
      // PostgreSQL folds only unquoted names; a quoted "ITEMS" is another table (SQLite and DuckDB ignore case).
      if (engine === "postgres") await rejects(partitionTable({ client: db.client, table: "ITEMS", key: "id" }), /table "ITEMS" does not exist/);
      await rejects(partitionTable({ client: db.client, table: "items", key: "nope" }), /table "items" has no column "nope" \(columns: id, grp, name, ts\); pass one of them as key/);
      if (engine === "duckdb") {
        // Columnar: no index needed, each step scans the key column.
        await assertPartitionsTable(db, { table: "noidx", key: "id", targetRows: 20 }, "id");
      } else {
        await rejects(partitionTable({ client: db.client, table: "noidx", key: "id", targetRows: 20 }), /no index starts with column "id" of table "noidx".*CREATE INDEX ON "noidx" \("id"\).*requireIndex: false/);
        await assertPartitionsTable(db, { table: "noidx", key: "id", targetRows: 20, requireIndex: false }, "id");
      }
      if (engine === "postgres") {
        await rejects(
          partitionTable({ client: db.client, table: "jsonkeys", key: "j", requireIndex: false }),
          /reading key "j" of table "jsonkeys" failed: could not identify an ordering operator for type json.*must be a column whose values can be ordered/,
        );
      }
      await rejects(partitionTable({ client: db.client, table: "items", key: "id", targetRows: 0 }), /invalid options: targetRows/);
      await rejects(partitionTable({ client: db.client, table: "", key: "id" }), /invalid options: table: table is empty/);
      await rejects(partitionTable({ client: { query: async () => [] } as never, table: "items", key: "id" }), /client must be an adapter: pgClient\(pool\), sqliteClient\(db\)/);
    });
  });
}

describe("duckdbClient over an open connection", () => {
  it("partitions a table of the connection's database file and records the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-sqlrange-conn-"));
    const path = join(dir, "conn.duckdb");
    const inst = await DuckDBInstance.create(path);
    const conn = await inst.connect();
    try {
      await conn.run("CREATE TABLE t AS SELECT range AS id FROM range(100)");
      const client = await duckdbClient(conn);
      const descs = await partitionTable({ client, table: "t", key: "id", targetRows: 40 });
      assert.deepEqual(descs.map((d) => [d.lo, d.hi, d.rows]), [[null, 40, 40], [40, 80, 40], [80, null, 20]]);
      assert.equal(descs[0]!.database, path);
      client.close(); // a no-op for a connection we passed in
      assert.equal((await conn.runAndReadAll("SELECT count(*) FROM t")).getRowsJS()[0]![0], 100n);
    } finally {
      conn.closeSync();
      inst.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("rangePredicate", () => {
  const base = { format: "sql-range" as const, table: "t", key: "id", rows: 1, of: 3 };
  const first: SqlRangePartition = { ...base, engine: "postgres", lo: null, hi: 10, index: 0 };
  const middle: SqlRangePartition = { ...base, engine: "postgres", lo: 10, hi: "it's", index: 1 };
  const last: SqlRangePartition = { ...base, engine: "sqlite", lo: 20, hi: null, index: 2 };

  it("writes placeholders for each dialect, the first range taking NULL keys", () => {
    assert.deepEqual(rangePredicate(first), { sql: `("id" < $1 OR "id" IS NULL)`, params: [10] });
    assert.deepEqual(rangePredicate(middle), { sql: `"id" >= $1 AND "id" < $2`, params: [10, "it's"] });
    assert.deepEqual(rangePredicate(middle, "postgres", { firstParam: 3 }), { sql: `"id" >= $3 AND "id" < $4`, params: [10, "it's"] });
    assert.deepEqual(rangePredicate(middle, "sqlite"), { sql: `"id" >= ? AND "id" < ?`, params: [10, "it's"] });
    assert.deepEqual(rangePredicate(last), { sql: `"id" >= ?`, params: [20] });
    assert.deepEqual(rangePredicate({ ...first, hi: null, of: 1 }), { sql: "TRUE", params: [] });
  });

  it("inlines literals and qualifies the column on request", () => {
    assert.deepEqual(rangePredicate(middle, "duckdb", { inline: true, tableAlias: "s" }), { sql: `"s"."id" >= 10 AND "s"."id" < 'it''s'`, params: [] });
    assert.deepEqual(rangePredicate({ ...middle, key: 'we"ird' }, "duckdb"), { sql: `"we""ird" >= ? AND "we""ird" < ?`, params: [10, "it's"] });
  });

  it("rejects what is not a SQL range", () => {
    assert.throws(() => rangePredicate({ format: "csv" } as never), /rangePredicate\(\): expected a "sql-range" descriptor from partitionTable\(\), got format "csv"/);
    assert.throws(() => rangePredicate(first, "oracle" as never), /unknown dialect "oracle"/);
  });
});
