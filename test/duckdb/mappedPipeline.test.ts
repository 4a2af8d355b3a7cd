/**
 * The end-to-end check of parallel processing: a generated ~500 MB
 * CSV (with quoted fields holding commas, quotes and newlines) is split into
 * 8 partitions, a DuckDB task mapped over them aggregates each slice in its
 * own task process, and a reduce merges the partial aggregates. The answer
 * must equal one DuckDB query over the whole file. Runs through the real
 * scheduler and local executor (warm task processes, 2 slots) on SQLite and
 * PostgreSQL.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import pino from "pino";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { defaultConfig } from "../../src/config/config.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { prng } from "../helpers/prng.js";

const TARGET_MB = Number(process.env.SLUICE_TEST_MAPPED_MB ?? 500);
const PARTS = 8;
const AGG = "key, count(*) as n, sum(amount) as total, min(amount) as lo, max(amount) as hi, sum(length(note)) as note_chars";

type Group = { key: string; n: number; total: number; lo: number; hi: number; note_chars: number };

/** A CSV of about `mb` MB: key, amount, and a note that is sometimes quoted with commas, doubled quotes or a newline. */
async function generate(path: string, mb: number): Promise<number> {
  const out = createWriteStream(path);
  out.write("id,key,amount,note\n");
  const rand = prng(4242);
  let bytes = 0;
  let rows = 0;
  const notes = ["plain", '"with, comma"', '"a ""quoted"" word"', '"two\nlines"', '"crlf\r\ninside"', ""];
  while (bytes < mb * 1_048_576) {
    let chunk = "";
    for (let i = 0; i < 10_000; i++, rows++) {
      chunk += `${rows},k${Math.floor(rand() * 50)},${Math.floor(rand() * 100_000) - 20_000},${notes[Math.floor(rand() * notes.length)]}\n`;
    }
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return rows;
}

const DAG = (file: string, targetBytes: number) => `import { dag, partition } from "sluice";
export default dag({ id: "mapped_duckdb", schedule: null }, (d) => {
  const parts = d.task("partitions", async () => partition(${JSON.stringify(file)}, { targetBytes: ${targetBytes} }));
  const partial = d.duckdb("aggregate", { expand: parts, sql: "select ${AGG} from input group by key", threads: 1, memoryLimit: "512MB" });
  d.task("merge", async (_ctx, { partial }) => {
    const by = {};
    for (const p of partial) for (const r of p.data) {
      const g = (by[r.key] ??= { key: r.key, n: 0, total: 0, lo: Infinity, hi: -Infinity, note_chars: 0 });
      g.n += Number(r.n); g.total += Number(r.total); g.lo = Math.min(g.lo, Number(r.lo)); g.hi = Math.max(g.hi, Number(r.hi)); g.note_chars += Number(r.note_chars);
    }
    return Object.values(by).sort((a, b) => (a.key < b.key ? -1 : 1));
  }, { inputs: { partial } });
});
`;

let root: string;
let file: string;
let rows = 0;
let expected: Group[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), "sluice-mapped-duckdb-"));
  file = join(root, "events.csv");
  rows = await generate(file, TARGET_MB);
  // The answer: one DuckDB query over the whole file.
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  const r = await conn.runAndReadAll(`select ${AGG} from read_csv('${file}', header = true, quote = '"', escape = '"', columns = {'id': 'BIGINT', 'key': 'VARCHAR', 'amount': 'BIGINT', 'note': 'VARCHAR'}) group by key order by key`);
  expected = r.getRowObjects().map((o) => ({ key: String(o.key), n: Number(o.n), total: Number(o.total), lo: Number(o.lo), hi: Number(o.hi), note_chars: Number(o.note_chars) }));
  conn.closeSync();
  db.closeSync();
  assert.equal(expected.reduce((a, g) => a + g.n, 0), rows, "the whole-file query reads every row");
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

for (const dialect of DIALECTS) {
  describe(`a mapped DuckDB pipeline over a ~${TARGET_MB} MB CSV (${dialect})`, () => {
    let sluice: Sluice | undefined;
    after(async () => {
      await sluice?.stop();
    });

    it(`in ${PARTS} partitions gives the same answer as one DuckDB query over the whole file`, { timeout: 600_000 }, async () => {
      const dags = join(root, `dags-${dialect}`);
      mkdirSync(dags, { recursive: true });
      writeFileSync(join(dags, "package.json"), JSON.stringify({ type: "module" }));
      const size = statSync(file).size;
      writeFileSync(join(dags, "mapped_duckdb.ts"), DAG(file, Math.ceil(size / PARTS)));
      const config = defaultConfig();
      config.home = join(root, `home-${dialect}`);
      config.dagsFolder = dags;
      config.db.url = targetUrl(await freshTarget(dialect, "mapped_duckdb"));
      config.executor.slots = 2;
      config.scheduler.loopIntervalMs = 200;
      sluice = await createSluice(config, pino({ level: "silent" }));
      await sluice.start();
      const finished = new Promise<string>((resolve) => sluice!.scheduler.on((e) => e.type === "run:finished" && resolve(e.state)));
      const run = await triggerRun(sluice.store, "mapped_duckdb", { runId: "big" });
      sluice.scheduler.wake();
      const state = await finished;
      const tis = await sluice.store.tasks.forRun(run.id);
      assert.equal(state, "success", JSON.stringify(tis.filter((t) => t.error).map((t) => [t.task_id, t.map_index, t.error])));

      const parts = JSON.parse(tis.find((t) => t.task_id === "partitions")!.result!) as unknown[];
      assert.equal(parts.length, PARTS);
      const mapped = tis.filter((t) => t.task_id === "aggregate").sort((a, b) => a.map_index - b.map_index);
      assert.deepEqual(mapped.map((t) => t.map_index), [0, 1, 2, 3, 4, 5, 6, 7]);
      // Every partition did real work: its groups sum to a share of the rows, and the shares add up.
      const perPart = mapped.map((t) => (JSON.parse(t.result!) as { data: { n: number }[] }).data.reduce((a, g) => a + Number(g.n), 0));
      assert.ok(perPart.every((n) => n > rows / PARTS / 2), `rows per partition: ${perPart.join(", ")}`);
      assert.equal(perPart.reduce((a, b) => a + b, 0), rows);
      // The instances ran in more than one task process (2 slots).
      assert.ok(new Set(mapped.map((t) => t.pid)).size >= 2, "the partitions were processed by at least two task processes");

      const merged = JSON.parse(tis.find((t) => t.task_id === "merge")!.result!) as Group[];
      assert.deepEqual(merged, expected);
    });
  });
}
