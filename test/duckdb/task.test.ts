/**
 * The DuckDB task runtime through runDuckdbTask: Parquet output written
 * atomically with its row count and schema, rows returned as JSON-safe
 * values and bounded by tasks.maxResultBytes, setup statements, per-run SQL /
 * sources / output computed from the context and inputs, a mapped item read
 * as `input`, and SQL errors failing the attempt without retries.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { partition } from "../../src/data/partition.js";
import { duckdb, people, writePeople } from "./fixtures.js";
import { failure, ok, runDuckdbAttempt } from "./harness.js";

let dir: string;
const rows = people(2000, 7);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-duckdb-task-"));
  await writePeople(dir, rows);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("DuckDB task: Parquet output", () => {
  it("writes the result to Parquet and records rows, schema, size and time", async () => {
    const out = join(dir, "out", "nested", "by_bucket.parquet");
    const r = await runDuckdbAttempt(
      (d) =>
        void d.duckdb("agg", {
          sql: "SELECT (id % 10)::INTEGER AS bucket, count(*) AS n, avg(score) AS mean, list(id ORDER BY id)[1] AS first_id FROM input GROUP BY ALL",
          sources: { input: "people.csv" },
          output: out,
        }),
      "agg",
      { dagDir: dir },
    );
    const res = ok(r);
    assert.equal(res.rows, 10);
    assert.deepEqual(res.schema, [
      { name: "bucket", type: "INTEGER" },
      { name: "n", type: "BIGINT" },
      { name: "mean", type: "DOUBLE" },
      { name: "first_id", type: "BIGINT" },
    ]);
    assert.equal(res.output!.path, out);
    assert.equal(res.output!.bytes, (await stat(out)).size);
    assert.ok(res.elapsedMs >= 0 && res.elapsedMs < 60_000);
    assert.equal(res.data, undefined, "rows written to a file are not also returned");
    const back = await duckdb(`SELECT bucket, n, first_id FROM read_parquet('${out}') ORDER BY bucket`);
    assert.deepEqual(back, Array.from({ length: 10 }, (_, b) => [b, 200n, BigInt(b)]));
    assert.ok(r.logs.some((l) => /^INFO DuckDB: 10 rows written to .*by_bucket\.parquet \(0\.0 MiB\) in \d+ ms$/.test(l)), r.logs.join("\n"));
    assert.deepEqual(await readdir(join(dir, "out", "nested")), ["by_bucket.parquet"], "no temporary file left beside the output");
    // The scratch folder held DuckDB's spill folder, and is removed after the attempt by the services.
    assert.ok(r.scratchLeft.includes("duckdb-tmp"));
  });

  it("accepts a file:// URI and a path relative to the DAG folder, and replaces an earlier output", async () => {
    const uri = pathToFileURL(join(dir, "uri out.parquet")).href;
    const first = ok(await runDuckdbAttempt((d) => void d.duckdb("u", { sql: "SELECT 1 AS one", output: uri }), "u"));
    assert.equal(first.output!.path, join(dir, "uri out.parquet"));
    const rel = ok(await runDuckdbAttempt((d) => void d.duckdb("r", { sql: "SELECT range AS i FROM range(5)", output: "rel/five.parquet" }), "r", { dagDir: dir }));
    assert.equal(rel.output!.path, join(dir, "rel", "five.parquet"));
    assert.equal(rel.rows, 5);
    const again = ok(await runDuckdbAttempt((d) => void d.duckdb("r", { sql: "SELECT range AS i FROM range(7)", output: "rel/five.parquet" }), "r", { dagDir: dir }));
    assert.equal(again.rows, 7);
    assert.deepEqual(await duckdb(`SELECT count(*) FROM '${join(dir, "rel", "five.parquet")}'`), [[7n]]);
  });

  it("leaves no partial file when the query fails while writing, and keeps the previous output", async () => {
    const out = join(dir, "atomic", "result.parquet");
    await mkdir(join(dir, "atomic"));
    await writeFile(out, "previous output");
    // error() raises only when a row reaches it: the COPY has been writing for a while by then.
    const r = await runDuckdbAttempt(
      (d) =>
        void d.duckdb("boom", {
          sql: "SELECT CASE WHEN range = 900000 THEN error('boom at row 900000') ELSE range END AS v, md5(range::VARCHAR) AS s FROM range(1000000)",
          output: out,
        }),
      "boom",
    );
    const f = failure(r);
    assert.match(f.error, /^DuckDB task "boom": Invalid Input Error: boom at row 900000/);
    assert.equal(f.retryable, false);
    assert.equal(await readFile(out, "utf8"), "previous output");
    assert.deepEqual(await readdir(join(dir, "atomic")), ["result.parquet"]);
  });

  it("refuses an output that is not a local file", async () => {
    const f = failure(await runDuckdbAttempt((d) => void d.duckdb("s3", { sql: "SELECT 1", output: "s3://bucket/x.parquet" }), "s3"));
    assert.match(f.error, /output "s3:\/\/bucket\/x\.parquet" is not a local path; DuckDB tasks write Parquet to the local file system/);
    assert.equal(f.retryable, false);
  });
});

describe("DuckDB task: rows as the result", () => {
  it("returns rows as JSON-safe values: exact integers as numbers, big ones as strings, timestamps in ISO", async () => {
    const sql = `SELECT 42::BIGINT AS big, 9007199254740993::BIGINT AS huge, 12.25::DECIMAL(6,2) AS dec, 123456789012345678.5::DECIMAL(30,1) AS widedec,
      DATE '2024-02-29' AS d, TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS tstz,
      [1, 2]::BIGINT[] AS xs, {'a': 1::BIGINT, 'b': 'x'} AS st, NULL AS nothing, 'inf'::DOUBLE AS inf, true AS yes`;
    const r = ok(await runDuckdbAttempt((d) => void d.duckdb("types", { sql }), "types"));
    assert.deepEqual(r.data, [
      {
        big: 42,
        huge: "9007199254740993",
        dec: 12.25,
        widedec: "123456789012345678.5",
        d: "2024-02-29",
        ts: "2024-01-02T03:04:05.123456Z",
        tstz: "2024-01-02T01:04:05.000Z",
        xs: [1, 2],
        st: { a: 1, b: "x" },
        nothing: null,
        inf: "Infinity",
        yes: true,
      },
    ]);
    assert.deepEqual(
      r.schema.map((c) => c.type),
      ["BIGINT", "BIGINT", "DECIMAL(6,2)", "DECIMAL(30,1)", "DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "BIGINT[]", 'STRUCT("a" BIGINT, "b" VARCHAR)', "INTEGER", "DOUBLE", "BOOLEAN"],
    );
  });

  it("keeps the query's order, and names duplicate columns apart", async () => {
    const r = ok(await runDuckdbAttempt((d) => void d.duckdb("o", { sql: "SELECT id, id FROM input ORDER BY id DESC LIMIT 3", sources: { input: "people.parquet" } }), "o", { dagDir: dir }));
    assert.deepEqual(r.data, [
      { id: 1999, "id:1": 1999 },
      { id: 1998, "id:1": 1998 },
      { id: 1997, "id:1": 1997 },
    ]);
  });

  it("fails a result bigger than tasks.maxResultBytes, saying to write an output file", async () => {
    const r = await runDuckdbAttempt((d) => void d.duckdb("big", { sql: "SELECT * FROM input", sources: { input: "people.jsonl" } }), "big", { dagDir: dir, maxResultBytes: 20_000 });
    const f = failure(r);
    assert.match(f.error, /^DuckDB task "big": the query's rows exceed 20 KiB of JSON \(tasks\.maxResultBytes\) after \d+ rows; write them to a Parquet file with output:/);
    assert.equal(f.retryable, false);
    // Just under the limit passes.
    const small = ok(await runDuckdbAttempt((d) => void d.duckdb("big", { sql: "SELECT id FROM input ORDER BY id LIMIT 100", sources: { input: "people.jsonl" } }), "big", { dagDir: dir, maxResultBytes: 20_000 }));
    assert.equal(small.rows, 100);
  });
});

describe("DuckDB task: SQL and per-run code", () => {
  it("runs setup statements before the query, with semicolons in strings and comments", async () => {
    const sql = `
      -- a comment; with a semicolon
      CREATE TEMP TABLE t AS SELECT * FROM input WHERE note LIKE '%;%' OR id < 10;
      CREATE MACRO twice(x) AS x * 2; /* block; comment */
      SELECT count(*) AS n, max(twice(id)) AS m, 'a;b' AS s FROM t -- trailing comment
    `;
    const out = join(dir, "setup.parquet");
    const r = ok(await runDuckdbAttempt((d) => void d.duckdb("setup", { sql, sources: { input: "people.csv" }, output: out }), "setup", { dagDir: dir }));
    assert.equal(r.rows, 1);
    assert.deepEqual(await duckdb(`SELECT n, m, s FROM '${out}'`), [[10n, 18n, "a;b"]]);
    const noOut = ok(await runDuckdbAttempt((d) => void d.duckdb("setup", { sql, sources: { input: "people.csv" } }), "setup", { dagDir: dir }));
    assert.deepEqual(noOut.data, [{ n: 10, m: 18, s: "a;b" }]);
  });

  it("computes sql, sources and output per run from the context and upstream inputs", async () => {
    const r = await runDuckdbAttempt(
      (d) => {
        const files = d.task("files", async () => ({ file: "people.parquet", limit: 3 }));
        d.duckdb("per_run", {
          inputs: { files },
          sql: (ctx, { files }) => `SELECT '${ctx.runId}' AS run, count(*) AS n FROM (SELECT * FROM src LIMIT ${files.limit})`,
          sources: (_ctx, { files }) => ({ src: files.file }),
          output: (ctx) => `runs/${ctx.taskId}.parquet`,
        });
      },
      "per_run",
      { dagDir: dir, upstreamResults: { files: { file: "people.parquet", limit: 3 } } },
    );
    const res = ok(r);
    assert.equal(res.output!.path, join(dir, "runs", "per_run.parquet"));
    assert.deepEqual(await duckdb(`SELECT run, n FROM '${res.output!.path}'`), [["manual__1", 3n]]);
  });

  it("a mapped instance reads its item as the view `input` unless sources are given", async () => {
    const descs = await partition(join(dir, "people.csv"), { targetBytes: 20_000 });
    const r = ok(await runDuckdbAttempt((d) => void d.duckdb("m", { sql: "SELECT count(*) AS n FROM input" }), "m", { item: descs[1] }));
    assert.equal(r.data![0]!.n, descs[1]!.format === "csv" ? descs[1]!.estimatedRows : -1);
    const explicit = ok(
      await runDuckdbAttempt((d) => void d.duckdb("m", { sql: "SELECT count(*) AS n FROM part", sources: (_c: unknown, i: { item: unknown }) => ({ part: i.item }) } as never), "m", {
        item: descs[0],
      }),
    );
    assert.equal(explicit.data![0]!.n, descs[0]!.format === "csv" ? descs[0]!.estimatedRows : -1);
    const bad = failure(await runDuckdbAttempt((d) => void d.duckdb("m", { sql: "SELECT * FROM input" }), "m", { item: { rows: 3 } }));
    assert.match(bad.error, /source "input": \{"rows":3\} is not a source/);
  });

  it("fails on SQL errors without retrying, with DuckDB's message and the task id", async () => {
    const cases: [string, RegExp][] = [
      ["SELEC 1", /^DuckDB task "bad": Parser Error: syntax error at or near "SELEC"/],
      ["SELECT * FROM nope", /^DuckDB task "bad": Catalog Error: Table with name nope does not exist/],
      ["SELECT no_such_column FROM input", /^DuckDB task "bad": Binder Error: Referenced column "no_such_column" not found/],
      ["SELECT 'x'::INTEGER", /^DuckDB task "bad": Conversion Error: Could not convert string 'x' to INT32/],
      ["   ;  -- nothing", /^DuckDB task "bad": the SQL has no statement/],
    ];
    for (const [sql, pattern] of cases) {
      const f = failure(await runDuckdbAttempt((d) => void d.duckdb("bad", { sql, sources: { input: "people.csv" } }), "bad", { dagDir: dir }));
      assert.match(f.error, pattern);
      assert.equal(f.retryable, false, sql);
    }
    // With an output, the last statement must be a query: the error says so.
    const f = failure(await runDuckdbAttempt((d) => void d.duckdb("bad", { sql: "CREATE TABLE x (a INT)", output: join(dir, "never.parquet") }), "bad"));
    assert.match(f.error, /Parser Error.*\n\(With output, the last statement is written with COPY \(<statement>\) TO \.\.\., so it must be a query/s);
    await assert.rejects(stat(join(dir, "never.parquet")), { code: "ENOENT" });
  });
});
