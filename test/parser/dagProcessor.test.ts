import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { DagSpec } from "../../src/core/dagSpec.js";
import { DagProcessor, type ScanSummary } from "../../src/parser/dagProcessor.js";
import { ParserPool } from "../../src/parser/parserPool.js";
import type { DagRow, ImportErrorRow } from "../../src/store/dagQueries.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

// Small, so the two hanging fixtures cost little; a cold parser child still starts well within it.
const TIMEOUT_MS = 1500;

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Write (or overwrite) files under `dir`, creating folders as needed. */
function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/**
 * A fresh DAG folder laid out like a `sluice init` project (package.json with
 * "type": "module") and no node_modules: "sluice" resolves to the running SDK.
 */
function dagFolder(files: Record<string, string>): string {
  const dir = tempDir("sluice-dags-");
  writeFiles(dir, { "package.json": JSON.stringify({ name: "dags", type: "module" }), ...files });
  return dir;
}

/** A DAG file; `tasks` are [id, upstream ids] in declaration order. */
function dagFile(id: string, tasks: [string, string[]][] = [["extract", []], ["load", ["extract"]]], opts: { schedule?: string; header?: string } = {}): string {
  const body = tasks.map(([t, ups]) => `  d.task(${JSON.stringify(t)}, async () => ${JSON.stringify(t)}, { upstream: ${JSON.stringify(ups)} });`).join("\n");
  return `import { dag } from "sluice";
${opts.header ?? ""}
export default dag({ id: ${JSON.stringify(id)}, schedule: ${JSON.stringify(opts.schedule ?? "@daily")}, start: "2026-01-01" }, (d) => {
${body}
});
`;
}

/** A DAG file that appends its name to `log` every time it is imported. */
function countedDag(id: string, log: string, tasks?: [string, string[]][]): string {
  return dagFile(id, tasks, { header: `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(log)}, ${JSON.stringify(id)} + "\\n");` });
}

function importsLogged(log: string): string[] {
  return existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
}

function specOf(row: DagRow): DagSpec {
  return JSON.parse(row.spec) as DagSpec;
}

function taskShape(spec: DagSpec): [string, string[]][] {
  return spec.tasks.map((t) => [t.id, t.upstream]);
}

async function dagRow(store: Store, id: string): Promise<DagRow> {
  const row = await store.dags.get(id);
  assert.ok(row, `DAG "${id}" should be stored`);
  return row;
}

/** Assert which files have import errors; on a mismatch the message shows every error's text. */
async function expectErrorPaths(store: Store, paths: string[]): Promise<ImportErrorRow[]> {
  const errors = await store.dags.importErrors();
  assert.deepEqual(
    errors.map((e) => e.path),
    paths,
    `import errors: ${errors.map((e) => `${e.path}: ${e.message}`).join(" | ") || "none"}`,
  );
  return errors;
}

function errorFor(errors: ImportErrorRow[], path: string): ImportErrorRow {
  const e = errors.find((x) => x.path === path);
  assert.ok(e, `expected an import error for ${path}; got errors for: ${errors.map((x) => x.path).join(", ") || "none"}`);
  return e;
}

for (const dialect of DIALECTS) {
  describe(`DagProcessor on ${dialect}`, () => {
    /** Everything a test opened, closed after it even if it failed. */
    let opened: { store: Store; pool: ParserPool }[] = [];
    afterEach(async () => {
      for (const { store, pool } of opened) {
        await pool.stop();
        await store.close();
      }
      opened = [];
    });

    async function setup(dir: string, processes = 2): Promise<{ store: Store; pool: ParserPool; processor: DagProcessor }> {
      const store = await freshStore(dialect, "parser");
      const pool = new ParserPool({ processes, timeoutMs: TIMEOUT_MS });
      opened.push({ store, pool });
      return { store, pool, processor: new DagProcessor(store, pool, dir) };
    }

    it("stores every DAG of .ts, .mts and .js files with its spec, a version hash and a dag_version row", async () => {
      const dir = dagFolder({
        // Two DAGs in one file: both are found (one exported, one only declared).
        "etl.ts": `import { dag } from "sluice";
export const daily = dag({ id: "etl_daily", schedule: "0 2 * * *", start: "2026-01-01", tags: ["etl"] }, (d) => {
  const extract = d.task("extract", async () => ({ rows: 10 }));
  d.task("transform", async (_ctx, { extract }) => extract.rows * 2, { upstream: [extract] });
});
dag({ id: "etl_hourly", schedule: "@hourly" }, (d) => {
  d.shell("ping", "echo ping");
});
`,
        "features.mts": dagFile("features", [
          ["load", []],
          ["featurize", ["load"]],
          ["train", ["featurize"]],
        ]),
        "report.js": dagFile("report", [["render", []]], { schedule: "15m" }),
      });
      const { store, processor } = await setup(dir);
      const summary = await processor.scan();
      assert.equal(summary.files, 3);
      assert.equal(summary.parsed, 3);
      assert.equal(summary.errors, 0);
      assert.equal(summary.dags, 4);
      await expectErrorPaths(store, []);

      const rows = await store.dags.list();
      assert.deepEqual(
        rows.map((r) => [r.dag_id, r.fileloc, r.is_active]),
        [
          ["etl_daily", "etl.ts", 1],
          ["etl_hourly", "etl.ts", 1],
          ["features", "features.mts", 1],
          ["report", "report.js", 1],
        ],
      );
      const daily = specOf(rows[0]);
      assert.equal(daily.schedule, "0 2 * * *");
      assert.deepEqual(daily.tags, ["etl"]);
      assert.deepEqual(taskShape(daily), [
        ["extract", []],
        ["transform", ["extract"]],
      ]);
      assert.equal(specOf(rows[1]).tasks[0].command, "echo ping");
      assert.deepEqual(taskShape(specOf(rows[2])), [
        ["load", []],
        ["featurize", ["load"]],
        ["train", ["featurize"]],
      ]);
      assert.equal(specOf(rows[3]).schedule, "15m");

      for (const row of rows) {
        assert.match(row.version_hash, /^[0-9a-f]{16}$/, `${row.dag_id} version hash`);
        // The version row holds the same structure as the DAG row.
        assert.deepEqual(await store.dags.versionSpec(row.dag_id, row.version_hash), specOf(row), `${row.dag_id} dag_version row`);
      }
      assert.equal(new Set(rows.map((r) => r.version_hash)).size, rows.length, "different DAGs have different version hashes");
    });

    describe("broken files", () => {
      let store: Store;
      let pool: ParserPool;
      let summary: ScanSummary;
      let errors: ImportErrorRow[];

      before(async () => {
        const dir = dagFolder({
          // The two hanging files sort first, so they take both parser processes
          // before anything else: every good file is parsed after a timeout.
          "aa_hang_loop.ts": `import { dag } from "sluice";\nwhile (true) {}\n`,
          "ab_hang_await.mts": `import { dag } from "sluice";\nawait new Promise(() => {});\nexport default dag({ id: "never" }, (d) => { d.task("t", async () => 1); });\n`,
          "good.ts": dagFile("good"),
          "also_good.mts": dagFile("also_good"),
          "throws.ts": `import { dag } from "sluice";
const bucket = process.env.SLUICE_TEST_SURELY_UNSET_BUCKET;
if (!bucket) throw new Error("bucket is not configured");
export default dag({ id: "never_thrown" }, (d) => { d.task("t", async () => 1); });
`,
          "syntax.ts": `import { dag } from "sluice";

export default dag({ id: "syntax" }, (d) => {
  d.task("a", async () => 1;
});
`,
          "cycle.ts": `import { dag } from "sluice";
export default dag({ id: "cycle" }, (d) => {
  d.task("a", async () => 1, { upstream: ["b"] });
  d.task("b", async () => 1, { upstream: ["a"] });
});
`,
          "typo.ts": `import { dag } from "sluice";

export default dag({ id: "typo" }, (d) => {
  d.task("transform", async () => 1);
  d.task("load", async () => 1, { upstream: ["transfrom"] });
});
`,
          "bad_preset.ts": dagFile("bad_preset", undefined, { schedule: "@dayly" }),
          "bad_cron.js": dagFile("bad_cron", undefined, { schedule: "61 * * * *" }),
          "exits.ts": `import { dag } from "sluice";\nprocess.exit(3);\n`,
          "dup_a.ts": dagFile("shared_id", [["first", []]]),
          "dup_b.ts": dagFile("shared_id", [["second", []]]),
        });
        // Not setup(): the outer afterEach would close these after the first test of this group.
        store = await freshStore(dialect, "parser");
        pool = new ParserPool({ processes: 2, timeoutMs: TIMEOUT_MS });
        summary = await new DagProcessor(store, pool, dir).scan();
        errors = await store.dags.importErrors();
      });
      after(async () => {
        await pool.stop();
        await store.close();
      });

      it("stores the good DAGs and counts the broken files", async () => {
        const active = await store.dags.list({ activeOnly: true });
        assert.deepEqual(
          active.map((r) => r.dag_id),
          ["also_good", "good", "shared_id"],
        );
        assert.equal(summary.files, 13);
        assert.equal(summary.parsed, 13);
        assert.equal(summary.errors, 10);
        assert.deepEqual(
          errors.map((e) => e.path),
          ["aa_hang_loop.ts", "ab_hang_await.mts", "bad_cron.js", "bad_preset.ts", "cycle.ts", "dup_b.ts", "exits.ts", "syntax.ts", "throws.ts", "typo.ts"],
        );
      });

      it("a file that throws at import: its message and line", () => {
        const e = errorFor(errors, "throws.ts");
        assert.match(e.message, /bucket is not configured/);
        assert.equal(e.line, 3);
        assert.match(e.message, /throws\.ts:3/);
      });

      it("a file that does not compile: the line of the syntax error", () => {
        const e = errorFor(errors, "syntax.ts");
        assert.match(e.message, /does not compile/);
        assert.equal(e.line, 4);
      });

      it("a cycle: the path of the cycle and the line of dag()", () => {
        const e = errorFor(errors, "cycle.ts");
        assert.match(e.message, /a -> b -> a|b -> a -> b/);
        assert.match(e.message, /"cycle"/);
        assert.equal(e.line, 2);
      });

      it("an unknown upstream task: did you mean", () => {
        const e = errorFor(errors, "typo.ts");
        assert.match(e.message, /"transfrom"/);
        assert.ok(e.message.includes('did you mean "transform"'), e.message);
        assert.equal(e.line, 3);
      });

      it("an invalid schedule preset or cron expression", () => {
        const preset = errorFor(errors, "bad_preset.ts");
        assert.match(preset.message, /"@dayly"/);
        assert.ok(preset.message.includes('did you mean "@daily"'), preset.message);
        assert.equal(preset.line, 3);
        const cron = errorFor(errors, "bad_cron.js");
        assert.ok(cron.message.includes('"61 * * * *"'), cron.message);
        assert.match(cron.message, /minute/i);
        assert.equal(cron.line, 3);
      });

      it("files that hang at import (busy loop, never-settling await) time out", () => {
        for (const path of ["aa_hang_loop.ts", "ab_hang_await.mts"]) {
          const e = errorFor(errors, path);
          assert.match(e.message, new RegExp(`longer than ${TIMEOUT_MS} ms`), path);
          assert.equal(e.line, null);
        }
      });

      it("a file that calls process.exit()", () => {
        const e = errorFor(errors, "exits.ts");
        assert.match(e.message, /exit code 3/);
        assert.match(e.message, /process\.exit/);
      });

      it("two files declaring the same DAG id: the second is refused and names the first", async () => {
        const e = errorFor(errors, "dup_b.ts");
        assert.match(e.message, /"shared_id"/);
        assert.match(e.message, /dup_a\.ts/);
        const row = await dagRow(store, "shared_id");
        assert.equal(row.fileloc, "dup_a.ts");
        assert.deepEqual(taskShape(specOf(row)), [["first", []]]);
      });
    });

    it("does not re-parse unchanged files; an edit re-parses only that file and versions its DAG", async () => {
      const log = join(tempDir("sluice-imports-"), "imports.log");
      const dir = dagFolder({
        "a.ts": countedDag("a", log),
        "b.ts": countedDag("b", log),
        "nested/c.mts": countedDag("c", log),
      });
      const { store, processor } = await setup(dir);
      const first = await processor.scan();
      await expectErrorPaths(store, []);
      assert.equal(first.parsed, 3);
      assert.deepEqual(importsLogged(log).sort(), ["a", "b", "c"]);
      const before = await dagRow(store, "b");
      const aBefore = await dagRow(store, "a");

      const second = await processor.scan();
      assert.equal(second.parsed, 0);
      assert.equal(second.unchanged, 3);
      assert.equal(importsLogged(log).length, 3, "no file may be imported again");

      // A new task: a structural change.
      writeFiles(dir, {
        "b.ts": countedDag("b", log, [
          ["extract", []],
          ["load", ["extract"]],
          ["notify", ["load"]],
        ]),
      });
      const third = await processor.scan();
      await expectErrorPaths(store, []);
      assert.equal(third.parsed, 1);
      assert.equal(third.unchanged, 2);
      assert.deepEqual(importsLogged(log).slice(3), ["b"], "only the edited file is imported again");
      const after = await dagRow(store, "b");
      assert.notEqual(after.version_hash, before.version_hash);
      assert.deepEqual(taskShape(specOf(after)), [
        ["extract", []],
        ["load", ["extract"]],
        ["notify", ["load"]],
      ]);
      assert.equal((await store.dags.list()).length, 3, "the edited DAG stays one row");
      assert.equal(after.is_active, 1);
      // Both versions are kept.
      assert.deepEqual(taskShape((await store.dags.versionSpec("b", before.version_hash))!), [
        ["extract", []],
        ["load", ["extract"]],
      ]);
      assert.deepEqual(await store.dags.versionSpec("b", after.version_hash), specOf(after));
      // The other DAGs are untouched.
      assert.deepEqual(await dagRow(store, "a"), aBefore);

      // An edit that does not change the structure (a comment) is re-parsed and, since the
      // version hash covers the file's text (so a run's version names the exact code it was
      // created with, for the Code view), makes a new version with the same structure.
      writeFileSync(join(dir, "b.ts"), `// owned by the data team\n${readFileSync(join(dir, "b.ts"), "utf8")}`);
      const fourth = await processor.scan();
      assert.equal(fourth.parsed, 1);
      assert.equal(importsLogged(log).length, 5);
      const commented = await dagRow(store, "b");
      assert.notEqual(commented.version_hash, after.version_hash);
      assert.deepEqual(specOf(commented), specOf(after), "same structure");
    });

    it("a file that breaks keeps its last good DAG active; fixing it clears the import error", async () => {
      const dir = dagFolder({ "etl.ts": dagFile("etl"), "other.ts": dagFile("other") });
      const { store, processor } = await setup(dir);
      await processor.scan();
      await expectErrorPaths(store, []);
      const good = await dagRow(store, "etl");

      writeFiles(dir, { "etl.ts": `import { dag } from "sluice";\nthrow new Error("half-finished edit");\n` });
      const broken = await processor.scan();
      assert.equal(broken.errors, 1);
      const [err] = await store.dags.importErrors();
      assert.equal(err.path, "etl.ts");
      assert.match(err.message, /half-finished edit/);
      const kept = await dagRow(store, "etl");
      assert.equal(kept.is_active, 1, "the last good version keeps running");
      assert.equal(kept.version_hash, good.version_hash);
      assert.deepEqual(specOf(kept), specOf(good));

      // Unchanged and still broken: not re-imported, the error stays.
      const again = await processor.scan();
      assert.equal(again.parsed, 0);
      assert.equal((await store.dags.importErrors()).length, 1);

      writeFiles(dir, {
        "etl.ts": dagFile("etl", [
          ["extract", []],
          ["load", ["extract"]],
          ["check", ["load"]],
        ]),
      });
      const fixed = await processor.scan();
      await expectErrorPaths(store, []);
      assert.equal(fixed.errors, 0);
      const now = await dagRow(store, "etl");
      assert.equal(now.is_active, 1);
      assert.notEqual(now.version_hash, good.version_hash);
      assert.deepEqual(
        specOf(now).tasks.map((t) => t.id),
        ["extract", "load", "check"],
      );
      assert.equal((await dagRow(store, "other")).is_active, 1);
    });

    it("deactivates the DAGs of a deleted file and of a DAG removed from its file, and forgets the file's import error", async () => {
      const dir = dagFolder({
        "pair.ts": `import { dag } from "sluice";
dag({ id: "keep" }, (d) => { d.task("t", async () => 1); });
dag({ id: "dropped" }, (d) => { d.task("t", async () => 1); });
`,
        "gone.ts": dagFile("gone"),
        "broken.ts": `import { dag } from "sluice";\nthrow new Error("broken on purpose");\n`,
      });
      const { store, processor } = await setup(dir);
      await processor.scan();
      await expectErrorPaths(store, ["broken.ts"]);
      assert.deepEqual(
        (await store.dags.list({ activeOnly: true })).map((r) => r.dag_id),
        ["dropped", "gone", "keep"],
      );

      unlinkSync(join(dir, "gone.ts"));
      unlinkSync(join(dir, "broken.ts"));
      writeFiles(dir, { "pair.ts": `import { dag } from "sluice";\ndag({ id: "keep" }, (d) => { d.task("t", async () => 1); });\n` });
      const summary = await processor.scan();
      assert.equal(summary.removedFiles, 2);
      assert.equal(summary.files, 1);
      await expectErrorPaths(store, []); // a deleted file's import error is removed
      assert.deepEqual(
        (await store.dags.list()).map((r) => [r.dag_id, r.is_active]),
        [
          ["dropped", 0],
          ["gone", 0],
          ["keep", 1],
        ],
      );

      // The file comes back: its DAG is active again, still one row.
      writeFiles(dir, { "gone.ts": dagFile("gone") });
      await processor.scan();
      await expectErrorPaths(store, []);
      assert.deepEqual(
        (await store.dags.list()).map((r) => [r.dag_id, r.is_active]),
        [
          ["dropped", 0],
          ["gone", 1],
          ["keep", 1],
        ],
      );
    });

    it("the second file declaring a DAG id takes over when the first file is deleted", async () => {
      const dir = dagFolder({ "first.ts": dagFile("shared", [["one", []]]), "second.ts": dagFile("shared", [["two", []]]) });
      const { store, processor } = await setup(dir);
      await processor.scan();
      await expectErrorPaths(store, ["second.ts"]);
      unlinkSync(join(dir, "first.ts"));
      await processor.scan();
      // Nothing clashes any more: second.ts's DAG is the one that runs.
      assert.deepEqual(await store.dags.importErrors(), []);
      const row = await dagRow(store, "shared");
      assert.equal(row.is_active, 1);
      assert.equal(row.fileloc, "second.ts");
      assert.deepEqual(taskShape(specOf(row)), [["two", []]]);
    });

    it("renaming a DAG file keeps its DAG active, now at the new path", async () => {
      const dir = dagFolder({ "old_name.ts": dagFile("renamed") });
      const { store, processor } = await setup(dir);
      await processor.scan();
      const before = await dagRow(store, "renamed");
      writeFiles(dir, { "new_name.ts": readFileSync(join(dir, "old_name.ts"), "utf8") });
      unlinkSync(join(dir, "old_name.ts"));
      const summary = await processor.scan();
      assert.equal(summary.removedFiles, 1);
      await expectErrorPaths(store, []);
      const row = await dagRow(store, "renamed");
      assert.equal(row.fileloc, "new_name.ts");
      assert.equal(row.is_active, 1, "the DAG still exists, in its new file");
      assert.equal(row.version_hash, before.version_hash, "the file path is not part of the structure");
    });

    it("moving a DAG from one file to another in one edit keeps it active with no import error", async () => {
      const two = (a: string, b: string) => `import { dag } from "sluice";
dag({ id: ${JSON.stringify(a)} }, (d) => { d.task("t", async () => 1); });
dag({ id: ${JSON.stringify(b)} }, (d) => { d.task("t", async () => 1); });
`;
      const dir = dagFolder({ "a.ts": two("a1", "moving"), "b.ts": dagFile("b1") });
      const { store, processor } = await setup(dir);
      await processor.scan();
      await expectErrorPaths(store, []);
      writeFiles(dir, { "a.ts": dagFile("a1"), "b.ts": two("b1", "moving") });
      await processor.scan();
      await expectErrorPaths(store, []);
      const row = await dagRow(store, "moving");
      assert.equal(row.fileloc, "b.ts");
      assert.equal(row.is_active, 1);
    });

    it("scans subfolders and ignores _files, dotfiles, node_modules and .d.ts", async () => {
      const boom = (what: string) => `throw new Error(${JSON.stringify(`${what} must not be imported as a DAG file`)});\n`;
      const dir = dagFolder({
        // A helper module next to the DAGs: importable, but not a DAG file itself.
        "_shared.ts": `export const OWNER: string = "ml-team";\n`,
        "main.ts": dagFile("main", undefined, { header: `import { OWNER } from "./_shared.js";\nvoid OWNER;` }),
        "team/deep/nested.mts": dagFile("nested"),
        "_draft.ts": boom("_draft.ts"),
        ".hidden.ts": boom(".hidden.ts"),
        ".cache/cached.ts": boom(".cache/cached.ts"),
        "_wip/wip.ts": boom("_wip/wip.ts"),
        "node_modules/some-lib/index.js": boom("node_modules"),
        "team/node_modules/other/index.ts": boom("nested node_modules"),
        "types.d.ts": boom("types.d.ts"),
        "README.md": "# not a DAG\n",
      });
      const { store, processor } = await setup(dir);
      const summary = await processor.scan();
      await expectErrorPaths(store, []);
      assert.equal(summary.files, 2);
      assert.deepEqual(
        (await store.dags.list()).map((r) => [r.dag_id, r.fileloc]),
        [
          ["main", "main.ts"],
          ["nested", join("team", "deep", "nested.mts")],
        ],
      );
    });
  });
}
