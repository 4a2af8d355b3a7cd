import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { rejectsUsage } from "../helpers/usageError.js";
import { partition, type ParquetPartition, type PartitionDescriptor } from "../../src/data/partition.js";

let dir: string;
let instance: DuckDBInstance;
let conn: DuckDBConnection;

async function sql(text: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(text)).getRowsJS();
}

/** Write `rows` rows (id 0..rows-1 plus a text column) with row groups of about `groupRows` rows. */
async function writeParquet(path: string, rows: number, groupRows: number, firstId = 0): Promise<void> {
  await sql(
    `COPY (SELECT (range + ${firstId})::BIGINT AS id, md5(range::VARCHAR) AS s, range % 7 AS g FROM range(${rows}))
       TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE ${groupRows})`,
  );
}

interface Group {
  rows: number;
  bytes: number;
}

/** The row groups as the file's footer states them (the truth the partitions must match). */
async function groupsOf(path: string): Promise<Group[]> {
  const r = await sql(
    `SELECT row_group_id, any_value(row_group_num_rows), sum(total_compressed_size) FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
  );
  return r.map((x) => ({ rows: Number(x[1]), bytes: Number(x[2]) }));
}

/** The ids in one partition, read the way a DuckDB task reads it (a file_row_number range). */
async function idsIn(d: ParquetPartition): Promise<number[]> {
  const r = await sql(
    `SELECT id FROM read_parquet('${d.path}', file_row_number = true) WHERE file_row_number >= ${d.rowStart} AND file_row_number < ${d.rowEnd} ORDER BY id`,
  );
  return r.map((x) => Number(x[0]));
}

function asParquet(descs: PartitionDescriptor[]): ParquetPartition[] {
  for (const d of descs) assert.equal(d.format, "parquet");
  return descs as ParquetPartition[];
}

/** Partitions of one file: consecutive row groups and row numbers, from the first to the last. */
function assertTilesFile(descs: ParquetPartition[], groups: Group[]): void {
  assert.equal(descs[0]!.rowGroups[0], 0);
  assert.equal(descs[0]!.rowStart, 0);
  assert.equal(descs.at(-1)!.rowGroups[1], groups.length - 1);
  assert.equal(descs.at(-1)!.rowEnd, groups.reduce((n, g) => n + g.rows, 0));
  for (let i = 0; i < descs.length; i++) {
    const d = descs[i]!;
    assert.ok(d.rowGroups[1] >= d.rowGroups[0], `partition ${i} has no row group`);
    assert.equal(d.rows, d.rowEnd - d.rowStart);
    assert.equal(d.rows, groups.slice(d.rowGroups[0], d.rowGroups[1] + 1).reduce((n, g) => n + g.rows, 0), `partition ${i}: rows match its row groups`);
    if (i > 0) {
      assert.equal(d.rowGroups[0], descs[i - 1]!.rowGroups[1] + 1);
      assert.equal(d.rowStart, descs[i - 1]!.rowEnd);
    }
  }
}

const rejects = rejectsUsage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-parquet-"));
  instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  conn = await instance.connect();
});
after(async () => {
  conn.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

describe("partition: Parquet", () => {
  const N = 100_000;

  it("puts every row in exactly one partition, by row groups, for any targetRows", async () => {
    const path = join(dir, "rows.parquet");
    await writeParquet(path, N, 10_000);
    const groups = await groupsOf(path);
    assert.ok(groups.length >= 9, `the file has several row groups (${groups.length})`);
    const groupRows = groups[0]!.rows;
    for (const targetRows of [1, groupRows, groupRows + 1, 3 * groupRows + 5, N, 10 * N]) {
      const descs = asParquet(await partition(path, { targetRows }));
      assertTilesFile(descs, groups);
      descs.forEach((d, i) => {
        assert.equal(d.index, i);
        assert.equal(d.of, descs.length);
        assert.equal(d.path, path);
        // Up to the target, unless one row group alone is bigger.
        assert.ok(d.rows <= targetRows || d.rowGroups[0] === d.rowGroups[1], `targetRows ${targetRows}: partition ${i} has ${d.rows} rows`);
      });
      if (targetRows === 1) assert.equal(descs.length, groups.length, "one row group per partition");
      if (targetRows >= N) assert.equal(descs.length, 1);
      if (targetRows === 3 * groupRows + 5) assert.deepEqual(descs[0]!.rowGroups, [0, 2]);
      const ids = (await Promise.all(descs.map(idsIn))).flat();
      assert.equal(ids.length, N, `targetRows ${targetRows}: every row once`);
      assert.deepEqual(ids, Array.from({ length: N }, (_, i) => i), `targetRows ${targetRows}: no row twice, none missing`);
    }
  });

  it("groups row groups up to targetBytes of compressed data", async () => {
    const path = join(dir, "rows.parquet");
    const groups = await groupsOf(path);
    const total = groups.reduce((n, g) => n + g.bytes, 0);
    for (const targetBytes of [1, groups[0]!.bytes * 2 + 1, Math.ceil(total / 3), total]) {
      const descs = asParquet(await partition(path, { targetBytes }));
      assertTilesFile(descs, groups);
      for (const d of descs) {
        const bytes = groups.slice(d.rowGroups[0], d.rowGroups[1] + 1).reduce((n, g) => n + g.bytes, 0);
        assert.ok(bytes <= targetBytes || d.rowGroups[0] === d.rowGroups[1], `targetBytes ${targetBytes}: ${bytes} bytes in one partition`);
      }
      // Greedy: a partition stops only where the next row group would not fit.
      for (let i = 0; i + 1 < descs.length; i++) {
        const d = descs[i]!;
        const withNext = groups.slice(d.rowGroups[0], d.rowGroups[1] + 2).reduce((n, g) => n + g.bytes, 0);
        assert.ok(withNext > targetBytes, `targetBytes ${targetBytes}: partition ${i} could have taken the next row group`);
      }
      const ids = (await Promise.all(descs.map(idsIn))).flat();
      assert.deepEqual(ids, Array.from({ length: N }, (_, i) => i));
    }
    // The default target (64 MiB) holds this whole 100k-row file.
    assert.equal((await partition(path)).length, 1);
  });

  it("partitions a directory, a glob and a list of files in path order, with one index over all", async () => {
    const sub = join(dir, "many");
    await mkdir(sub);
    const sizes = [25_000, 3_000, 41_000];
    let first = 0;
    for (let i = 0; i < sizes.length; i++) {
      await writeParquet(join(sub, `part-${i}.parquet`), sizes[i]!, 4_000, first);
      first += sizes[i]!;
    }
    await writeFile(join(sub, "README.txt"), "not data");
    const total = first;
    const byDir = asParquet(await partition(sub, { targetRows: 10_000 }));
    const byGlob = asParquet(await partition(join(sub, "*.parquet"), { targetRows: 10_000 }));
    const byList = asParquet(await partition([0, 1, 2].map((i) => join(sub, `part-${i}.parquet`)), { targetRows: 10_000 }));
    assert.deepEqual(byGlob, byDir);
    assert.deepEqual(byList, byDir);
    byDir.forEach((d, i) => {
      assert.equal(d.index, i);
      assert.equal(d.of, byDir.length);
    });
    assert.deepEqual([...new Set(byDir.map((d) => d.path))], [0, 1, 2].map((i) => join(sub, `part-${i}.parquet`)));
    for (let f = 0; f < 3; f++) {
      const path = join(sub, `part-${f}.parquet`);
      assertTilesFile(byDir.filter((d) => d.path === path), await groupsOf(path));
    }
    const ids = (await Promise.all(byDir.map(idsIn))).flat().sort((a, b) => a - b);
    assert.deepEqual(ids, Array.from({ length: total }, (_, i) => i));
  });

  it("gives an empty file one empty partition, so every input file is represented", async () => {
    const path = join(dir, "empty.parquet");
    await sql(`COPY (SELECT 1::BIGINT AS id WHERE false) TO '${path}' (FORMAT parquet)`);
    const descs = asParquet(await partition(path));
    assert.deepEqual(descs, [{ format: "parquet", path, rowGroups: [0, -1], rowStart: 0, rowEnd: 0, rows: 0, index: 0, of: 1 }]);
  });

  it("keeps descriptors small JSON that survive a round trip", async () => {
    const descs = await partition(join(dir, "rows.parquet"), { targetRows: 20_000 });
    assert.deepEqual(JSON.parse(JSON.stringify(descs)), descs);
    assert.ok(JSON.stringify(descs[0]).length < 300);
  });

  it("rejects bad inputs with errors that name the file and the fix", async () => {
    const fake = join(dir, "fake.parquet");
    await writeFile(fake, "id,name\n1,a\n");
    await rejects(partition(fake), /"[^"]*fake\.parquet" could not be read as Parquet \(.+\)\. Check that it is a complete Parquet file/);
    const truncated = join(dir, "truncated.parquet");
    const whole = await readFile(join(dir, "rows.parquet"));
    await writeFile(truncated, whole.subarray(0, whole.length - 100));
    await rejects(partition(truncated), /truncated\.parquet" could not be read as Parquet/);
    await rejects(partition(join(dir, "missing.parquet")), /input ".*missing\.parquet" does not exist/);
    await rejects(partition(join(dir, "nothing-*.parquet")), /the glob ".*nothing-\*\.parquet" matches no file/);
    await rejects(partition(join(dir, "rows.parquet"), { targetRows: 0 }), /invalid options: targetRows/);
    await rejects(partition(join(dir, "rows.parquet"), { targetRows: 5, targetBytes: 5 }), /give targetBytes or targetRows, not both/);
    // A Parquet file with another extension is read as Parquet when told so.
    const odd = join(dir, "data.pq");
    await writeFile(odd, whole);
    await rejects(partition(odd), /can't tell the format .*"parquet" for Parquet/);
    const asPq = await partition(odd, { format: "parquet", targetRows: 50_000 });
    assert.deepEqual(
      asPq.map((d) => ({ ...d, path: "" })),
      (await partition(join(dir, "rows.parquet"), { targetRows: 50_000 })).map((d) => ({ ...d, path: "" })),
    );
  });
});
