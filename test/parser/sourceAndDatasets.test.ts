/**
 * What a parse stores besides the DAG structure: the DAG file's text with each
 * version (so the Code view can show the code a run was created with) and the
 * dataset references of each DAG (replaced at every parse, unlisted once the
 * DAG is inactive). Real DAG files in a temporary folder, parsed by the real
 * parser pool, on SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { dagVersionHash, type DagSpec } from "../../src/core/dagSpec.js";
import { DagProcessor, MAX_SOURCE_BYTES } from "../../src/parser/dagProcessor.js";
import { ParserPool } from "../../src/parser/parserPool.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dagFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-src-ds-"));
  dirs.push(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "dags", type: "module" }));
  for (const [rel, text] of Object.entries(files)) writeFileSync(join(dir, rel), text);
  return dir;
}

/** A DAG whose "train" task returns `result`; datasets as given. */
function mlDag(opts: { id?: string; result?: string; trainOutlets?: string[]; reportInlets?: string[] } = {}): string {
  return `import { dag, dataset } from "sluice";
const FEATURES = dataset("sluice://ml/features");
export default dag({ id: ${JSON.stringify(opts.id ?? "ml")}, schedule: "@daily", start: "2026-01-01" }, (d) => {
  const build = d.task("build", async () => 1, { outlets: [FEATURES] });
  const train = d.task("train", async () => ${opts.result ?? "42"}, { upstream: [build], inlets: [FEATURES], outlets: ${JSON.stringify(opts.trainOutlets ?? ["sluice://ml/model"])} });
  d.task("report", async () => "ok", { upstream: [train], inlets: ${JSON.stringify(opts.reportInlets ?? ["sluice://ml/model"])} });
});
`;
}

/** Active refs as compact tuples, sorted (uri, dag, task, kind). */
async function refs(store: Store): Promise<string[]> {
  return (await store.datasets.refs()).map((r) => `${r.uri} ${r.dag_id}.${r.task_id} ${r.kind}`);
}

for (const dialect of DIALECTS) {
  describe(`DAG sources and dataset refs from parsing, on ${dialect}`, () => {
    let opened: { store: Store; pool: ParserPool }[] = [];
    afterEach(async () => {
      for (const { store, pool } of opened) {
        await pool.stop();
        await store.close();
      }
      opened = [];
    });

    async function setup(dir: string) {
      const store = await freshStore(dialect, "srcds");
      const pool = new ParserPool({ processes: 1, timeoutMs: 20_000 });
      opened.push({ store, pool });
      const clock = { t: T0 };
      return { store, clock, processor: new DagProcessor(store, pool, dir, { now: () => clock.t }) };
    }

    async function current(store: Store, id: string) {
      const row = await store.dags.get(id);
      assert.ok(row, `DAG ${id} is stored`);
      return row;
    }

    it("stores the file's text with each version; a code-only edit is a new version and the old text is still there", async () => {
      const v1Text = mlDag();
      const dir = dagFolder({ "ml.ts": v1Text });
      const { store, clock, processor } = await setup(dir);
      await processor.scan();
      assert.deepEqual(await store.dags.importErrors(), []);
      const v1 = await current(store, "ml");
      assert.equal(v1.version_hash, dagVersionHash(JSON.parse(v1.spec) as DagSpec, v1Text), "the version covers structure and text");
      assert.deepEqual(await store.dags.versionSource("ml", v1.version_hash), { source: v1Text, fileloc: "ml.ts" });

      // Only a task body changes: same structure, new version, both texts kept.
      clock.t = T0 + 60_000;
      const v2Text = mlDag({ result: "43" });
      writeFileSync(join(dir, "ml.ts"), v2Text);
      await processor.scan();
      const v2 = await current(store, "ml");
      assert.notEqual(v2.version_hash, v1.version_hash);
      assert.equal(v2.spec, v1.spec, "the structure did not change");
      assert.equal((await store.dags.versionSource("ml", v2.version_hash))?.source, v2Text);
      assert.equal((await store.dags.versionSource("ml", v1.version_hash))?.source, v1Text, "the old version keeps its text");
      assert.deepEqual(await store.dags.versions("ml", { limit: 10, offset: 0 }), [
        { version_hash: v2.version_hash, created_at: T0 + 60_000, has_source: true, bundle_version: null, fileloc: "ml.ts" },
        { version_hash: v1.version_hash, created_at: T0, has_source: true, bundle_version: null, fileloc: "ml.ts" },
      ]);

      // Reverting the edit returns to the first version: no third row.
      clock.t = T0 + 120_000;
      writeFileSync(join(dir, "ml.ts"), v1Text);
      await processor.scan();
      assert.equal((await current(store, "ml")).version_hash, v1.version_hash);
      assert.equal((await store.dags.versions("ml", { limit: 10, offset: 0 })).length, 2);
      assert.equal(await store.dags.versionSource("ml", "0000000000000000"), undefined);
    });

    it("keeps no text for a file over the size bound, but its version still follows the text", async () => {
      const big = (n: number) => `${mlDag()}// ${"x".repeat(MAX_SOURCE_BYTES)}${n}\n`;
      const dir = dagFolder({ "big.ts": big(1) });
      const { store, processor } = await setup(dir);
      await processor.scan();
      assert.deepEqual(await store.dags.importErrors(), []);
      const first = await current(store, "ml");
      assert.deepEqual(await store.dags.versionSource("ml", first.version_hash), { source: null, fileloc: "big.ts" });
      writeFileSync(join(dir, "big.ts"), big(2));
      await processor.scan();
      const second = await current(store, "ml");
      assert.notEqual(second.version_hash, first.version_hash);
      assert.deepEqual((await store.dags.versions("ml", { limit: 10, offset: 0 })).map((v) => v.has_source), [false, false]);
    });

    it("dataset refs are written at parse, replaced on re-parse, kept through a broken edit, unlisted once the file is gone", async () => {
      const dir = dagFolder({
        "ml.ts": mlDag(),
        "other.ts": mlDag({ id: "other", trainOutlets: [], reportInlets: ["sluice://ml/model"] }),
      });
      const { store, processor } = await setup(dir);
      await processor.scan();
      assert.deepEqual(await store.dags.importErrors(), []);
      const initial = [
        "sluice://ml/features ml.build producer",
        "sluice://ml/features ml.train consumer",
        "sluice://ml/features other.build producer",
        "sluice://ml/features other.train consumer",
        "sluice://ml/model ml.report consumer",
        "sluice://ml/model ml.train producer",
        "sluice://ml/model other.report consumer",
      ];
      assert.deepEqual(await refs(store), initial);

      // Re-parse with a renamed outlet: the old producer row is gone, not added to.
      writeFileSync(join(dir, "ml.ts"), mlDag({ trainOutlets: ["s3://models/ml"], reportInlets: ["s3://models/ml"] }));
      await processor.scan();
      const renamed = [
        "s3://models/ml ml.report consumer",
        "s3://models/ml ml.train producer",
        "sluice://ml/features ml.build producer",
        "sluice://ml/features ml.train consumer",
        "sluice://ml/features other.build producer",
        "sluice://ml/features other.train consumer",
        "sluice://ml/model other.report consumer",
      ];
      assert.deepEqual(await refs(store), renamed);

      // A broken edit keeps the last good DAG active, with its refs.
      writeFileSync(join(dir, "ml.ts"), `import { dag } from "sluice";\nthrow new Error("half-finished edit");\n`);
      await processor.scan();
      assert.equal((await store.dags.importErrors()).length, 1);
      assert.deepEqual(await refs(store), renamed);

      // The file is deleted: its DAG's refs are no longer listed; the other DAG's are.
      unlinkSync(join(dir, "ml.ts"));
      await processor.scan();
      assert.deepEqual(await refs(store), [
        "sluice://ml/features other.build producer",
        "sluice://ml/features other.train consumer",
        "sluice://ml/model other.report consumer",
      ]);
      const listed = await store.datasets.search({ limit: 10, offset: 0 });
      assert.deepEqual(
        listed.datasets.map((d) => [d.uri, d.producers.map((p) => p.dagId), d.consumers.map((c) => c.dagId)]),
        [
          ["sluice://ml/features", ["other"], ["other"]],
          ["sluice://ml/model", [], ["other"]],
        ],
      );
      assert.equal(listed.total, 2);

      // It comes back: its refs are listed again.
      writeFileSync(join(dir, "ml.ts"), mlDag());
      await processor.scan();
      assert.deepEqual(await refs(store), initial);
    });

    it("a bad dataset URI in a DAG file is an import error naming the task and the URI", async () => {
      const dir = dagFolder({
        "bad.ts": `import { dag } from "sluice";
export default dag({ id: "bad" }, (d) => {
  d.task("write", async () => 1, { outlets: ["warehouse.features"] });
});
`,
      });
      const { store, processor } = await setup(dir);
      const summary = await processor.scan();
      assert.equal(summary.errors, 1);
      const [err] = await store.dags.importErrors();
      assert.equal(err.path, "bad.ts");
      assert.match(err.message, /DAG "bad" .*task "write": outlets entry "warehouse\.features" has no scheme/);
      assert.equal(err.line, 2, "points at the dag() call");
      assert.equal(await store.dags.get("bad"), undefined);
    });

    it("an upgrade re-parses files stored by older code once, so their DAGs gain source and dataset refs", async () => {
      const text = mlDag();
      const dir = dagFolder({ "ml.ts": text });
      const { store, clock, processor } = await setup(dir);
      // What the previous release left: a structure-only version without text or refs, and the
      // file recorded under its plain content hash, which made unchanged files skip parsing.
      const spec: DagSpec = {
        id: "ml",
        fileloc: "ml.ts",
        schedule: "@daily",
        timezone: "UTC",
        catchup: false,
        maxActiveRuns: 16,
        maxActiveTasks: 16,
        params: {},
        tags: [],
        tasks: [],
      };
      await store.dags.upsert(spec, "0123456789abcdef", T0, false);
      const oldHash = createHash("sha256").update(readFileSync(join(dir, "ml.ts"))).digest("hex").slice(0, 16);
      await store.dags.recordFile({ path: "ml.ts", content_hash: oldHash, dag_ids: '["ml"]', parsed_at: T0, parse_ms: 0 });
      assert.deepEqual(await refs(store), []);

      clock.t = T0 + 1000;
      const first = await processor.scan();
      assert.equal(first.parsed, 1, "parsed again although the file did not change");
      const row = await current(store, "ml");
      assert.notEqual(row.version_hash, "0123456789abcdef");
      assert.equal((await store.dags.versionSource("ml", row.version_hash))?.source, text);
      assert.equal((await refs(store)).length, 4);
      const second = await processor.scan();
      assert.deepEqual([second.parsed, second.unchanged], [0, 1], "and only once");
    });
  });
}
