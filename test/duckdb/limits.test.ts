/**
 * The DuckDB task's resource behaviour with a real DuckDB: memoryLimit and
 * threads reach DuckDB; a query bigger than the limit spills into the
 * attempt's scratch folder when it can (a hash aggregate) and fails with
 * DuckDB's out-of-memory error when it can't (one giant string); cancelling
 * interrupts a running query at once; and a task process over a ~200 MB CSV
 * partition stays within a bounded peak RSS (measured in a child process).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { partition } from "../../src/data/partition.js";
import { duckdb } from "./fixtures.js";
import { failure, ok, runDuckdbAttempt } from "./harness.js";

const MiB = 1024 * 1024;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-duckdb-limits-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Run the task and count files DuckDB creates in its spill folder. The folder
 * is made and watched as soon as the scratch folder exists, before DuckDB
 * starts, so no spill file can appear unseen.
 */
async function runWatchingSpill(memoryLimit: string | undefined, sql: string) {
  let watcher: FSWatcher | undefined;
  const spilled = new Set<string>();
  const ready: Promise<void>[] = [];
  try {
    const r = await runDuckdbAttempt((d) => void d.duckdb("mem", { sql, memoryLimit }), "mem", {
      onScratch: (scratch) => {
        const tmp = join(scratch, "duckdb-tmp");
        ready.push(
          // The task creates the folder too (recursive, like this): whichever comes first, both succeed.
          mkdir(tmp, { recursive: true }).then(() => {
            // The folder's own removal with the scratch folder is reported under its name: not a spill.
            watcher = watch(tmp, (_event, name) => name && name !== "duckdb-tmp" && spilled.add(String(name)));
          }),
        );
      },
    });
    await Promise.all(ready);
    return { report: r, spilled };
  } finally {
    watcher?.close();
  }
}

// 3 M distinct 32-character keys: a hash table of a few hundred MB.
const BIG_AGGREGATE = "SELECT count(*) AS groups, sum(c) AS total FROM (SELECT s, count(*) AS c FROM (SELECT md5(range::VARCHAR) AS s FROM range(3000000)) GROUP BY s)";

describe("DuckDB task: memory limit and threads", () => {
  it("passes memoryLimit and threads to DuckDB (threads default to 1)", async () => {
    const set = ok(
      await runDuckdbAttempt(
        (d) => void d.duckdb("cfg", { sql: "SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS mem", memoryLimit: "300MB", threads: 2 }),
        "cfg",
      ),
    );
    assert.deepEqual(set.data, [{ threads: 2, mem: "286.1 MiB" }]);
    const dflt = ok(await runDuckdbAttempt((d) => void d.duckdb("cfg", { sql: "SELECT current_setting('threads') AS threads, current_setting('preserve_insertion_order') AS pio" }), "cfg"));
    assert.deepEqual(dflt.data, [{ threads: 1, pio: true }]);
    // Writing Parquet lets DuckDB stream rows out unordered (ORDER BY still holds), unless the SQL sets it back.
    const out = join(dir, "settings.parquet");
    const sql = "SELECT current_setting('preserve_insertion_order') AS pio";
    ok(await runDuckdbAttempt((d) => void d.duckdb("cfg", { sql, output: out }), "cfg"));
    assert.deepEqual(await duckdb(`SELECT pio FROM '${out}'`), [[false]]);
    ok(await runDuckdbAttempt((d) => void d.duckdb("cfg", { sql: `SET preserve_insertion_order = true; ${sql}`, output: out }), "cfg"));
    assert.deepEqual(await duckdb(`SELECT pio FROM '${out}'`), [[true]]);
  });

  it("spills an aggregate bigger than the limit to the scratch folder and still answers", async () => {
    const { report, spilled } = await runWatchingSpill("64MB", BIG_AGGREGATE);
    assert.deepEqual(ok(report).data, [{ groups: 3_000_000, total: 3_000_000 }]);
    assert.ok(spilled.size > 0, "DuckDB wrote spill files under <scratch>/duckdb-tmp");
    assert.ok([...spilled].every((f) => /^duckdb_temp_/.test(f)), [...spilled].join(", "));
    // Without a limit (DuckDB's default: 80% of RAM) the same query runs in memory.
    const free = await runWatchingSpill(undefined, BIG_AGGREGATE);
    assert.deepEqual(ok(free.report).data, [{ groups: 3_000_000, total: 3_000_000 }]);
    assert.equal(free.spilled.size, 0, "no spill without a tight limit: the limit above is what made it spill");
  });

  it("fails with DuckDB's out-of-memory error, not retried, when the work can't spill", async () => {
    // One 160 MB string: an aggregate state DuckDB can't page out.
    const { report } = await runWatchingSpill("64MB", "SELECT length(string_agg(md5(range::VARCHAR), ',')) AS len FROM range(5000000)");
    const f = failure(report);
    assert.match(f.error, /^DuckDB task "mem": Out of Memory Error: .*\(\d+\.\d MiB\/61\.0 MiB used\)/);
    assert.match(f.error, /Increasing the memory limit/);
    assert.equal(f.retryable, false);
    // A limit that fits lets the same query through.
    const { report: roomy } = await runWatchingSpill("1GB", "SELECT length(string_agg(md5(range::VARCHAR), ',')) AS len FROM range(5000000)");
    assert.deepEqual(ok(roomy).data, [{ len: 5_000_000 * 33 - 1 }]);
  });
});

describe("DuckDB task: cancel", () => {
  it("interrupts a running query at once and leaves no output", async (t) => {
    const controller = new AbortController();
    const out = join(dir, "cancelled", "never.parquet");
    let abortedAt = 0;
    const started = Date.now();
    const r = await runDuckdbAttempt(
      (d) =>
        void d.duckdb("long", {
          // Minutes of work at one thread.
          sql: "SELECT a.range AS a, count(*) AS n FROM range(200000000) a, range(100) b WHERE (a.range * b.range) % 7 = 3 GROUP BY ALL",
          output: out,
        }),
      "long",
      {
        signal: controller.signal,
        onScratch: () => {
          // Opening DuckDB and starting the COPY take a few ms; 400 ms in, the query is running.
          setTimeout(() => {
            abortedAt = Date.now();
            controller.abort(new Error("Task exceeded its timeout of 400 ms and was stopped."));
          }, 400);
        },
      },
    );
    const stoppedIn = Date.now() - abortedAt;
    const f = failure(r);
    assert.match(f.error, /^DuckDB task "long": interrupted while writing the output \(Task exceeded its timeout of 400 ms and was stopped\.\)/);
    assert.equal(f.retryable, true, "a cancelled or timed-out attempt may be retried");
    assert.ok(abortedAt > started);
    assert.ok(stoppedIn < 1000, `stopped ${stoppedIn} ms after the abort`);
    t.diagnostic(`stopped ${stoppedIn} ms after the abort`);
    assert.deepEqual(await readdir(join(dir, "cancelled")), [], "no output and no temporary file");
  });

  it("an attempt aborted before it starts does not start DuckDB", async () => {
    const controller = new AbortController();
    controller.abort(new Error("cancelled by a user"));
    const f = failure(await runDuckdbAttempt((d) => void d.duckdb("x", { sql: "SELECT 1" }), "x", { signal: controller.signal }));
    assert.match(f.error, /interrupted while starting DuckDB \(cancelled by a user\)/);
  });
});

describe("DuckDB task: memory of a task process", () => {
  it("stays bounded over a ~200 MB CSV partition (peak RSS of a child process)", { timeout: 120_000 }, async (t) => {
    const csv = join(dir, "big.csv");
    // ~58 bytes a line: 3.8 M lines, ~219 MB, written by DuckDB in about a second.
    await duckdb(
      `COPY (SELECT range AS id, range % 1000 AS grp, md5(range::VARCHAR) AS name, (range * 7919 % 10007) / 100.0 AS amount, 'note ' || (range % 13) AS note FROM range(3800000))
         TO '${csv}' (FORMAT csv, HEADER true)`,
    );
    const size = (await stat(csv)).size;
    const t0 = Date.now();
    const descs = await partition(csv, { targetBytes: 200 * 1000 * 1000 });
    const partitionMs = Date.now() - t0;
    assert.equal(descs.length, 2);
    const desc = descs[0]!;
    assert.equal(desc.format, "csv");
    const partBytes = desc.format === "csv" ? desc.end - desc.start : 0;
    assert.ok(partBytes >= 200e6 && partBytes < 201e6, `partition of ${partBytes} bytes`);
    const rowsInPart = desc.format === "csv" ? desc.estimatedRows! : 0;

    const sql = "SELECT grp, count(*) AS n, sum(amount) AS amount, count(DISTINCT name) AS names FROM input GROUP BY grp";
    const out = join(dir, "agg.parquet");
    const child = join(dirname(fileURLToPath(import.meta.url)), "rssChild.js");
    const measure = async (memoryLimit: string) => {
      const { stdout } = await promisify(execFile)(process.execPath, [child, JSON.stringify(desc), out, memoryLimit, sql], { maxBuffer: 4 * MiB });
      const m = JSON.parse(stdout) as { baselineRss: number; sampledPeak: number; vmHwm: number; outcome: string; error?: string; result?: { rows: number } };
      assert.equal(m.outcome, "success", m.error);
      assert.equal(m.result!.rows, 1000);
      assert.deepEqual(await duckdb(`SELECT sum(n), sum(names) FROM '${out}'`), [[BigInt(rowsInPart), BigInt(rowsInPart)]], "the aggregate saw every row of the partition once");
      return { baseline: m.baselineRss, peak: Math.max(m.vmHwm, m.sampledPeak) };
    };
    const tight = await measure("128MB");
    const roomy = await measure("512MB");
    // Measured on the 2-core dev machine: ~57 MiB before DuckDB loads; peak ~310-340 MiB at 128MB and
    // ~600 MiB at 512MB (DuckDB's module, ~35 MiB, and ~100 MiB of buffers beyond memory_limit: CSV
    // reader, allocator). Holding the 200 MB partition in the process as well would pass the bound.
    const bound = 128 * MiB + 320 * MiB;
    t.diagnostic(
      `file ${(size / MiB).toFixed(0)} MiB partitioned in ${partitionMs} ms; partition ${(partBytes / MiB).toFixed(0)} MiB; RSS baseline ${(tight.baseline / MiB).toFixed(0)} MiB; ` +
        `peak ${(tight.peak / MiB).toFixed(0)} MiB at memoryLimit 128MB (bound ${(bound / MiB).toFixed(0)} MiB), ${(roomy.peak / MiB).toFixed(0)} MiB at 512MB`,
    );
    assert.ok(tight.peak < bound, `peak RSS ${(tight.peak / MiB).toFixed(0)} MiB exceeds ${(bound / MiB).toFixed(0)} MiB`);
    assert.ok(roomy.peak - tight.peak > 150 * MiB, "the memory limit, not the data, is what bounds the process: a larger limit lets the same query use more");
  });
});
