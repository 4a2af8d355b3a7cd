import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ParserPool, type ParseResult } from "../../src/parser/parserPool.js";

// Short enough to keep the file fast, long enough for a cold child (tsx + SDK) on a busy 2-core machine.
const TIMEOUT_MS = 1500;

const tempDirs: string[] = [];
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh DAG folder laid out like a project from `sluice init` (package.json
 * with "type": "module"), with no node_modules: "sluice" resolves to the SDK
 * that runs the parser.
 */
function dagFolder(files: Record<string, string>, opts: { packageJson?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-parser-pool-"));
  tempDirs.push(dir);
  if (opts.packageJson ?? true) writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "dags", type: "module" }));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function simpleDag(id: string, extra = ""): string {
  return `import { dag } from "sluice";
${extra}
export default dag({ id: ${JSON.stringify(id)}, schedule: "@daily", start: "2026-01-01" }, (d) => {
  const extract = d.task("extract", async () => ({ rows: 3 }));
  d.shell("load", "echo loaded", { upstream: [extract] });
});
`;
}

/** A DAG file that records its parser's pid and when its import started and ended (ms), then waits `holdMs` at import time. */
function loggingDag(id: string, logFile: string, holdMs: number): string {
  return simpleDag(
    id,
    `import { appendFileSync } from "node:fs";
const started = Date.now();
await new Promise((r) => setTimeout(r, ${holdMs}));
appendFileSync(${JSON.stringify(logFile)}, JSON.stringify({ id: ${JSON.stringify(id)}, pid: process.pid, started, ended: Date.now() }) + "\\n");`,
  );
}

interface ImportRecord {
  id: string;
  pid: number;
  started: number;
  ended: number;
}

function readLog(logFile: string): ImportRecord[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ImportRecord);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

function assertOk(r: ParseResult, what: string): asserts r is Extract<ParseResult, { ok: true }> {
  assert.ok(r.ok, `${what} should parse, got: ${r.ok ? "" : r.error.message}`);
}

/** Every pool a test creates, stopped after the test even when an assertion failed. */
function poolFor(pools: ParserPool[], opts: { processes: number; timeoutMs: number }): ParserPool {
  const p = new ParserPool(opts);
  pools.push(p);
  return p;
}

describe("ParserPool", () => {
  const pools: ParserPool[] = [];
  after(async () => {
    await Promise.all(pools.map((p) => p.stop()));
  });

  it("parses a good file into DAG specs with the file path relative to the DAG folder", async () => {
    const dir = dagFolder({ "team/etl.ts": simpleDag("etl") });
    const pool = poolFor(pools, { processes: 1, timeoutMs: TIMEOUT_MS * 2 });
    const r = await pool.parse(join(dir, "team/etl.ts"), dir, "v1");
    assertOk(r, "team/etl.ts");
    assert.equal(r.specs.length, 1);
    const [spec] = r.specs;
    assert.equal(spec.id, "etl");
    assert.equal(spec.fileloc, join("team", "etl.ts"));
    assert.equal(spec.schedule, "@daily");
    assert.deepEqual(
      spec.tasks.map((t) => [t.id, t.kind, t.upstream]),
      [
        ["extract", "function", []],
        ["load", "shell", ["extract"]],
      ],
    );
    assert.equal(spec.tasks[1].command, "echo loaded");
    await pool.stop();
  });

  it("returns a failure (not a throw) for a file that throws at import", async () => {
    const dir = dagFolder({ "bad.ts": `import { dag } from "sluice";\nthrow new Error("warehouse credentials missing");\n` });
    const pool = poolFor(pools, { processes: 1, timeoutMs: TIMEOUT_MS * 2 });
    const r = await pool.parse(join(dir, "bad.ts"), dir, "v1");
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.error.message, /warehouse credentials missing/);
      assert.equal(r.error.location?.line, 2);
    }
    await pool.stop();
  });

  it("runs at most `processes` imports at once, in that many child processes", async () => {
    const log = join(dagFolder({}), "imports.log");
    const files: Record<string, string> = {};
    for (const id of ["d1", "d2", "d3", "d4", "d5"]) files[`${id}.ts`] = loggingDag(id, log, 250);
    const dir = dagFolder(files);
    const pool = poolFor(pools, { processes: 2, timeoutMs: TIMEOUT_MS * 4 });
    const results = await Promise.all(Object.keys(files).map((f) => pool.parse(join(dir, f), dir, "v1")));
    results.forEach((r, i) => assertOk(r, Object.keys(files)[i]));
    await pool.stop();

    const records = readLog(log);
    assert.deepEqual(records.map((r) => r.id).sort(), ["d1", "d2", "d3", "d4", "d5"]);
    assert.ok(new Set(records.map((r) => r.pid)).size <= 2, `imports ran in ${new Set(records.map((r) => r.pid)).size} processes`);
    assert.ok(!records.some((r) => r.pid === process.pid), "DAG code must not run in the calling process");
    // The largest number of imports in progress at the same moment.
    let maxOverlap = 0;
    for (const r of records) {
      const overlapping = records.filter((o) => o.started <= r.started && r.started < o.ended).length;
      maxOverlap = Math.max(maxOverlap, overlapping);
    }
    assert.ok(maxOverlap <= 2, `${maxOverlap} imports ran at the same time with processes: 2`);
  });

  it("imports files in parallel when it has more than one process", async () => {
    // Each file waits at import time until the other one has started: they can
    // only both finish if they are imported at the same time.
    const flags = dagFolder({});
    const barrier = (me: string, other: string) =>
      simpleDag(
        me,
        `import { existsSync, writeFileSync } from "node:fs";
writeFileSync(${JSON.stringify(join(flags, me))}, "");
while (!existsSync(${JSON.stringify(join(flags, other))})) await new Promise((r) => setTimeout(r, 20));`,
      );
    const dir = dagFolder({ "left.ts": barrier("left", "right"), "right.ts": barrier("right", "left") });
    const pool = poolFor(pools, { processes: 2, timeoutMs: TIMEOUT_MS * 4 });
    const [l, r] = await Promise.all([pool.parse(join(dir, "left.ts"), dir, "v1"), pool.parse(join(dir, "right.ts"), dir, "v1")]);
    assertOk(l, "left.ts");
    assertOk(r, "right.ts");
    await pool.stop();
  });

  it("stops a file that hangs in a busy loop, and the next parse in the same pool works", async () => {
    const dir = dagFolder({ "spin.ts": `import { dag } from "sluice";\nwhile (true) {}\n`, "ok.ts": simpleDag("ok") });
    const pool = poolFor(pools, { processes: 1, timeoutMs: TIMEOUT_MS });
    const hung = await pool.parse(join(dir, "spin.ts"), dir, "v1");
    assert.equal(hung.ok, false);
    if (!hung.ok) assert.match(hung.error.message, new RegExp(`longer than ${TIMEOUT_MS} ms`));
    const next = await pool.parse(join(dir, "ok.ts"), dir, "v1");
    assertOk(next, "ok.ts after a timeout");
    assert.equal(next.specs[0].id, "ok");
    await pool.stop();
  });

  it("stops a file that awaits forever, and files queued behind it still parse", async () => {
    const dir = dagFolder({
      "wait.ts": `import { dag } from "sluice";\nawait new Promise(() => {});\n`,
      "a.ts": simpleDag("a"),
      "b.ts": simpleDag("b"),
    });
    const pool = poolFor(pools, { processes: 1, timeoutMs: TIMEOUT_MS });
    // All three are queued at once on one process: a and b wait for the hung import.
    const [w, a, b] = await Promise.all(["wait.ts", "a.ts", "b.ts"].map((f) => pool.parse(join(dir, f), dir, "v1")));
    assert.equal(w.ok, false);
    if (!w.ok) assert.match(w.error.message, /longer than/);
    assertOk(a, "a.ts queued behind a hung file");
    assertOk(b, "b.ts queued behind a hung file");
    assert.deepEqual([a.specs[0].id, b.specs[0].id], ["a", "b"]);
    await pool.stop();
  });

  it("survives a file that calls process.exit() at import time", async () => {
    const dir = dagFolder({ "exit.ts": `import { dag } from "sluice";\nprocess.exit(3);\n`, "ok.ts": simpleDag("ok") });
    const pool = poolFor(pools, { processes: 1, timeoutMs: TIMEOUT_MS * 2 });
    const r = await pool.parse(join(dir, "exit.ts"), dir, "v1");
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.error.message, /exit code 3/);
      assert.match(r.error.message, /process\.exit\(\)/);
    }
    assertOk(await pool.parse(join(dir, "ok.ts"), dir, "v1"), "ok.ts after a process.exit()");
    await pool.stop();
  });

  it("stop() ends every child process, and the pool starts fresh ones for the next parse", async () => {
    const log = join(dagFolder({}), "imports.log");
    const dir = dagFolder({ "p1.ts": loggingDag("p1", log, 0), "p2.ts": loggingDag("p2", log, 0), "p3.ts": loggingDag("p3", log, 0) });
    const pool = poolFor(pools, { processes: 2, timeoutMs: TIMEOUT_MS * 4 });
    for (const r of await Promise.all(["p1.ts", "p2.ts"].map((f) => pool.parse(join(dir, f), dir, "v1")))) assertOk(r, "p1/p2");
    const pids = [...new Set(readLog(log).map((r) => r.pid))];
    assert.ok(pids.length >= 1);
    assert.ok(pids.every(isAlive), "the children stay warm between parses");
    await pool.stop();
    assert.deepEqual(pids.filter(isAlive), [], "stop() must leave no parser process running");

    assertOk(await pool.parse(join(dir, "p3.ts"), dir, "v1"), "p3.ts after stop()");
    const p3 = readLog(log).find((r) => r.id === "p3");
    assert.ok(p3 && !pids.includes(p3.pid), "a parse after stop() runs in a new process");
    await pool.stop();
    assert.equal(isAlive(p3.pid), false);
  });

  it("stop() during a hung import ends that child too and settles the pending parse", async () => {
    const pidFile = join(dagFolder({}), "pid");
    const dir = dagFolder({
      "hang.ts": `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(pidFile)}, String(process.pid));\nwhile (true) {}\n`,
    });
    // A long timeout: stop() must not wait for it.
    const pool = poolFor(pools, { processes: 1, timeoutMs: 60_000 });
    const pending = pool.parse(join(dir, "hang.ts"), dir, "v1");
    const deadline = Date.now() + 10_000;
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8") === "") {
      assert.ok(Date.now() < deadline, "the hung file never started importing");
      await new Promise((r) => setTimeout(r, 20));
    }
    const pid = Number(readFileSync(pidFile, "utf8"));
    await pool.stop();
    assert.equal(isAlive(pid), false, "stop() must kill a child stuck in user code");
    const r = await pending;
    assert.equal(r.ok, false);
  });

  it("resolves \"sluice\" for .ts and .mts DAG files in a folder without a package.json", async () => {
    // A plain folder of DAG files (no package.json, no node_modules) is the
    // simplest DAG folder a user can point Sluice at.
    const dir = dagFolder({ "plain.ts": simpleDag("plain"), "plain_m.mts": simpleDag("plain_m") }, { packageJson: false });
    const pool = poolFor(pools, { processes: 1, timeoutMs: TIMEOUT_MS * 2 });
    for (const [file, id] of [
      ["plain.ts", "plain"],
      ["plain_m.mts", "plain_m"],
    ]) {
      const r = await pool.parse(join(dir, file), dir, "v1");
      assertOk(r, `${file} without package.json`);
      assert.equal(r.specs[0].id, id);
    }
    await pool.stop();
  });
});
