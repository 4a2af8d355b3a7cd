/**
 * `sluice standalone` as a user runs it: a real process on SQLite and on
 * PostgreSQL, driven only through the CLI (`dags trigger --wait`, `tasks
 * list`, `tasks logs`, `dags list`). The DAG folder holds copies of the
 * examples plus fixture DAGs that misbehave on purpose (process.exit, endless
 * loops, a file that does not import, an oversized result).
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { triggerRun } from "../../src/runs/createRun.js";
import { openStore, type Store } from "../../src/store/store.js";
import type { DbTarget } from "../../src/store/db.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { json, killLeftovers, makeProject, runSluice, show, sluiceEnv, startStandalone, waitFor, type CliResult, type Project, type SluiceProcess } from "./helpers.js";

const EXAMPLES = ["hello.ts", "flaky.ts", "ml_features.ts", "shell_pipeline.ts"];
const BROKEN_LINE = 3;

/** Fixture DAG files, written next to the example copies. */
const FIXTURES: Record<string, string> = {
  // Params too big for one environment string (Linux: 128 KiB) reach shell tasks as a file.
  "fixture_bigparams.ts": `import { dag } from "sluice";
export default dag({ id: "bigparams", schedule: null }, (d) => {
  d.shell("count", 'test -z "$SLUICE_PARAMS" && wc -c < "$SLUICE_PARAMS_FILE"');
  d.shell("inline", 'echo "$SLUICE_PARAMS"');
});
`,
  "fixture_exit.ts": `import { dag } from "sluice";
export default dag({ id: "exits", schedule: null }, (d) => {
  d.task("exit_now", async () => {
    process.exit(1);
  });
  d.task("sibling", async () => {
    await new Promise((r) => setTimeout(r, 500));
    return "sibling ok";
  });
});
`,
  "fixture_timeouts.ts": `import { dag } from "sluice";
export default dag({ id: "timeouts", schedule: null }, (d) => {
  // Blocks the event loop: only the executor can stop it (by killing the process).
  d.task("spin", async () => {
    while (true) {}
  }, { timeout: "1s" });
  // Waits forever without blocking: the task process's own timer stops it.
  d.task("hang", async () => {
    await new Promise(() => {});
  }, { timeout: "1s" });
});
`,
  "fixture_leak.ts": `import { dag } from "sluice";
export default dag({ id: "leaks", schedule: null }, (d) => {
  // Holds on to ever more memory until its process hits the heap cap.
  d.task("leak", async () => {
    const hold: number[][] = [];
    for (;;) {
      hold.push(new Array(250_000).fill(hold.length));
      await new Promise((r) => setImmediate(r));
    }
  });
  d.task("sibling", async () => {
    await new Promise((r) => setTimeout(r, 300));
    return "sibling ok";
  });
});
`,
  "fixture_runtimeout.ts": `import { dag } from "sluice";
export default dag({ id: "run_timeout", schedule: null, runTimeout: "2s" }, (d) => {
  // Records its shell's pid (= its process group) and outlives the run's timeout unless killed.
  d.shell("sleepy", "echo $$ > sleepy.pid; sleep 60");
});
`,
  "fixture_broken.ts": `import { dag } from "sluice";
// The next line throws while the file is imported.
throw new Error("fixture_broken is broken on purpose");
export default dag({ id: "never_declared", schedule: null }, () => {});
`,
  "fixture_logs.ts": `import { dag } from "sluice";
export default dag({ id: "logs", schedule: null }, (d) => {
  d.shell("shell_out", 'echo "stdout-marker from the shell" && echo "stderr-marker from the shell" >&2');
  d.task("fn_log", async (ctx) => {
    ctx.log.info("ctx-log-marker", { rows: 3 });
    console.log("console-marker");
    return "logged";
  });
});
`,
  "fixture_bigresult.ts": `import { dag } from "sluice";
export default dag({ id: "bigresult", schedule: null }, (d) => {
  d.task("huge", async () => ({ rows: "x".repeat(5000) }));
});
`,
};

interface TaskRow {
  task_id: string;
  state: string;
  try_number: number;
  result: string | null;
  error: string | null;
  duration_ms: number | null;
  start_date: number | null;
  end_date: number | null;
}
interface RunRow {
  run_id: string;
  state: string;
}
interface LogLine {
  stream: string;
  line: string;
}

for (const dialect of DIALECTS) {
  describe(`sluice standalone on ${dialect}`, () => {
    let project: Project;
    let target: DbTarget;
    let env: NodeJS.ProcessEnv;
    let sa: SluiceProcess;
    let store: Store | undefined;

    const cli = (...args: string[]): Promise<CliResult> => runSluice(args, env, { cwd: project.dir });
    const context = () => `--- standalone output ---\n${sa.output().slice(-6000)}`;

    /** Trigger with --wait; returns the finished run and its task instances by id. */
    async function triggerAndWait(dagId: string, expectCode: number): Promise<{ run: RunRow; tasks: Map<string, TaskRow> }> {
      const r = await cli("dags", "trigger", dagId, "--wait", "--timeout", "60", "--json", "--dags", project.dags);
      assert.equal(r.code, expectCode, `trigger ${dagId}: ${show(r)}\n${context()}`);
      const run = json<RunRow>(r);
      return { run, tasks: await taskList(dagId, run.run_id) };
    }

    async function taskList(dagId: string, runId: string): Promise<Map<string, TaskRow>> {
      const r = await cli("tasks", "list", dagId, runId, "--json");
      assert.equal(r.code, 0, show(r));
      return new Map(json<TaskRow[]>(r).map((t) => [t.task_id, t]));
    }

    async function logs(dagId: string, runId: string, taskId: string, tryNumber?: number): Promise<LogLine[]> {
      const r = await cli("tasks", "logs", dagId, runId, taskId, "--json", ...(tryNumber ? ["--try", String(tryNumber)] : []));
      assert.equal(r.code, 0, show(r));
      return json<LogLine[]>(r);
    }

    before(async () => {
      project = makeProject(EXAMPLES);
      for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(project.dags, name), text);
      target = await freshTarget(dialect, "e2e_standalone");
      env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home, extra: { SLUICE_TASKS__MAX_RESULT_BYTES: "1000", SLUICE_EXECUTOR__SLOTS: "3", SLUICE_EXECUTOR__MAX_PROCESS_MEMORY_MB: "160" } });
      sa = startStandalone(project.dags, env, project.dir);
      // The test reads the store only to know when to look; assertions go through the CLI.
      store = await waitFor("the standalone to create the schema", () => openStore(target), { timeoutMs: 30_000, intervalMs: 250, context });
    });

    after(async () => {
      if (sa?.alive) await sa.stop();
      await store?.close();
      const left = await killLeftovers();
      assert.deepEqual(left, [], "processes were left running");
    });

    it("runs the latest scheduled interval of every scheduled example on start-up", async () => {
      // Also keeps the later manual shell_pipeline run from sharing its /tmp work dir with this one.
      const runs = await waitFor(
        "the scheduled runs of hello, ml_features and shell_pipeline to finish",
        async () => {
          const rows = (await store!.runs.list({ limit: 100 })).filter((r) => r.run_type === "scheduled");
          const ids = new Set(rows.map((r) => r.dag_id));
          const done = rows.every((r) => r.state === "success" || r.state === "failed");
          return ["hello", "ml_features", "shell_pipeline"].every((d) => ids.has(d)) && done && rows;
        },
        { timeoutMs: 40_000, context },
      );
      for (const r of runs) assert.equal(r.state, "success", `${r.dag_id} ${r.run_id}\n${context()}`);
    });

    it("runs hello, ml_features and shell_pipeline to success when triggered", async () => {
      const [hello, ml, shell] = await Promise.all([triggerAndWait("hello", 0), triggerAndWait("ml_features", 0), triggerAndWait("shell_pipeline", 0)]);
      for (const { run, tasks } of [hello, ml, shell]) {
        assert.equal(run.state, "success");
        for (const t of tasks.values()) assert.equal(t.state, "success", `${run.run_id}.${t.task_id}: ${t.error}`);
      }
      assert.deepEqual([...hello.tasks.keys()].sort(), ["done", "greet", "shout"]);
      // greet's result reached shout, and the shell task saw its run id.
      const greeting = (JSON.parse(hello.tasks.get("greet")!.result!) as { greeting: string }).greeting;
      assert.equal(JSON.parse(hello.tasks.get("shout")!.result!), greeting.toUpperCase());
      assert.equal(JSON.parse(hello.tasks.get("done")!.result!), `run ${hello.run.run_id} of hello finished`);
      assert.deepEqual([...ml.tasks.keys()].sort(), ["extract", "report", "train", "transform", "validate"]);
      assert.ok((JSON.parse(ml.tasks.get("report")!.result!) as { r2: number }).r2 >= 0.9);
      assert.equal(JSON.parse(shell.tasks.get("sum")!.result!), "5050");
      assert.equal(JSON.parse(shell.tasks.get("check")!.result!), "ok");
    });

    it("flaky: call_api succeeds on its retry, always_fails fails after 2 tries, alert runs, the run fails", async () => {
      const { run, tasks } = await triggerAndWait("flaky", 1);
      assert.equal(run.state, "failed");
      assert.deepEqual(
        [...tasks.values()].map((t) => [t.task_id, t.state, t.try_number]).sort(),
        [
          ["alert", "success", 1],
          ["always_fails", "failed", 2],
          ["call_api", "success", 2],
        ],
      );
      const try1 = await logs("flaky", run.run_id, "call_api", 1);
      assert.ok(
        try1.some((l) => l.line.includes("503 Service Unavailable (simulated)")),
        `call_api try 1 log lacks the 503 error:\n${try1.map((l) => l.line).join("\n")}`,
      );
      const try2 = await logs("flaky", run.run_id, "call_api", 2);
      assert.ok(try2.some((l) => l.line.includes("api answered")), try2.map((l) => l.line).join("\n"));
      // Match the error text, not "503" alone: a process id in try 2's start line may contain those digits.
      assert.ok(!try2.some((l) => l.line.includes("503 Service Unavailable")), "try 2's log must not contain try 1's lines");
    });

    it("a shell task gets params over 32 KiB as SLUICE_PARAMS_FILE (an environment string that big cannot start a process)", async () => {
      const conf = { blob: "x".repeat(200_000) };
      await triggerRun(store!, "bigparams", { runId: "big_conf", conf });
      await triggerRun(store!, "bigparams", { runId: "small_conf", conf: { n: 1 } });
      for (const runId of ["big_conf", "small_conf"]) {
        await waitFor(`run ${runId} to finish`, async () => ["success", "failed"].includes((await store!.runs.get("bigparams", runId))?.state ?? ""), { timeoutMs: 30_000, context });
      }
      const big = await taskList("bigparams", "big_conf");
      assert.equal(big.get("count")!.state, "success", `${big.get("count")!.error}\n${context()}`);
      const params = (await store!.runs.get("bigparams", "big_conf"))!.params;
      assert.equal(JSON.parse(big.get("count")!.result!), String(Buffer.byteLength(params)), "the file holds the run's params");
      const small = await taskList("bigparams", "small_conf");
      assert.equal(small.get("count")!.state, "failed", "small params come inline, not as a file");
      assert.equal(JSON.parse(small.get("inline")!.result!), (await store!.runs.get("bigparams", "small_conf"))!.params);
    });

    it("a task calling process.exit(1) fails alone: its sibling succeeds and later runs still work", async () => {
      const { run, tasks } = await triggerAndWait("exits", 1);
      assert.equal(run.state, "failed");
      const exited = tasks.get("exit_now")!;
      assert.equal(exited.state, "failed");
      assert.match(exited.error ?? "", /process\.exit\(1\)/);
      assert.equal(tasks.get("sibling")!.state, "success");
      assert.equal(JSON.parse(tasks.get("sibling")!.result!), "sibling ok");
      const later = await triggerAndWait("hello", 0);
      assert.equal(later.run.state, "success");
    });

    it("a task that leaks memory dies at the heap cap and fails alone, with an out-of-memory message", async () => {
      const { run, tasks } = await triggerAndWait("leaks", 1);
      assert.equal(run.state, "failed");
      const leak = tasks.get("leak")!;
      assert.equal(leak.state, "failed");
      assert.match(leak.error ?? "", /ran out of memory/);
      assert.equal(tasks.get("sibling")!.state, "success");
      const later = await triggerAndWait("hello", 0);
      assert.equal(later.run.state, "success");
    });

    it("a run past its runTimeout fails, and the shell command it was running is killed with it", async () => {
      const { run, tasks } = await triggerAndWait("run_timeout", 1);
      assert.equal(run.state, "failed");
      assert.equal(tasks.get("sleepy")!.state, "failed");
      assert.match(tasks.get("sleepy")!.error ?? "", /exceeded its timeout/);
      const pid = Number(readFileSync(join(project.dags, "sleepy.pid"), "utf8").trim());
      assert.ok(pid > 0);
      await waitFor(
        "the shell command's process group to be gone",
        () => {
          try {
            process.kill(-pid, 0);
            return false;
          } catch (err) {
            return (err as NodeJS.ErrnoException).code === "ESRCH";
          }
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
    });

    it("a task over its timeout fails with a timeout message, whether it spins or awaits forever", async () => {
      const { run, tasks } = await triggerAndWait("timeouts", 1);
      assert.equal(run.state, "failed");
      for (const id of ["spin", "hang"]) {
        const t = tasks.get(id)!;
        assert.equal(t.state, "failed", `${id}: ${t.error}`);
        assert.equal(t.try_number, 1);
        assert.match(t.error ?? "", /timeout of 1000 ms/, `${id}: ${t.error}`);
        // Stopped a few seconds after its 1 s timeout, not left running (generous bound for a loaded machine).
        assert.ok(t.end_date! - t.start_date! < 15_000, `${id} ran ${t.end_date! - t.start_date!} ms`);
      }
    });

    it("a DAG file that fails to import is listed with its file and line; the other DAGs still run", async () => {
      const r = await cli("dags", "list", "--json", "--dags", project.dags);
      assert.equal(r.code, 0, show(r));
      const listed = json<{ dags: { dag_id: string; file: string }[]; importErrors: { path: string; line: number | null; message: string }[] }>(r);
      assert.deepEqual(
        listed.dags.map((d) => d.dag_id).sort(),
        ["bigparams", "bigresult", "exits", "flaky", "hello", "leaks", "logs", "ml_features", "run_timeout", "shell_pipeline", "timeouts"],
      );
      assert.equal(listed.importErrors.length, 1, JSON.stringify(listed.importErrors));
      const [err] = listed.importErrors;
      assert.equal(err.path, "fixture_broken.ts");
      assert.equal(err.line, BROKEN_LINE);
      assert.match(err.message, /fixture_broken is broken on purpose/);
      const ok = await triggerAndWait("shell_pipeline", 0);
      assert.equal(ok.run.state, "success");
    });

    it("shell stdout/stderr, ctx.log and console output are in `sluice tasks logs`", async () => {
      const { run, tasks } = await triggerAndWait("logs", 0);
      assert.equal(tasks.get("shell_out")!.state, "success");
      const shell = await logs("logs", run.run_id, "shell_out");
      assert.ok(shell.some((l) => l.stream === "stdout" && l.line.includes("stdout-marker from the shell")), JSON.stringify(shell));
      assert.ok(shell.some((l) => l.stream === "stderr" && l.line.includes("stderr-marker from the shell")), JSON.stringify(shell));
      const fn = await logs("logs", run.run_id, "fn_log");
      assert.ok(fn.some((l) => l.line.includes("ctx-log-marker") && l.line.includes('"rows":3')), JSON.stringify(fn));
      assert.ok(fn.some((l) => l.stream === "stdout" && l.line.includes("console-marker")), JSON.stringify(fn));
      // The human form prints the same lines.
      const text = await cli("tasks", "logs", "logs", run.run_id, "shell_out");
      assert.equal(text.code, 0, show(text));
      assert.match(text.stdout, /stdout-marker from the shell/);
      assert.match(text.stdout, /stderr-marker from the shell/);
    });

    it("a result larger than tasks.maxResultBytes fails the task with a message to return a reference", async () => {
      const { tasks } = await triggerAndWait("bigresult", 1);
      const huge = tasks.get("huge")!;
      assert.equal(huge.state, "failed");
      assert.equal(huge.result, null);
      assert.match(huge.error ?? "", /maxResultBytes/);
      assert.match(huge.error ?? "", /return a reference/);
    });

    it("SIGTERM stops it gracefully: exit code 0, no task or parser process left", async () => {
      const exit = await sa.stop(15_000);
      assert.equal(exit.timedOut, false, `did not exit within 15 s after SIGTERM\n${context()}`);
      assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${context()}`);
      assert.deepEqual(exit.leftovers, [], "processes of the standalone outlived it");
    });
  });
}
