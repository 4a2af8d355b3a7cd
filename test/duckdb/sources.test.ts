/**
 * DuckDB task sources of every kind, run through runDuckdbTask with a real
 * DuckDB: files by extension (relative, absolute, file://, compressed),
 * globs, lists, directories, and partition descriptors (CSV and JSON Lines
 * byte ranges, Parquet row groups, key ranges of a DuckDB database file),
 * each checked against the data the test wrote.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { partition, type PartitionDescriptor } from "../../src/data/partition.js";
import { duckdbClient } from "../../src/data/sqlClients.js";
import { partitionTable } from "../../src/data/sqlRange.js";
import { csvText, duckdb, jsonlText, people, writePeople, type Person } from "./fixtures.js";
import { failure, ok, runDuckdbAttempt } from "./harness.js";

const N = 3000;
const rows = people(N);
const BIG = 16 * 1024 * 1024;
/** Types fixed in the SQL, so every slice of a file reads the same. */
const NORMAL = "SELECT id::BIGINT AS id, name::VARCHAR AS name, note::VARCHAR AS note, score::DOUBLE AS score FROM input ORDER BY id";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-duckdb-sources-"));
  await writePeople(dir, rows);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run `sql` with these sources in a plain (unmapped) task. */
async function query(sources: Record<string, unknown>, sql: string, dagDir = dir) {
  return runDuckdbAttempt((d) => void d.duckdb("q", { sql, sources: sources as never }), "q", { dagDir, maxResultBytes: BIG });
}

/** The rows of `input` in a mapped instance over one partition. */
async function readSlice(desc: PartitionDescriptor, sql = NORMAL): Promise<Record<string, unknown>[]> {
  const r = ok(await runDuckdbAttempt((d) => void d.duckdb("slice", { sql }), "slice", { item: desc, maxResultBytes: BIG, dagDir: dir }));
  return r.data!;
}

describe("DuckDB sources: files", () => {
  it("reads each format by its extension, as views named after the sources", async () => {
    const sources = {
      csv: "people.csv",
      crlf: join(dir, "people-crlf.csv"),
      tsv: pathToFileURL(join(dir, "people.tsv")).href,
      jsonl: "people.jsonl",
      ndjson: "./people.ndjson",
      json: "people.json",
      parquet: "people.parquet",
      gz: "people.csv.gz",
    };
    const names = Object.keys(sources);
    const sql = names.map((n) => `SELECT '${n}' AS src, count(*) AS n, sum(id) AS ids, sum(score) AS scores, max(length(name)) AS len FROM ${n}`).join(" UNION ALL ") + " ORDER BY src";
    const r = ok(await query(sources, sql));
    const expect = { n: N, ids: (N * (N - 1)) / 2, scores: rows.reduce((s, p) => s + p.score, 0), len: Math.max(...rows.map((p) => p.name.length)) };
    assert.equal(r.rows, names.length);
    for (const row of r.data!) {
      assert.equal(row.n, expect.n, `${row.src}: rows`);
      assert.equal(row.ids, expect.ids, `${row.src}: ids`);
      assert.ok(Math.abs((row.scores as number) - expect.scores) < 1e-6, `${row.src}: scores`);
      assert.equal(row.len, expect.len, `${row.src}: quoted newlines and commas stay inside fields`);
    }
  });

  it("reads the exact records of a CSV with quoted newlines, quotes and commas", async () => {
    const r = ok(await query({ input: "people.csv" }, NORMAL));
    assert.deepEqual(r.data, rows);
    assert.deepEqual(r.schema, [
      { name: "id", type: "BIGINT" },
      { name: "name", type: "VARCHAR" },
      { name: "note", type: "VARCHAR" },
      { name: "score", type: "DOUBLE" },
    ]);
  });

  it("reads globs, lists and directories of files as one source", async () => {
    const parts = join(dir, "parts");
    await mkdir(parts);
    for (let i = 0; i < 3; i++) {
      await duckdb(`COPY (SELECT * FROM read_parquet('${join(dir, "people.parquet")}') WHERE id % 3 = ${i}) TO '${join(parts, `p${i}.parquet`)}' (FORMAT parquet)`);
    }
    await writeFile(join(parts, "notes.txt"), "ignored: not a known extension");
    const sources = {
      glob: "parts/*.parquet",
      deep: `${dir}/**/p?.parquet`,
      list: [0, 1, 2].map((i) => join(parts, `p${i}.parquet`)),
      dir: "parts",
    };
    const sql = Object.keys(sources).map((n) => `SELECT '${n}' AS src, count(*) AS n, sum(id) AS ids FROM "${n}"`).join(" UNION ALL ");
    const r = ok(await query(sources, sql));
    for (const row of r.data!) assert.deepEqual([row.src, row.n, row.ids], [row.src, N, (N * (N - 1)) / 2]);
  });

  it("refuses what it can't read, naming the source and the fix", async () => {
    await writeFile(join(dir, "data.xml"), "<a/>");
    const mixed = join(dir, "mixed");
    await mkdir(mixed);
    await writeFile(join(mixed, "a.csv"), "x\n1\n");
    await writeFile(join(mixed, "b.jsonl"), '{"x":1}\n');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ input: "data.xml" }, /source "input": can't tell the format of ".*data\.xml" from its extension; DuckDB tasks read \.csv, \.tsv, \.jsonl, \.ndjson, \.json, \.parquet/],
      [{ input: "missing.csv" }, /source "input": ".*missing\.csv" does not exist \(relative paths resolve against the DAG's folder/],
      [{ input: ["people.csv", "people.parquet"] }, /source "input": mixes formats \(csv and parquet\); a source is one format/],
      [{ input: [] }, /source "input": the list of files is empty/],
      [{ input: mixed }, /directory ".*mixed" mixes formats \(csv, jsonl\); use a glob that picks one/],
      [{ input: 42 }, /source "input": 42 is not a source; give a path, glob, file:\/\/ URI, a list of them, or a partition descriptor/],
      [{ input: { format: "csv", path: "x.csv" } }, /source "input": is not a valid partition descriptor \(.*start.*\); pass a descriptor from partition\(\) or partitionTable\(\) unchanged/],
      [{ input: "nothing-*.parquet" }, /source "input": IO Error: No files found that match the pattern/],
      [{ input: "file://not a uri" }, /source "input": "file:\/\/not a uri" is not a valid file:\/\/ URI/],
    ];
    for (const [sources, pattern] of cases) {
      const f = failure(await query(sources, "SELECT * FROM input"));
      assert.match(f.error, /^DuckDB task "q", /);
      assert.match(f.error, pattern);
      assert.equal(f.retryable, false, "a bad source fails the same way on every try");
    }
  });
});

describe("DuckDB sources: partitions", () => {
  it("a CSV partition gives exactly its records: the partitions together equal the whole file", async () => {
    const whole = ok(await query({ input: "people.csv" }, NORMAL)).data!;
    assert.deepEqual(whole, rows);
    for (const file of ["people.csv", "people-crlf.csv", "people.tsv"]) {
      for (const targetBytes of [20_000, 45_000]) {
        const descs = await partition(join(dir, file), { targetBytes });
        assert.ok(descs.length >= 3, `${file}: ${descs.length} partitions`);
        const got = [];
        for (const d of descs) {
          const slice = await readSlice(d);
          assert.equal(slice.length, d.format === "csv" ? d.estimatedRows : -1, `${file} partition ${d.index}: exactly its records`);
          got.push(...slice);
        }
        assert.deepEqual(got, whole, `${file} targetBytes ${targetBytes}`);
      }
    }
  });

  it("reads a headerless CSV partition with the file's delimiter and quote", async () => {
    const path = join(dir, "semi.csv");
    await writeFile(path, csvText(rows.slice(0, 500), { delimiter: ";", header: false }).replace(/"/g, "'"));
    const descs = await partition(path, { header: false, delimiter: ";", quote: "'", targetBytes: 8000 });
    assert.ok(descs.length >= 3);
    const got = [];
    for (const d of descs) got.push(...(await readSlice(d, "SELECT column0::BIGINT AS id, column1 AS name FROM input ORDER BY id")));
    assert.deepEqual(got, rows.slice(0, 500).map((p) => ({ id: p.id, name: p.name.replace(/"/g, "'") })));
  });

  it("a JSON Lines partition gives exactly its records", async () => {
    const descs = await partition(join(dir, "people.jsonl"), { targetBytes: 30_000 });
    assert.ok(descs.length >= 5);
    const got = [];
    for (const d of descs) got.push(...(await readSlice(d)));
    assert.deepEqual(got, rows);
  });

  it("an empty partition has the file's columns and no rows", async () => {
    await writeFile(join(dir, "only-header.csv"), "id,name,note,score\n");
    await writeFile(join(dir, "empty.jsonl"), "");
    const [csv] = await partition(join(dir, "only-header.csv"));
    const r = ok(await runDuckdbAttempt((d) => void d.duckdb("e", { sql: "SELECT * FROM input" }), "e", { item: csv }));
    assert.equal(r.rows, 0);
    assert.deepEqual(r.schema.map((c) => c.name), ["id", "name", "note", "score"]);
    const [jsonl] = await partition(join(dir, "empty.jsonl"));
    assert.equal(ok(await runDuckdbAttempt((d) => void d.duckdb("e", { sql: "SELECT count(*) AS n FROM input" }), "e", { item: jsonl })).data![0]!.n, 0);
  });

  it("a Parquet partition reads only its row groups", async () => {
    // DuckDB writes row groups of at least 2,048 rows: 10,000 rows give five.
    const many = people(10_000, 2);
    const path = join(dir, "many.parquet");
    await writeFile(join(dir, "many.json"), JSON.stringify(many));
    await duckdb(`COPY (SELECT * FROM read_json('${join(dir, "many.json")}') ORDER BY id) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
    const descs = await partition(path, { targetRows: 4096 });
    assert.equal(descs.length, 3);
    const got: Person[] = [];
    for (const d of descs) {
      assert.equal(d.format, "parquet");
      const slice = (await readSlice(d)) as unknown as Person[];
      if (d.format === "parquet") {
        assert.equal(slice.length, d.rows);
        // Written in id order, so file row numbers are ids.
        assert.equal(slice[0]!.id, d.rowStart);
        assert.equal(slice.at(-1)!.id, d.rowEnd - 1);
      }
      got.push(...slice);
    }
    assert.deepEqual(got, many);
  });

  it("a key range of a DuckDB database file reads its rows from the attached file, read-only", async () => {
    const db = join(dir, "people.duckdb");
    await duckdb([`CREATE TABLE people AS SELECT * FROM read_parquet('${join(dir, "people.parquet")}')`], db);
    const client = await duckdbClient(db);
    const descs = await partitionTable({ client, table: "people", key: "id", targetRows: 1000 });
    client.close();
    assert.equal(descs.length, 3);
    const got = [];
    for (const d of descs) {
      const slice = await readSlice(d);
      assert.equal(slice.length, d.rows);
      got.push(...slice);
    }
    assert.deepEqual(got, rows);
    // Two ranges of the same file in one task: attached once, each view its own range.
    const both = ok(await query({ a: descs[0], b: descs[2] }, "SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b, (SELECT max(id) FROM a) AS amax"));
    assert.deepEqual(both.data, [{ a: 1000, b: 1000, amax: 999 }]);
    const writes = failure(await query({ input: descs[0] }, "INSERT INTO sluice_src_1.people SELECT * FROM input"));
    assert.match(writes.error, /read-only/i);
  });

  it("refuses a PostgreSQL or SQLite key range, and a descriptor whose file changed, saying what to do", async () => {
    const pgRange = { format: "sql-range", engine: "postgres", table: "t", key: "id", lo: null, hi: 10, rows: 10, index: 0, of: 2 };
    assert.match(failure(await query({ input: pgRange }, "SELECT * FROM input")).error, /a postgres key range can't be read by a DuckDB task here.*rangePredicate\(item, "postgres"\)/);
    const path = join(dir, "shrinks.jsonl");
    await writeFile(path, jsonlText(rows));
    const descs = await partition(path, { targetBytes: 100_000 });
    await writeFile(path, jsonlText(rows.slice(0, 10)));
    const last = descs.at(-1)!;
    assert.match(failure(await runDuckdbAttempt((d) => void d.duckdb("s", { sql: "SELECT * FROM input" }), "s", { item: last })).error, /shrinks\.jsonl" is shorter than partition \d+\/\d+.*partition it again/);
    const csvPath = join(dir, "rewritten.csv");
    await writeFile(csvPath, csvText(rows));
    const [first] = await partition(csvPath, { targetBytes: 10_000 });
    await writeFile(csvPath, csvText(rows).replace("id,name", "ID,NAME"));
    assert.match(failure(await runDuckdbAttempt((d) => void d.duckdb("s", { sql: "SELECT * FROM input" }), "s", { item: first })).error, /no longer starts with the header it had when it was partitioned/);
  });
});
