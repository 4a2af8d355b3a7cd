/**
 * The `sluice` command line as a user meets it: real `node bin/sluice.js`
 * processes, checked by exit code, --json output and the files they write.
 * Commands that need no database run once; those that do run on SQLite and
 * on PostgreSQL, with a standalone where a scheduler is needed.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync, cpSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { EXAMPLES_DAGS, json, killLeftovers, makeProject, runSluice, show, sluiceEnv, startStandalone, waitFor, type CliResult, type Project, type SluiceProcess } from "./helpers.js";

interface TestReport {
  state: string;
  tasks: { task: string; mapIndex?: number; state: string; tries: number; result?: string; error?: string }[];
}
interface RunRow {
  id: number;
  dag_id: string;
  run_id: string;
  run_type: string;
  state: string;
  logical_date: number;
}
interface TaskRow {
  task_id: string;
  state: string;
  try_number: number;
  result: string | null;
  error: string | null;
}

after(async () => {
  const left = await killLeftovers();
  assert.deepEqual(left, [], "processes were left running");
});

/** Map over items with at most `n` at once (each item is a node process; the machine has 2 cores). */
async function limited<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** Subcommand names listed under "Commands:" in a --help text (commander's own "help" left out). */
function subcommands(help: string): string[] {
  const at = help.indexOf("\nCommands:\n");
  if (at < 0) return [];
  // The section ends at the first blank line (an "Example:" section may follow).
  return help
    .slice(at + "\nCommands:\n".length)
    .split("\n\n")[0]
    .split("\n")
    .filter((l) => /^ {2}\S/.test(l))
    // "tasks|task  Task instances..." -> "tasks" (aliases follow a "|").
    .map((l) => l.trim().split(/\s+/)[0].split("|")[0])
    .filter((name) => name !== "help");
}

describe("sluice CLI without a database", () => {
  const project = makeProject(["hello.ts", "flaky.ts", "ml_features.ts"]);
  const env = sluiceEnv({ home: project.home });
  const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> => runSluice(args, { ...env, ...extraEnv }, { cwd: project.dir });

  /** Every command path, found by walking `--help` from the root: ["dags", "list"], ... */
  let commandTree: { path: string[]; help: CliResult; leaf: boolean }[] | undefined;
  async function allCommands() {
    if (commandTree) return commandTree;
    const found: { path: string[]; help: CliResult; leaf: boolean }[] = [];
    let level: string[][] = [[]];
    while (level.length > 0) {
      const helps = await limited(level, 4, (path) => cli([...path, "--help"]));
      const nextLevel: string[][] = [];
      level.forEach((path, i) => {
        // The help must be this command's own (an unknown name would print the root's).
        assert.match(helps[i].stdout, new RegExp(`^Usage: ${["sluice", ...path.map((p) => `${p}(\\|\\S+)?`)].join(" ")} `), show(helps[i]));
        const subs = subcommands(helps[i].stdout);
        found.push({ path, help: helps[i], leaf: subs.length === 0 });
        for (const s of subs) nextLevel.push([...path, s]);
      });
      level = nextLevel;
    }
    commandTree = found;
    return found;
  }

  it("init scaffolds a project whose DAGs pass `dags check`", async () => {
    const dir = join(project.dir, "my-pipelines");
    const r = await cli(["init", dir, "--no-install", "--json"]);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(json(r), { dir, installed: false });
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; type: string; dependencies: Record<string, string> };
    assert.equal(pkg.name, "my-pipelines");
    assert.equal(pkg.type, "module");
    assert.ok(pkg.dependencies.sluice, "the project depends on sluice");
    assert.match(readFileSync(join(dir, "dags", "hello.ts"), "utf8"), /from "sluice"/);
    assert.equal(typeof JSON.parse(readFileSync(join(dir, "sluice.config.json"), "utf8")), "object");
    const ignored = readFileSync(join(dir, ".gitignore"), "utf8").split("\n");
    assert.ok(ignored.includes("node_modules/") && ignored.includes(".sluice/"), ignored.join(","));
    assert.ok(!existsSync(join(dir, "gitignore")), "the template's gitignore was renamed, not copied");

    const check = await cli(["dags", "check", "--dags", join(dir, "dags"), "--json"]);
    assert.equal(check.code, 0, show(check));
    const report = json<{ files: number; failed: number; report: { file: string; ok: boolean; dags: string[] }[] }>(check);
    assert.equal(report.failed, 0);
    assert.deepEqual(report.report.map((f) => [f.file, f.ok, f.dags]), [["hello.ts", true, ["hello"]]]);

    // A second init into the same (now non-empty) directory is refused, and nothing is overwritten.
    writeFileSync(join(dir, "dags", "mine.ts"), "// my work");
    const again = await cli(["init", dir, "--no-install"]);
    assert.equal(again.code, 2, show(again));
    assert.match(again.stderr, /not empty/);
    assert.equal(readFileSync(join(dir, "dags", "mine.ts"), "utf8"), "// my work");
  });

  it("dags check exits 1 on a broken file and writes a JUnit report naming it", async () => {
    const dags = join(project.dir, "check-dags");
    mkdirSync(dags);
    cpSync(join(EXAMPLES_DAGS, "hello.ts"), join(dags, "hello.ts"));
    writeFileSync(
      join(dags, "typo.ts"),
      `import { dag } from "sluice";
export default dag({ id: "typo", schedule: null }, (d) => {
  d.task("transform", async () => 1);
  d.task("load", async () => 2, { upstream: ["transfrom"] });
});
`,
    );
    const junit = join(project.dir, "dag-report.xml");
    const r = await cli(["dags", "check", "--dags", dags, "--junit", junit]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stdout, /typo\.ts/);
    assert.match(r.stdout, /transfrom/);
    const xml = readFileSync(junit, "utf8");
    const cases = [...xml.matchAll(/<testcase\b[^>]*\bname="([^"]+)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({ name: m[1], body: m[3] ?? "" }));
    assert.deepEqual(cases.map((c) => c.name).sort(), ["hello.ts", "typo.ts"], xml);
    const typo = cases.find((c) => c.name === "typo.ts")!;
    assert.match(typo.body, /<failure\b[^>]*message="[^"]*transfrom/, xml);
    assert.doesNotMatch(cases.find((c) => c.name === "hello.ts")!.body, /<failure/);
  });

  it("dags check --types fails type errors (in DAG files and the helpers they import) that import alone lets through", async () => {
    const dags = join(project.dir, "typed-dags");
    mkdirSync(join(dags, "lib"), { recursive: true });
    cpSync(join(EXAMPLES_DAGS, "hello.ts"), join(dags, "hello.ts"));
    // Runs fine (JavaScript has no types), but reads a number result as a string.
    writeFileSync(
      join(dags, "wrong.ts"),
      `import { dag } from "sluice";
export default dag({ id: "wrong", schedule: null }, (d) => {
  const count = d.task("count", async () => 42);
  d.task("shout", async (_ctx, { count: n }) => n.toUpperCase(), { upstream: [count] });
});
`,
    );
    writeFileSync(join(dags, "lib", "fmt.ts"), `export function label(s: string): string {\n  const n: number = s;\n  return s + n;\n}\n`);
    writeFileSync(
      join(dags, "uses_lib.ts"),
      `import { readFileSync } from "node:fs";
import { dag } from "sluice";
import { label } from "./lib/fmt.ts";
export default dag({ id: "uses_lib", schedule: null }, (d) => {
  d.task("t", async () => label(readFileSync("/proc/self/stat", "utf8").slice(0, 4)));
});
`,
    );
    const plain = await cli(["dags", "check", "--dags", dags, "--json"]);
    assert.equal(plain.code, 0, `without --types only imports are checked\n${show(plain)}`);
    const typed = await cli(["dags", "check", "--dags", dags, "--types", "--json"]);
    assert.equal(typed.code, 1, show(typed));
    const report = new Map(json<{ report: { file: string; ok: boolean; error?: string; line?: number }[] }>(typed).report.map((r) => [r.file, r]));
    assert.equal(report.get("hello.ts")?.ok, true, show(typed));
    assert.equal(report.get("uses_lib.ts")?.ok, true, "node: imports and ./lib imports resolve");
    assert.deepEqual([report.get("wrong.ts")?.ok, report.get("wrong.ts")?.line], [false, 4]);
    assert.match(report.get("wrong.ts")!.error!, /TS2339: Property 'toUpperCase' does not exist on type 'number'/);
    assert.deepEqual([report.get("lib/fmt.ts")?.ok, report.get("lib/fmt.ts")?.line], [false, 2]);
    assert.match(report.get("lib/fmt.ts")!.error!, /TS2322/);
  });

  it("config show --json reflects SLUICE_* settings and masks the database password", async () => {
    const url = "postgres://alice:s3cret-pw@db.example:5432/sluice";
    const r = await cli(["config", "show", "--json"], { SLUICE_EXECUTOR__SLOTS: "3", SLUICE_DB_URL: url });
    assert.equal(r.code, 0, show(r));
    const config = json<{ executor: { slots: number }; db: { url: string } }>(r);
    assert.equal(config.executor.slots, 3);
    assert.equal(config.db.url, "postgres://alice:****@db.example:5432/sluice");
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret-pw/);
    const human = await cli(["config", "show"], { SLUICE_DB_URL: url });
    assert.equal(human.code, 0, show(human));
    assert.doesNotMatch(human.stdout + human.stderr, /s3cret-pw/);
  });

  it("a bad SLUICE_* value exits 2 and names the variable", async () => {
    const r = await cli(["config", "show"], { SLUICE_EXECUTOR__SLOTS: "abc" });
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /SLUICE_EXECUTOR__SLOTS/);
    assert.match(r.stderr, /executor\.slots/);
  });

  it("dags test runs a whole DAG in-process and reports every task", async () => {
    const r = await cli(["dags", "test", "hello", "--dags", project.dags, "--json", "--logical-date", "2026-01-05"]);
    assert.equal(r.code, 0, show(r));
    const report = json<TestReport>(r);
    assert.equal(report.state, "success");
    assert.deepEqual(report.tasks.map((t) => [t.task, t.state, t.tries]).sort(), [
      ["done", "success", 1],
      ["greet", "success", 1],
      ["shout", "success", 1],
    ]);
    const byTask = new Map(report.tasks.map((t) => [t.task, t]));
    const greeting = (JSON.parse(byTask.get("greet")!.result!) as { greeting: string }).greeting;
    assert.match(greeting, /^hello for \d{4}-\d{2}-\d{2}$/);
    assert.equal(JSON.parse(byTask.get("shout")!.result!), greeting.toUpperCase());
    assert.match(JSON.parse(byTask.get("done")!.result!) as string, /^run \S+ of hello finished$/);
  });

  it("the ml_pipeline example runs: partitions cleaned by mapped DuckDB tasks, a model fitted on the merged parts", async () => {
    const r = await cli(["dags", "test", "ml_pipeline", "--dags", EXAMPLES_DAGS, "--json", "--conf", JSON.stringify({ rows: 200_000, partitionMb: 2 })]);
    assert.equal(r.code, 0, show(r));
    const report = json<TestReport>(r);
    assert.equal(report.state, "success");
    const clean = report.tasks.filter((t) => t.task === "clean");
    assert.ok(clean.length >= 4, `the raw file is split into several partitions (${clean.length})`);
    assert.deepEqual(clean.map((t) => t.mapIndex).sort((a, b) => a! - b!), clean.map((_, i) => i));
    const summary = JSON.parse(report.tasks.find((t) => t.task === "report")!.result!) as { rawRows: number; cleanRows: number; partitions: number; r2: number };
    assert.equal(summary.rawRows, 200_000);
    assert.equal(summary.partitions, clean.length);
    assert.ok(summary.cleanRows < summary.rawRows && summary.cleanRows > 190_000, `about 2% dirty rows are dropped (${summary.cleanRows})`);
    assert.ok(summary.r2 > 0.99, `the fitted model explains the data (r2 ${summary.r2})`);
  });

  it("dags test exits 1 when the DAG fails, with retries applied", async () => {
    const r = await cli(["dags", "test", "flaky", "--dags", project.dags, "--json"]);
    assert.equal(r.code, 1, show(r));
    const report = json<TestReport>(r);
    assert.equal(report.state, "failed");
    assert.deepEqual(report.tasks.map((t) => [t.task, t.state, t.tries]).sort(), [
      ["alert", "success", 1],
      ["always_fails", "failed", 2],
      ["call_api", "success", 2],
    ]);
    assert.match(report.tasks.find((t) => t.task === "always_fails")!.error!, /always fails/);
  });

  it("every command's --help exits 0 and shows an example", async () => {
    const commands = (await allCommands()).filter((c) => c.leaf);
    // The walk found the commands this suite relies on (so it cannot pass by finding none).
    for (const expected of ["init", "standalone", "dags check", "dags trigger", "dags backfill", "runs list", "tasks run", "config show"]) {
      assert.ok(commands.some((c) => c.path.join(" ") === expected), `\`sluice ${expected}\` missing from --help`);
    }
    const missing = commands.filter((c) => c.help.code !== 0 || !c.help.stdout.includes("Example")).map((c) => `sluice ${c.path.join(" ")} --help: ${show(c.help)}`);
    assert.deepEqual(missing, []);
  });

  it("the --help of `sluice` and of each command group shows an example too", async () => {
    const groups = (await allCommands()).filter((c) => !c.leaf);
    assert.ok(groups.some((g) => g.path.join(" ") === "dags"));
    for (const g of groups) assert.equal(g.help.code, 0, show(g.help));
    const missing = groups.filter((c) => !c.help.stdout.includes("Example")).map((c) => `sluice ${c.path.join(" ")} --help`.replace("  ", " "));
    assert.deepEqual(missing, [], "these --help pages have no example");
  });

  it("an unknown command exits 2 and says so", async () => {
    const r = await cli(["frobnicate"]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    const sub = await cli(["dags", "frobnicate"]);
    assert.equal(sub.code, 2, show(sub));
  });
});

for (const dialect of DIALECTS) {
  describe(`sluice CLI against ${dialect}`, () => {
    let project: Project;
    let env: NodeJS.ProcessEnv;
    let sa: SluiceProcess | undefined;
    const cli = (...args: string[]): Promise<CliResult> => runSluice(args, env, { cwd: project.dir });
    const context = () => (sa ? `--- standalone output ---\n${sa.output().slice(-5000)}` : "");

    async function runs(dagId: string): Promise<RunRow[]> {
      const r = await cli("runs", "list", "--dag", dagId, "--json");
      assert.equal(r.code, 0, show(r));
      return json<RunRow[]>(r);
    }
    async function tasks(dagId: string, runId: string): Promise<Map<string, TaskRow>> {
      const r = await cli("tasks", "list", dagId, runId, "--json");
      assert.equal(r.code, 0, show(r));
      return new Map(json<TaskRow[]>(r).map((t) => [t.task_id, t]));
    }
    async function paused(dagId: string): Promise<boolean> {
      const r = await cli("dags", "list", "--json", "--dags", project.dags);
      assert.equal(r.code, 0, show(r));
      const row = json<{ dags: { dag_id: string; paused: boolean }[] }>(r).dags.find((d) => d.dag_id === dagId);
      assert.ok(row, `${dagId} not listed`);
      return row.paused;
    }
    function standalone(): SluiceProcess {
      if (!sa?.alive) sa = startStandalone(project.dags, env, project.dir);
      return sa;
    }

    before(async () => {
      project = makeProject(["hello.ts", "flaky.ts", "ml_features.ts"]);
      writeFileSync(
        join(project.dags, "mapped_cli.ts"),
        `import { dag } from "sluice";
export default dag({ id: "mapped_cli", schedule: null }, (d) => {
  const parts = d.task("parts", async () => ["a", "b", "c"]);
  const up = d.task("up", async (ctx, { item }) => { ctx.log.info("upper-casing " + item); return item.toUpperCase(); }, { expand: parts });
  d.task("join", async (_c, { up }) => up.join("+"), { upstream: [up] });
});
`,
      );
      const target = await freshTarget(dialect, "e2e_cli");
      env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home, extra: { SLUICE_EXECUTOR__SLOTS: "3" } });
    });

    after(async () => {
      if (sa?.alive) {
        const exit = await sa.stop();
        assert.equal(exit.code, 0, `standalone exit ${exit.code} ${exit.signal}\n${context()}`);
        assert.deepEqual(exit.leftovers, []);
      }
    });

    it("dags backfill creates one run per interval, and not twice", async () => {
      const r = await cli("dags", "backfill", "hello", "--from", "2026-01-01", "--to", "2026-01-03", "--dags", project.dags);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /Created 3 backfill run/);
      const list = await runs("hello");
      assert.deepEqual(
        list.map((x) => [x.run_type, x.state, new Date(x.logical_date).toISOString()]).sort(),
        [
          ["backfill", "queued", "2026-01-01T00:00:00.000Z"],
          ["backfill", "queued", "2026-01-02T00:00:00.000Z"],
          ["backfill", "queued", "2026-01-03T00:00:00.000Z"],
        ],
      );
      const again = await cli("dags", "backfill", "hello", "--from", "2026-01-01", "--to", "2026-01-03", "--json", "--dags", project.dags);
      assert.equal(again.code, 0, show(again));
      const second = json<{ created: unknown[]; existing: string[] }>(again);
      assert.equal(second.created.length, 0);
      assert.equal(second.existing.length, 3);
      assert.equal((await runs("hello")).length, 3);
    });

    it("tasks run runs one attempt of one task and exits 0", async () => {
      const runId = "backfill__2026-01-01T00:00:00.000Z";
      const r = await cli("tasks", "run", "--dag", "hello", "--run", runId, "--task", "greet", "--json");
      assert.equal(r.code, 0, show(r));
      const ti = json<TaskRow>(r);
      assert.equal(ti.state, "success");
      assert.equal(ti.try_number, 1);
      assert.deepEqual(JSON.parse(ti.result!), { greeting: "hello for 2026-01-01" });
      // Only that task ran.
      const after = await tasks("hello", runId);
      assert.equal(after.get("greet")!.state, "success");
      assert.equal(after.get("shout")!.state, "none");
      assert.equal(after.get("done")!.state, "none");
      const logs = await cli("tasks", "logs", "hello", runId, "greet");
      assert.equal(logs.code, 0, show(logs));
      assert.match(logs.stdout, /greeting/);
    });

    it("dags pause holds a DAG's runs while others run; unpause releases them", async () => {
      const p = await cli("dags", "pause", "hello", "--dags", project.dags);
      assert.equal(p.code, 0, show(p));
      assert.equal(await paused("hello"), true);
      standalone();
      // A whole run of another DAG is the clock: by its end the scheduler has looked at hello's runs many times.
      const other = await cli("dags", "trigger", "ml_features", "--wait", "--timeout", "60", "--json", "--dags", project.dags);
      assert.equal(other.code, 0, `${show(other)}\n${context()}`);
      assert.deepEqual(
        (await runs("hello")).map((x) => x.state),
        ["queued", "queued", "queued"],
      );

      const u = await cli("dags", "unpause", "hello", "--dags", project.dags);
      assert.equal(u.code, 0, show(u));
      assert.equal(await paused("hello"), false);
      const done = await waitFor(
        "hello's backfill runs to finish",
        async () => {
          const b = (await runs("hello")).filter((x) => x.run_type === "backfill");
          return b.every((x) => x.state === "success" || x.state === "failed") && b;
        },
        { timeoutMs: 30_000, intervalMs: 300, context },
      );
      assert.deepEqual(
        done.map((x) => x.state),
        ["success", "success", "success"],
      );
      // greet of the first run was already done by `tasks run`: it was not run again.
      const first = await tasks("hello", "backfill__2026-01-01T00:00:00.000Z");
      assert.equal(first.get("greet")!.try_number, 1);
      assert.equal(JSON.parse(first.get("shout")!.result!), "HELLO FOR 2026-01-01");
    });

    it("tasks clear --failed reruns only the failed tasks of a finished run", async () => {
      standalone();
      const t = await cli("dags", "trigger", "flaky", "--wait", "--timeout", "60", "--json", "--dags", project.dags);
      assert.equal(t.code, 1, `${show(t)}\n${context()}`);
      const run = json<RunRow>(t);
      assert.equal(run.state, "failed");
      const before = await tasks("flaky", run.run_id);
      assert.equal(before.get("always_fails")!.try_number, 2);

      const c = await cli("tasks", "clear", "flaky", run.run_id, "--failed", "--json");
      assert.equal(c.code, 0, show(c));
      assert.deepEqual(json(c), { cleared: ["always_fails"] });
      const finished = await waitFor(
        "the cleared run to finish again",
        async () => {
          const r = (await runs("flaky")).find((x) => x.run_id === run.run_id)!;
          return (r.state === "success" || r.state === "failed") && r;
        },
        { timeoutMs: 30_000, intervalMs: 300, context },
      );
      assert.equal(finished.state, "failed");
      const afterClear = await tasks("flaky", run.run_id);
      // always_fails got a fresh retry budget (tries 3 and 4); the successful tasks were left alone.
      assert.equal(afterClear.get("always_fails")!.state, "failed");
      assert.equal(afterClear.get("always_fails")!.try_number, 4);
      assert.equal(afterClear.get("call_api")!.try_number, 2);
      assert.equal(afterClear.get("alert")!.try_number, 1);
      const try3 = await cli("tasks", "logs", "flaky", run.run_id, "always_fails", "--try", "3");
      assert.equal(try3.code, 0, show(try3));
      assert.match(try3.stdout, /this task always fails \(try 3 of 4\)/);
    });

    it("dags trigger refuses a conf that does not match the params, naming the field", async () => {
      const manualRuns = async () => (await runs("ml_features")).filter((x) => x.run_type === "manual").length;
      const before = await manualRuns();
      const r = await cli("dags", "trigger", "ml_features", "--conf", '{"rows": "lots"}', "--dags", project.dags);
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.stderr, /\brows\b/);
      assert.equal(await manualRuns(), before, "no run was created");
    });
    it("mapped tasks: tasks list folds instances into counts by state (--expand lists them), logs and result per --map-index", async () => {
      standalone();
      const t = await cli("dags", "trigger", "mapped_cli", "--wait", "--json");
      assert.equal(t.code, 0, show(t) + context());
      const run = (await runs("mapped_cli"))[0];
      const list = await cli("tasks", "list", "mapped_cli", run.run_id);
      assert.equal(list.code, 0, show(list));
      assert.match(list.stdout, /up\s+3 mapped\s+success 3/);
      const expanded = await cli("tasks", "list", "mapped_cli", run.run_id, "--expand");
      assert.equal(expanded.stdout.split("\n").filter((l) => /^up\s+\d\s+success/.test(l)).length, 3, expanded.stdout);
      const logs = await cli("tasks", "logs", "mapped_cli", run.run_id, "up", "--map-index", "1");
      assert.equal(logs.code, 0, show(logs));
      assert.match(logs.stdout, /upper-casing b/);
      assert.doesNotMatch(logs.stdout, /upper-casing [ac]/);
      const result = await cli("tasks", "result", "mapped_cli", run.run_id, "up", "--map-index", "2", "--json");
      assert.equal(json<string>(result), "C");
      assert.equal(json<string>(await cli("tasks", "result", "mapped_cli", run.run_id, "join", "--json")), "A+B+C");
      const noIndex = await cli("tasks", "logs", "mapped_cli", run.run_id, "up");
      assert.equal(noIndex.code, 1, show(noIndex));
      assert.match(noIndex.stderr, /mapped with 3 instances: pass --map-index 0\.\.2/);
      const bad = await cli("tasks", "logs", "mapped_cli", run.run_id, "up", "--map-index", "x");
      assert.equal(bad.code, 2, show(bad));
    });
  });
}
