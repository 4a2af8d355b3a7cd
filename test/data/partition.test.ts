import assert from "node:assert/strict";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { after, before, describe, it } from "node:test";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { rejectsUsage } from "../helpers/usageError.js";
import { globToRegExp } from "../../src/data/glob.js";
import { partition as partitionAny, readPartition, type FileRangePartition as PartitionDescriptor, type PartitionOptions } from "../../src/data/partition.js";

// These tests give CSV and JSON Lines inputs only, which partition() turns into byte ranges (Parquet is in parquet.test.ts).
const partition = (input: string | string[], options?: PartitionOptions) => partitionAny(input, options) as Promise<PartitionDescriptor[]>;

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ["plain", "with,comma", 'say "hi"', "two\nlines", "crlf\r\ninside", "", "ünïcödé €", "  spaced  ", '"', ",", "\n"];

function genRows(n: number, cols: number, seed: number): string[][] {
  const r = rng(seed);
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const row = [String(i)];
    for (let c = 1; c < cols; c++) row.push(PIECES[Math.floor(r() * PIECES.length)]! + (r() < 0.5 ? String(Math.floor(r() * 1000)) : ""));
    rows.push(row);
  }
  return rows;
}

/** The trusted writer: quote every field that needs it, double embedded quotes. */
function csvLine(row: string[], delimiter = ","): string {
  return row.map((f) => (/[",\n\r\t]/.test(f) || f === "" ? `"${f.replace(/"/g, '""')}"` : f)).join(delimiter);
}

function csvText(rows: string[][], opts: { header?: string[]; eol?: string; trailing?: boolean; delimiter?: string } = {}): string {
  const eol = opts.eol ?? "\n";
  const lines = (opts.header ? [opts.header, ...rows] : rows).map((r) => csvLine(r, opts.delimiter));
  return lines.join(eol) + (opts.trailing === false ? "" : eol);
}

async function readAll(descs: PartitionDescriptor[], as?: "array" | "object"): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const d of descs) for await (const rec of readPartition(d, { as })) out.push(rec);
  return out;
}

/** Ranges of one file tile [first, size) without gaps or overlaps, and none is empty. */
function assertTiles(descs: PartitionDescriptor[], first: number, size: number): void {
  assert.ok(descs.length >= 1);
  assert.equal(descs[0]!.start, first);
  assert.equal(descs.at(-1)!.end, size);
  for (let i = 0; i < descs.length; i++) {
    assert.ok(descs[i]!.end > descs[i]!.start, `partition ${i} is empty`);
    if (i > 0) assert.equal(descs[i]!.start, descs[i - 1]!.end);
  }
}

function assertIndexed(descs: PartitionDescriptor[]): void {
  descs.forEach((d, i) => {
    assert.equal(d.index, i);
    assert.equal(d.of, descs.length);
  });
}

const rejects = rejectsUsage;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-partition-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("partition: CSV", () => {
  const header = ["id", "a", "b note", "c"];
  const rows = genRows(3000, 4, 1);

  it("puts every record (quoted commas, quotes, newlines) in exactly one partition, at any target size", async () => {
    const path = join(dir, "quoted.csv");
    const text = csvText(rows, { header });
    await writeFile(path, text);
    const size = Buffer.byteLength(text);
    const headerBytes = Buffer.byteLength(csvLine(header) + "\n");
    for (const targetBytes of [1, 37, 1000, 20_000, size * 2]) {
      const descs = await partition(path, { targetBytes });
      assertTiles(descs, headerBytes, size);
      assertIndexed(descs);
      for (const d of descs) {
        assert.equal(d.format, "csv");
        assert.equal(d.format === "csv" && d.header, "id,a,b note,c");
      }
      assert.deepEqual(await readAll(descs, "array"), rows, `targetBytes ${targetBytes}`);
      if (targetBytes >= size) assert.equal(descs.length, 1);
      if (targetBytes === 1) assert.equal(descs.length, rows.length, "one record per partition");
    }
  });

  it("reads records as objects keyed by the header by default", async () => {
    const path = join(dir, "quoted.csv");
    const descs = await partition(path, { targetBytes: 5000 });
    const objects = (await readAll(descs)) as Array<Record<string, string>>;
    assert.equal(objects.length, rows.length);
    assert.deepEqual(objects[7], { id: rows[7]![0], a: rows[7]![1], "b note": rows[7]![2], c: rows[7]![3] });
  });

  it("keeps partitions near the target size", async () => {
    const path = join(dir, "quoted.csv");
    const targetBytes = 10_000;
    const descs = await partition(path, { targetBytes });
    const longest = Math.max(...rows.map((r) => Buffer.byteLength(csvLine(r) + "\n")));
    for (const d of descs.slice(0, -1)) {
      const len = d.end - d.start;
      assert.ok(len >= targetBytes && len < targetBytes + longest, `partition ${d.index} has ${len} bytes`);
    }
    assert.ok(descs.at(-1)!.end - descs.at(-1)!.start < targetBytes + longest);
    assert.equal(descs.reduce((n, d) => n + (d.estimatedRows ?? 0), 0), rows.length);
  });

  it("cuts exactly every targetRows records", async () => {
    const descs = await partition(join(dir, "quoted.csv"), { targetRows: 700 });
    assert.deepEqual(
      descs.map((d) => d.estimatedRows),
      [700, 700, 700, 700, 200],
    );
    const counts: number[] = [];
    for (const d of descs) {
      let n = 0;
      for await (const _ of readPartition(d)) n++;
      counts.push(n);
    }
    assert.deepEqual(counts, [700, 700, 700, 700, 200]);
  });

  it("with multiline: false cuts at line ends without scanning quotes: the same records when no field holds a line break", async () => {
    const flat = genRows(3000, 4, 7).map((r) => r.map((f) => f.replace(/[\r\n]/g, " ")));
    const path = join(dir, "flat.csv");
    const text = csvText(flat, { header });
    await writeFile(path, text);
    const headerBytes = Buffer.byteLength(csvLine(header) + "\n");
    for (const targetBytes of [1, 999, 20_000]) {
      const fast = await partition(path, { targetBytes, multiline: false });
      assertTiles(fast, headerBytes, Buffer.byteLength(text));
      assertIndexed(fast);
      assert.deepEqual(
        fast.map((d) => [d.start, d.end]),
        (await partition(path, { targetBytes })).map((d) => [d.start, d.end]),
        "the cuts equal those of the quote-aware scan",
      );
      assert.deepEqual(await readAll(fast, "array"), flat, `targetBytes ${targetBytes}`);
    }
    const byRows = await partition(path, { targetRows: 1000, multiline: false });
    const estimated = byRows.reduce((n, d) => n + (d.estimatedRows ?? 0), 0);
    assert.ok(Math.abs(estimated - flat.length) < flat.length * 0.1, `row estimate ${estimated} is near ${flat.length}`);
  });

  it("handles CRLF line endings, no trailing newline and header: false", async () => {
    const path = join(dir, "crlf.csv");
    const text = csvText(rows.slice(0, 500), { eol: "\r\n", trailing: false });
    await writeFile(path, text);
    for (const targetBytes of [1, 333, 1 << 20]) {
      const descs = await partition(path, { targetBytes, header: false });
      assertTiles(descs, 0, Buffer.byteLength(text));
      for (const d of descs) assert.equal(d.format === "csv" && d.header, undefined);
      assert.deepEqual(await readAll(descs), rows.slice(0, 500));
    }
  });

  it("handles a CRLF header and takes the tab delimiter for .tsv", async () => {
    const path = join(dir, "data.tsv");
    const text = csvText(rows.slice(0, 200), { header, eol: "\r\n", delimiter: "\t" });
    await writeFile(path, text);
    const descs = await partition(path, { targetBytes: 500 });
    assert.ok(descs.length > 1);
    for (const d of descs) {
      assert.equal(d.format === "csv" && d.header, header.join("\t"));
      assert.equal(d.format === "csv" && d.delimiter, "\t");
    }
    assert.deepEqual(await readAll(descs, "array"), rows.slice(0, 200));
  });

  it("gives one partition for an empty file, a header-only file and a file smaller than the target", async () => {
    const empty = join(dir, "empty.csv");
    await writeFile(empty, "");
    const e = await partition(empty);
    assert.equal(e.length, 1);
    assert.deepEqual([e[0]!.start, e[0]!.end], [0, 0]);
    assert.deepEqual(await readAll(e), []);

    const headerOnly = join(dir, "header-only.csv");
    await writeFile(headerOnly, "x,y\n");
    const h = await partition(headerOnly);
    assert.equal(h.length, 1);
    assert.deepEqual([h[0]!.start, h[0]!.end], [4, 4]);
    assert.deepEqual(await readAll(h), []);

    const small = join(dir, "small.csv");
    await writeFile(small, "x,y\n1,2\n3,4");
    const s = await partition(small, { targetBytes: 1 << 20 });
    assert.equal(s.length, 1);
    assert.deepEqual(await readAll(s), [{ x: "1", y: "2" }, { x: "3", y: "4" }]);
  });

  it("names the record whose field count differs from the header, after the good records", async () => {
    const path = join(dir, "ragged.csv");
    await writeFile(path, "x,y\n1,2\n3,4\n5\n6,7\n");
    const [desc] = await partition(path);
    const seen: unknown[] = [];
    await rejects(
      (async () => {
        for await (const rec of readPartition(desc!)) seen.push(rec);
      })(),
      /ragged\.csv" record 3 of partition 1\/1 .* has 1 fields but the header has 2; fix the file or read with as: "array"/,
    );
    assert.deepEqual(seen, [{ x: "1", y: "2" }, { x: "3", y: "4" }]);
    assert.deepEqual(await readAll([desc!], "array"), [["1", "2"], ["3", "4"], ["5"], ["6", "7"]]);
  });

  it("rejects a file that ends inside a quoted field", async () => {
    const path = join(dir, "open-quote.csv");
    await writeFile(path, 'a,b\n1,"never closed\n2,3\n');
    await rejects(partition(path), /open-quote\.csv" ends inside a quoted field/);
  });
});

describe("partition: JSON Lines", () => {
  it("splits long lines at line starts and reads every value once", async () => {
    const r = rng(2);
    const values = Array.from({ length: 300 }, (_, i) => ({
      i,
      text: "x".repeat(Math.floor(r() * 200_000)),
      nested: { s: 'quote " and \n newline', arr: [i, null, true] },
    }));
    const path = join(dir, "long.jsonl");
    const text = values.map((v) => JSON.stringify(v)).join("\n") + "\n";
    await writeFile(path, text);
    const size = Buffer.byteLength(text);
    for (const targetBytes of [1, 100_000, 4_000_000, size + 1]) {
      const descs = await partition(path, { targetBytes });
      assertTiles(descs, 0, size);
      assertIndexed(descs);
      assert.deepEqual(await readAll(descs), values, `targetBytes ${targetBytes}`);
      const longest = Math.max(...values.map((v) => JSON.stringify(v).length + 1));
      for (const d of descs.slice(0, -1)) assert.ok(d.end - d.start >= targetBytes && d.end - d.start < targetBytes + longest);
    }
  });

  it("stops reading when the consumer breaks out early", async () => {
    const [desc] = await partition(join(dir, "long.jsonl"));
    const iter = readPartition(desc!);
    let n = 0;
    for await (const _ of iter) if (++n === 3) break;
    assert.equal(n, 3);
    assert.deepEqual(await iter.next(), { done: true, value: undefined });
  });

  it("handles CRLF, blank lines and no trailing newline in .ndjson", async () => {
    const path = join(dir, "crlf.ndjson");
    await writeFile(path, '{"a":1}\r\n\r\n[2]\r\n"three"\r\n4');
    const descs = await partition(path, { targetBytes: 3 });
    assert.deepEqual(await readAll(descs), [{ a: 1 }, [2], "three", 4]);
  });

  it("estimates targetRows from a sample", async () => {
    const path = join(dir, "uniform.jsonl");
    await writeFile(path, Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i: String(i).padStart(6, "0") })).join("\n") + "\n");
    const descs = await partition(path, { targetRows: 250 });
    assert.equal(descs.length, 4);
    for (const d of descs) assert.equal(d.estimatedRows, 250);
    assert.equal((await readAll(descs)).length, 1000);
  });

  it("names the file, line and byte offset of a malformed line", async () => {
    const path = join(dir, "bad.jsonl");
    await writeFile(path, '{"ok":1}\n{"ok":2}\n{broken\n');
    const [desc] = await partition(path);
    const seen: unknown[] = [];
    await rejects(
      (async () => {
        for await (const v of readPartition(desc!)) seen.push(v);
      })(),
      /bad\.jsonl" line 3 of partition 1\/1/,
    );
    assert.deepEqual(seen, [{ ok: 1 }, { ok: 2 }]);
    await rejects(readAll([desc!]), /bad\.jsonl" line 3 of partition 1\/1 \(byte offset 18\) is not valid JSON.*Fix or remove that line/);
  });
});

describe("partition: inputs", () => {
  let tree: string;
  before(async () => {
    tree = join(dir, "tree");
    await mkdir(join(tree, "sub", "deep"), { recursive: true });
    await writeFile(join(tree, "b.csv"), "h\n2\n");
    await writeFile(join(tree, "a.csv"), "h\n1\n");
    await writeFile(join(tree, "notes.txt"), "ignored");
    await writeFile(join(tree, "sub", "c.csv"), "h\n3\n");
    await writeFile(join(tree, "sub", "deep", "d.csv"), "h\n4\n");
    await writeFile(join(tree, "sub", "e.jsonl"), "5\n");
  });

  it("takes a directory's matching files, sorted, without subdirectories", async () => {
    const descs = await partition(tree);
    assert.deepEqual(
      descs.map((d) => d.path),
      [join(tree, "a.csv"), join(tree, "b.csv")],
    );
    assertIndexed(descs);
    assert.deepEqual(await readAll(descs), [{ h: "1" }, { h: "2" }]);
  });

  it("expands globs with *, ? and **", async () => {
    const paths = async (pattern: string) => (await partition(pattern)).map((d) => d.path.slice(tree.length + 1));
    assert.deepEqual(await paths(join(tree, "*.csv")), ["a.csv", "b.csv"]);
    assert.deepEqual(await paths(join(tree, "?.csv")), ["a.csv", "b.csv"]);
    assert.deepEqual(await paths(join(tree, "**", "*.csv")), ["a.csv", "b.csv", "sub/c.csv", "sub/deep/d.csv"]);
    assert.deepEqual(await paths(join(tree, "sub", "**")), ["sub/c.csv", "sub/deep/d.csv", "sub/e.jsonl"]);
    const mixed = await partition([join(tree, "a.csv"), join(tree, "sub", "*.jsonl"), join(tree, "?.csv")]);
    assert.deepEqual(await readAll(mixed), [{ h: "1" }, 5, { h: "2" }], "a.csv is read once although two inputs name it");
  });

  it("matches globs segment by segment", () => {
    assert.ok(globToRegExp("*.csv").test("x.csv"));
    assert.ok(!globToRegExp("*.csv").test("d/x.csv"));
    assert.ok(globToRegExp("**/*.csv").test("x.csv"));
    assert.ok(globToRegExp("**/*.csv").test("a/b/x.csv"));
    assert.ok(globToRegExp("a/**/b").test("a/b"));
    assert.ok(globToRegExp("a/**/b").test("a/x/y/b"));
    assert.ok(!globToRegExp("a/**/b").test("a/xb"));
    assert.ok(globToRegExp("p?rt-[1].csv").test("part-[1].csv"), "brackets are literal");
    assert.ok(!globToRegExp("p?rt.csv").test("p/rt.csv"));
    assert.ok(!globToRegExp("*.csv").test("x.csvx"));
  });

  it("gives small JSON-serialisable descriptors", async () => {
    const descs = await partition(join(dir, "quoted.csv"), { targetBytes: 10_000 });
    for (const d of descs) {
      const json = JSON.stringify(d);
      assert.deepEqual(JSON.parse(json), d);
      assert.ok(json.length < 400, `descriptor is ${json.length} bytes`);
    }
  });

  it("rejects bad inputs and options with messages that name the fix", async () => {
    const gz = join(dir, "data.csv.gz");
    await writeFile(gz, "x");
    await rejects(partition(gz), /data\.csv\.gz" is compressed \(\.gz\); compressed files can't be split by byte range\. Decompress it first/);
    const odd = join(dir, "data.parquetish");
    await writeFile(odd, "x");
    await rejects(partition(odd), /can't tell the format of ".*data\.parquetish".*pass format: "csv" or "jsonl"/);
    assert.equal((await partition(odd, { format: "jsonl" })).length, 1);
    const missing = join(dir, "nope.csv");
    await rejects(partition(missing), new RegExp(`input "${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" does not exist; check the path`));
    await rejects(partition(join(dir, "nothing-*.csv")), /the glob ".*nothing-\*\.csv" matches no file/);
    const bare = join(dir, "bare");
    await mkdir(bare);
    await writeFile(join(bare, "readme.txt"), "x");
    await rejects(partition(bare), /bare" holds no \.csv, \.tsv, \.jsonl, \.ndjson or \.parquet file/);
    const csv = join(dir, "quoted.csv");
    await rejects(partition(csv, { targetBytes: 0 }), /invalid options: targetBytes: /);
    await rejects(partition(csv, { targetBytes: -5 }), /invalid options: targetBytes: /);
    await rejects(partition(csv, { targetBytes: 10, targetRows: 10 }), /give targetBytes or targetRows, not both/);
    await rejects(partition(csv, { delimiter: ";;" }), /delimiter must be one character/);
    await rejects(partition(csv, { format: "xml" } as never), /invalid options: format/);
    await rejects(partition([]), /no input given/);
  });
});

describe("partition: bounded memory", () => {
  it("partitions a ~200 MB CSV and reads one 16 MB partition without memory growing with the file", async (t) => {
    const big = join(dir, "big.csv");
    const out = createWriteStream(big);
    const line = (i: number) => `${i},"name ${i % 97}, with a comma",${(i * 0.37).toFixed(2)},"multi\nline ""${i % 13}"""\n`;
    out.write("id,name,value,note\n");
    let i = 0;
    let written = 0;
    while (written < 200 * 1024 * 1024) {
      let batch = "";
      for (let k = 0; k < 20_000; k++) batch += line(i++);
      written += batch.length;
      if (!out.write(batch)) await once(out, "drain");
    }
    out.end();
    await once(out, "finish");
    const size = (await stat(big)).size;
    const total = i;

    // A full collection before each baseline, so garbage left by generating the file is not counted.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const watch = async <T>(work: () => Promise<T>): Promise<{ value: T; growth: number }> => {
      gc();
      const base = process.memoryUsage.rss();
      let peak = base;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
      try {
        const value = await work();
        return { value, growth: Math.max(peak, process.memoryUsage.rss()) - base };
      } finally {
        clearInterval(timer);
      }
    };
    const limit = 100 * 1024 * 1024;
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
    try {
      const { value: descs, growth: partitionGrowth } = await watch(() => partition(big, { targetBytes: 16 * 1024 * 1024 }));
      assert.ok(partitionGrowth < limit, `partitioning grew RSS by ${mb(partitionGrowth)} for a ${mb(size)} file`);
      assert.equal(descs.length, Math.ceil((size - 19) / (16 * 1024 * 1024)));
      assert.equal(descs.reduce((n, d) => n + d.estimatedRows!, 0), total);
      const { value: read, growth: readGrowth } = await watch(async () => {
        let n = 0;
        let last: unknown;
        for await (const rec of readPartition(descs[3]!)) {
          n++;
          last = rec;
        }
        return { n, last };
      });
      assert.ok(readGrowth < limit, `reading one partition grew RSS by ${mb(readGrowth)}`);
      t.diagnostic(`RSS growth: partitioning ${mb(partitionGrowth)}, reading one partition ${mb(readGrowth)}, file ${mb(size)}`);
      assert.equal(read.n, descs[3]!.estimatedRows);
      const id = Number((read.last as { id: string }).id);
      assert.deepEqual(read.last, { id: String(id), name: `name ${id % 97}, with a comma`, value: (id * 0.37).toFixed(2), note: `multi\nline "${id % 13}"` });
    } finally {
      await rm(big, { force: true });
    }
  });
});
