/**
 * The queue executor end to end: a real `sluice scheduler` (executor.kind
 * "queue") and real `sluice worker` processes on the embedded PostgreSQL.
 * Routing by queue, prompt pickup through NOTIFY, SIGTERM hand-back, and
 * kill -9 of a worker (with its task processes) mid-task.
 *
 * Every task appends "<dag>.<task> <try> <worker pid>" to a marker file (the
 * task process's parent is the worker), so the test sees every execution that
 * started and where, whatever the database says.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DbTarget } from "../../src/store/db.js";
import { openStore, type Store } from "../../src/store/store.js";
import { freshTarget, targetUrl } from "../helpers/db.js";
import { killLeftovers, makeProject, runSluice, show, sluiceEnv, SluiceProcess, waitFor, type Project } from "../e2e/helpers.js";

const WORK = `import { appendFileSync, readFileSync } from "node:fs";
const work = (ms: number) => async (ctx: { dagId: string; taskId: string; tryNumber: number }) => {
  appendFileSync(process.env.QUEUE_MARKER!, \`\${ctx.dagId}.\${ctx.taskId} \${ctx.tryNumber} \${process.ppid}\\n\`);
  await new Promise((r) => setTimeout(r, ms));
  return ctx.taskId;
};
// Holds a task until n tasks whose id matches re have started (or 30 s passed): with
// fewer slots than n on one worker, the n-th start must come from another worker,
// however the two race for the queue on a loaded machine.
const barrier = (n: number, re: RegExp, ms: number) => async (ctx: { dagId: string; taskId: string; tryNumber: number }) => {
  appendFileSync(process.env.QUEUE_MARKER!, \`\${ctx.dagId}.\${ctx.taskId} \${ctx.tryNumber} \${process.ppid}\\n\`);
  const started = () => readFileSync(process.env.QUEUE_MARKER!, "utf8").split("\\n").filter((l) => re.test(l.split(" ")[0])).length;
  for (const end = Date.now() + 30_000; started() < n && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, ms));
  return ctx.taskId;
};
`;

const DAGS: Record<string, string> = {
  // start -> 18 parallel tasks (every third on "highmem") -> end. The middle tasks wait
  // until 4 of them have started: the highmem worker has 3 slots, so the default worker
  // must have taken at least one.
  "fanout.ts": `import { dag } from "sluice";
${WORK}export default dag({ id: "fanout", schedule: null, maxActiveTasks: 32 }, (d) => {
  const start = d.task("start", work(10));
  const mid = Array.from({ length: 18 }, (_, i) => d.task(\`m\${i}\`, barrier(4, /^fanout\\.m\\d+$/, 100), { upstream: [start], queue: i % 3 === 0 ? "highmem" : "default" }));
  d.task("end", work(10), { upstream: mid });
});
`,
  "chain.ts": `import { dag } from "sluice";
${WORK}export default dag({ id: "chain", schedule: null }, (d) => {
  let prev = d.task("c0", work(0));
  for (let i = 1; i < 40; i++) prev = d.task(\`c\${i}\`, work(0), { upstream: [prev] });
});
`,
  "drain.ts": `import { dag } from "sluice";
${WORK}export default dag({ id: "drain", schedule: null }, (d) => {
  d.task("long", work(4000), { queue: "drain" });
});
`,
  "crashy.ts": `import { dag } from "sluice";
${WORK}export default dag({ id: "crashy", schedule: null, retries: 1, retryDelay: "1s" }, (d) => {
  d.task("x", work(4000), { queue: "crash" });
  d.task("y", work(4000), { queue: "crash" });
});
`,
};

interface Execution {
  task: string;
  tryNumber: number;
  worker: number;
}

describe("queue executor and sluice worker (postgres)", () => {
  let project: Project;
  let target: DbTarget;
  let env: NodeJS.ProcessEnv;
  let marker: string;
  let store: Store;
  let scheduler: SluiceProcess;
  const procs: { name: string; p: SluiceProcess }[] = [];

  const context = () => procs.map(({ name, p }) => `--- ${name} (pid ${p.pid}) ---\n${p.output().slice(-4000)}`).join("\n");
  const worker = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const p = new SluiceProcess(["worker", "--dags", project.dags, ...args], { ...env, ...extra }, project.dir);
    procs.push({ name, p });
    return p;
  };
  const executions = (dag: string): Execution[] =>
    (existsSync(marker) ? readFileSync(marker, "utf8") : "")
      .split("\n")
      .filter((l) => l.startsWith(`${dag}.`))
      .map((l) => {
        const [task, tryNumber, w] = l.split(" ");
        return { task: task.slice(dag.length + 1), tryNumber: Number(tryNumber), worker: Number(w) };
      });
  const trigger = async (dagId: string, runId: string) => {
    const r = await runSluice(["dags", "trigger", dagId, "--run-id", runId, "--json", "--dags", project.dags], env, { cwd: project.dir });
    assert.equal(r.code, 0, show(r));
  };
  const finished = (dagId: string, runId: string, timeoutMs: number) =>
    waitFor(
      `run ${dagId} ${runId} to finish`,
      async () => {
        const run = await store.runs.get(dagId, runId);
        return run && (run.state === "success" || run.state === "failed") && run;
      },
      { timeoutMs, context, intervalMs: 50 },
    );
  /** Successful tries per task instance: exactly one each, whatever happened on the way. */
  const assertSucceededOnce = async (runPk: number) => {
    for (const t of await store.tasks.forRun(runPk)) {
      assert.equal(t.state, "success", `${t.task_id}: ${t.error}`);
      const ok = (await store.tasks.tries(t.id)).filter((x) => x.state === "success");
      assert.equal(ok.length, 1, `${t.task_id} succeeded ${ok.length} times`);
    }
  };

  before(async () => {
    project = makeProject();
    marker = join(project.dir, "executions.txt");
    for (const [f, text] of Object.entries(DAGS)) writeFileSync(join(project.dags, f), text);
    target = await freshTarget("postgres", "e2e_queue");
    env = sluiceEnv({
      dbUrl: targetUrl(target),
      home: project.home,
      extra: {
        QUEUE_MARKER: marker,
        SLUICE_EXECUTOR__KIND: "queue",
        // A long poll: only NOTIFY can make pickup prompt.
        SLUICE_WORKER__POLL_INTERVAL_MS: "10000",
        SLUICE_SCHEDULER__HEARTBEAT_INTERVAL_MS: "500",
        SLUICE_SCHEDULER__ZOMBIE_THRESHOLD_MS: "3000",
      },
    });
    scheduler = new SluiceProcess(["scheduler", "--dags", project.dags], env, project.dir);
    procs.push({ name: "scheduler", p: scheduler });
    store = await waitFor("the scheduler to create the schema", () => openStore(target), { timeoutMs: 30_000, intervalMs: 250, context });
    await waitFor("the DAGs to be parsed", async () => (await store.db.selectFrom("dag").select("dag_id").execute()).length === 4, { timeoutMs: 30_000, context });
  });

  after(async () => {
    for (const { p } of procs) if (p.alive) await p.stop();
    await store?.close();
    const left = await killLeftovers();
    assert.deepEqual(left, [], "processes were left running");
  });

  let general: SluiceProcess;
  let highmem: SluiceProcess;

  it("runs a wide DAG on two workers, a highmem task only on the worker serving that queue", async () => {
    general = worker("worker default", ["--queues", "default", "--concurrency", "3"]);
    highmem = worker("worker highmem", ["--queues", "highmem,default", "--concurrency", "3"]);
    await waitFor("both workers to register", async () => (await store.jobs.running("worker")).length === 2, { context });
    await trigger("fanout", "fan1");
    const run = await finished("fanout", "fan1", 60_000);
    assert.equal(run.state, "success", context());
    await assertSucceededOnce(run.id);
    const ex = executions("fanout");
    assert.equal(ex.length, 20, "every task started once");
    const high = ex.filter((e) => /^m\d+$/.test(e.task) && Number(e.task.slice(1)) % 3 === 0);
    assert.equal(high.length, 6);
    for (const e of high) assert.equal(e.worker, highmem.pid, `${e.task} ran on worker ${e.worker}, not the highmem worker`);
    assert.ok(ex.some((e) => e.worker === general.pid), "the default worker ran some of the default tasks");
    assert.ok(ex.every((e) => e.worker === general.pid || e.worker === highmem.pid));
  });

  it("picks up work promptly through NOTIFY: 40 sequential tasks finish far faster than the 10 s poll allows", async () => {
    const t0 = Date.now();
    await trigger("chain", "chain1");
    const run = await finished("chain", "chain1", 120_000);
    const took = Date.now() - t0;
    assert.equal(run.state, "success", context());
    await assertSucceededOnce(run.id);
    // Polling alone would need ~5 s per step on average (200 s); NOTIFY makes each hop milliseconds.
    assert.ok(took < 30_000, `40 sequential tasks took ${took} ms`);
  });

  it("SIGTERM of a worker mid-task: it exits 0, the attempt is handed back and runs again elsewhere, nothing lost", async () => {
    const drainer = worker("worker drain (short grace)", ["--queues", "drain"], { SLUICE_WORKER__SHUTDOWN_GRACE_MS: "300" });
    await trigger("drain", "drain1");
    await waitFor("the long task to run on the drain worker", () => executions("drain").some((e) => e.worker === drainer.pid), { context });
    const stopped = await drainer.stop(20_000);
    assert.deepEqual([stopped.code, stopped.timedOut, stopped.leftovers], [0, false, []], context());
    const ti = (await store.tasks.forRun((await store.runs.get("drain", "drain1"))!.id))[0];
    assert.equal(ti.state === "scheduled" || ti.state === "queued", true, `handed back, waiting for a worker: ${ti.state}`);
    const second = worker("worker drain 2", ["--queues", "drain"]);
    const run = await finished("drain", "drain1", 60_000);
    assert.equal(run.state, "success", context());
    await assertSucceededOnce(run.id);
    const tries = await store.tasks.tries(ti.id);
    assert.deepEqual(
      tries.map((t) => t.state),
      ["failed", "success"],
    );
    assert.match(tries[0].error ?? "", /Handed back/);
    // The handed-back try does not use up a retry (the task has none).
    const done = (await store.tasks.get(ti.id))!;
    assert.equal(done.max_tries, 2);
    assert.deepEqual(
      executions("drain").map((e) => [e.tryNumber, e.worker]),
      [
        [1, drainer.pid],
        [2, second.pid],
      ],
    );
  });

  it("kill -9 of a worker and its task processes mid-task: the attempts are retried, every task succeeds exactly once", async () => {
    const victim = worker("worker crash (victim)", ["--queues", "crash", "--concurrency", "2"]);
    await trigger("crashy", "crash1");
    await waitFor("both tasks to run on the victim", () => executions("crashy").filter((e) => e.worker === victim.pid).length === 2, { context });
    // The whole process group: the worker and its task processes, as when a node or pod is lost.
    process.kill(-victim.pid, "SIGKILL");
    await victim.exited;
    const rescuer = worker("worker crash (rescuer)", ["--queues", "crash"]);
    const run = await finished("crashy", "crash1", 60_000);
    assert.equal(run.state, "success", context());
    await assertSucceededOnce(run.id);
    for (const t of await store.tasks.forRun(run.id)) {
      const tries = await store.tasks.tries(t.id);
      assert.deepEqual(
        tries.map((x) => [x.try_number, x.state]),
        [
          [1, "failed"],
          [2, "success"],
        ],
        `${t.task_id}: ${t.error}`,
      );
    }
    const ex = executions("crashy");
    assert.deepEqual(ex.map((e) => `${e.task} ${e.tryNumber} ${e.worker === victim.pid ? "victim" : e.worker === rescuer.pid ? "rescuer" : e.worker}`).sort(), [
      "x 1 victim",
      "x 2 rescuer",
      "y 1 victim",
      "y 2 rescuer",
    ]);
    // The dead worker's job is marked dead by the scheduler's reaper.
    assert.equal((await store.jobs.running("worker")).some((j) => j.pid === victim.pid), false);
  });

  it("stops workers and scheduler cleanly on SIGTERM (exit 0, no process left)", async () => {
    for (const { name, p } of procs) {
      if (!p.alive) continue;
      const r = await p.stop(40_000);
      assert.deepEqual([r.code, r.timedOut, r.leftovers], [0, false, []], `${name}\n${context()}`);
    }
  });
});

describe("queue executor configuration", () => {
  it("refuses executor.kind queue on SQLite, naming the fix (scheduler and worker)", async () => {
    const project = makeProject();
    const env = sluiceEnv({ home: project.home, extra: { SLUICE_EXECUTOR__KIND: "queue" } });
    for (const cmd of ["scheduler", "worker"]) {
      const r = await runSluice([cmd, "--dags", project.dags], env, { cwd: project.dir, timeoutMs: 30_000 });
      assert.notEqual(r.code, 0, show(r));
      assert.match(r.stderr, /queue workers need PostgreSQL/, show(r));
      assert.match(r.stderr, /postgres:\/\//, show(r));
    }
    const help = await runSluice(["worker", "--help"], env, { cwd: project.dir });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Example:\n\s+\$ .*sluice worker --queues default,highmem/);
  });
});
