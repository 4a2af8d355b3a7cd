/**
 * Crash safety, end to end: `kill -9` of the standalone in the middle of a run,
 * then a new standalone on the same database, must finish the run without
 * running any attempt twice; `kill -9` of one task process while the
 * scheduler lives must fail that attempt and retry it by policy.
 *
 * Every task appends "<dag>.<task> <try> <pid>" to a marker file (path from the
 * CRASH_MARKER environment variable, which the task processes inherit), so
 * the test sees every execution that actually started, whatever the database
 * says.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DbTarget } from "../../src/store/db.js";
import { openStore, type Store } from "../../src/store/store.js";
import type { TaskInstanceRow } from "../../src/store/taskQueries.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { groupMembers, json, killLeftovers, makeProject, runSluice, show, sluiceEnv, startStandalone, waitFor, type Project, type SluiceProcess } from "./helpers.js";

const CRASH_DAG = `import { appendFileSync } from "node:fs";
import { dag } from "sluice";

const marker = process.env.CRASH_MARKER!;
const work = (ms: number) => async (ctx: { dagId: string; taskId: string; tryNumber: number }) => {
  appendFileSync(marker, \`\${ctx.dagId}.\${ctx.taskId} \${ctx.tryNumber} \${process.pid}\\n\`);
  await new Promise((r) => setTimeout(r, ms));
  return \`\${ctx.taskId} done\`;
};

// a -> (b, c, e in parallel) -> f -> g. Retries are allowed, so a wrongly
// failed attempt would show up as a second try instead of a failed run.
export default dag({ id: "crash", schedule: null, retries: 2, retryDelay: "1s" }, (d) => {
  const a = d.task("a", work(1000));
  const b = d.task("b", work(2500), { upstream: [a] });
  const c = d.task("c", work(1300), { upstream: [a] });
  const e = d.task("e", work(1200), { upstream: [a] });
  const f = d.task("f", work(1000), { upstream: [b, c, e] });
  d.task("g", work(1000), { upstream: [f] });
});
`;

const VICTIM_DAG = `import { appendFileSync } from "node:fs";
import { dag } from "sluice";

// Try 1 waits long enough to be killed by the test; the retry finishes at once.
export default dag({ id: "victim", schedule: null }, (d) => {
  d.task("long", async (ctx) => {
    appendFileSync(process.env.CRASH_MARKER!, \`\${ctx.dagId}.\${ctx.taskId} \${ctx.tryNumber} \${process.pid}\\n\`);
    if (ctx.tryNumber === 1) await new Promise((r) => setTimeout(r, 30_000));
    return { try: ctx.tryNumber };
  }, { retries: 1, retryDelay: "1s" });
});
`;

interface Execution {
  task: string;
  tryNumber: number;
  pid: number;
}

for (const dialect of DIALECTS) {
  describe(`crash safety on ${dialect}`, () => {
    let project: Project;
    let target: DbTarget;
    let env: NodeJS.ProcessEnv;
    let marker: string;
    let store: Store | undefined;
    const standalones: SluiceProcess[] = [];

    const start = () => {
      const sa = startStandalone(project.dags, env, project.dir);
      standalones.push(sa);
      return sa;
    };
    const context = () => standalones.map((s, i) => `--- standalone #${i + 1} (pid ${s.pid}) ---\n${s.output().slice(-5000)}`).join("\n");
    const executions = (): Execution[] =>
      (existsSync(marker) ? readFileSync(marker, "utf8") : "")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [task, tryNumber, pid] = l.split(" ");
          return { task, tryNumber: Number(tryNumber), pid: Number(pid) };
        });

    async function trigger(dagId: string, runId: string): Promise<void> {
      const r = await runSluice(["dags", "trigger", dagId, "--run-id", runId, "--json", "--dags", project.dags], env, { cwd: project.dir });
      assert.equal(r.code, 0, show(r));
    }

    async function runFinished(dagId: string, runId: string, timeoutMs: number) {
      return waitFor(
        `run ${dagId} ${runId} to finish`,
        async () => {
          const run = await store!.runs.get(dagId, runId);
          return run && (run.state === "success" || run.state === "failed") && run;
        },
        { timeoutMs, context },
      );
    }

    before(async () => {
      project = makeProject();
      marker = join(project.dir, "executions.txt");
      writeFileSync(join(project.dags, "crash.ts"), CRASH_DAG);
      writeFileSync(join(project.dags, "victim.ts"), VICTIM_DAG);
      target = await freshTarget(dialect, "e2e_crash");
      env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home, extra: { CRASH_MARKER: marker, SLUICE_EXECUTOR__SLOTS: "3" } });
    });

    after(async () => {
      for (const s of standalones) if (s.alive) await s.stop();
      await store?.close();
      const left = await killLeftovers();
      assert.deepEqual(left, [], "processes were left running");
    });

    it("kill -9 of the standalone mid-run, then a restart: the run finishes and no attempt runs twice", async () => {
      const first = start();
      store = await waitFor("the standalone to create the schema", () => openStore(target), { timeoutMs: 30_000, intervalMs: 250, context });
      await trigger("crash", "crash_run");

      // Kill it while work is in flight: at least one task done, at least one running.
      const inFlight = await waitFor(
        "one task to succeed while another runs",
        async () => {
          const run = await store!.runs.get("crash", "crash_run");
          if (!run) return undefined;
          const tis = await store!.tasks.forRun(run.id);
          const running = tis.filter((t) => t.state === "running" && t.pid != null);
          return tis.some((t) => t.state === "success") && running.length > 0 && running;
        },
        { timeoutMs: 30_000, intervalMs: 50, context },
      );
      const killed = await first.kill9();
      assert.equal(killed.signal, "SIGKILL");

      start();
      const run = await runFinished("crash", "crash_run", 45_000);
      assert.equal(run.state, "success", context());

      const tis = await store!.tasks.forRun(run.id);
      assert.deepEqual(tis.map((t) => t.task_id).sort(), ["a", "b", "c", "e", "f", "g"]);
      const finalTry = new Map<string, number>();
      for (const t of tis) {
        // Adopted, not retried: an attempt running at the crash finishes as try 1. An attempt the dead
        // scheduler had only queued (never started) is dispatched again under the next try number
        // (a try number names one attempt only), without using up a retry.
        assert.equal(t.state, "success", `${t.task_id}: ${t.error}`);
        assert.ok(t.try_number === 1 || t.try_number === 2, `${t.task_id} is on try ${t.try_number}: ${t.error}`);
        const tries = await store!.tasks.tries(t.id);
        assert.deepEqual(tries.map((x) => [x.try_number, x.state]), [[t.try_number, "success"]], `${t.task_id} has exactly one recorded try`);
        finalTry.set(t.task_id, t.try_number);
      }
      // Every task started exactly once, in any process, on the try that succeeded.
      const started = executions().filter((e) => e.task.startsWith("crash."));
      assert.deepEqual(
        started.map((e) => `${e.task} ${e.tryNumber}`).sort(),
        ["a", "b", "c", "e", "f", "g"].map((t) => `crash.${t} ${finalTry.get(t)}`),
        `executions:\n${started.map((e) => `${e.task} ${e.tryNumber} ${e.pid}`).join("\n")}`,
      );
      // What was running at the crash was finished by the same process that started it.
      for (const was of inFlight as TaskInstanceRow[]) {
        const now = tis.find((t) => t.id === was.id)!;
        assert.equal(now.pid, was.pid, `${was.task_id} finished in another process`);
        assert.equal(started.find((e) => e.task === `crash.${was.task_id}`)?.pid, was.pid);
      }
    });

    it("kill -9 of a task process while the scheduler lives: that attempt fails and is retried", async () => {
      if (!standalones.some((s) => s.alive)) start();
      store ??= await waitFor("the standalone to create the schema", () => openStore(target), { timeoutMs: 30_000, intervalMs: 250, context });
      await trigger("victim", "victim_run");

      // As a user would: find the pid with `sluice tasks list --json`.
      const pid = await waitFor(
        "the task to be running with a pid",
        async () => {
          const r = await runSluice(["tasks", "list", "victim", "victim_run", "--json"], env, { cwd: project.dir });
          if (r.code !== 0) return undefined;
          const long = json<TaskInstanceRow[]>(r).find((t) => t.task_id === "long");
          // The marker line shows the task code itself is running, not just the claim.
          const started = executions().some((e) => e.task === "victim.long" && e.tryNumber === 1);
          return long?.state === "running" && long.pid != null && started && long.pid;
        },
        { timeoutMs: 30_000, intervalMs: 200, context },
      );
      process.kill(pid, "SIGKILL");

      const run = await runFinished("victim", "victim_run", 30_000);
      assert.equal(run.state, "success", context());
      const [ti] = await store!.tasks.forRun(run.id);
      assert.equal(ti.state, "success");
      assert.equal(ti.try_number, 2);
      assert.deepEqual(JSON.parse(ti.result!), { try: 2 });
      const tries = await store!.tasks.tries(ti.id);
      assert.deepEqual(
        tries.map((t) => t.try_number),
        [1, 2],
      );
      // Try 1 failed (recorded as the state it left the instance in: up for retry) because its process died.
      assert.equal(tries[0].state, "failed", "the killed try is recorded as failed");
      assert.match(tries[0].error ?? "", /signal SIGKILL/);
      assert.equal(tries[1].state, "success");
      const runs = executions().filter((e) => e.task === "victim.long");
      assert.deepEqual(
        runs.map((e) => e.tryNumber),
        [1, 2],
      );
      assert.equal(runs[0].pid, pid);
      assert.notEqual(runs[1].pid, pid, "the retry ran in a fresh process");

      // The user sees why try 1 failed.
      const r = await runSluice(["tasks", "logs", "victim", "victim_run", "long", "--try", "1"], env, { cwd: project.dir });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /task process ended while running the task \(signal SIGKILL/);
    });

    it("the restarted standalone stops cleanly on SIGTERM", async () => {
      const live = standalones.filter((s) => s.alive);
      assert.ok(live.length > 0, "no standalone is running");
      for (const s of live) {
        const exit = await s.stop(15_000);
        assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${context()}`);
        assert.deepEqual(exit.leftovers, []);
      }
      // The killed one's orphaned task processes finished their attempts and exited too.
      for (const s of standalones) {
        await waitFor(`the processes standalone ${s.pid} started to exit`, () => groupMembers(s.pid).length === 0, { timeoutMs: 10_000 });
      }
    });
  });
}
