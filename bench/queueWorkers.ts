/**
 * "Queue executor with 1, 2 and 4 workers" (issue 5): the scheduler runs in
 * this process with executor.kind "queue" and queues attempts in PostgreSQL;
 * `node bin/sluice.js worker` subprocesses (concurrency 4 each) claim them
 * (FOR UPDATE SKIP LOCKED, woken by NOTIFY) and run them in warm task
 * processes. Workload: one DAG of 2,000 independent no-op tasks.
 *
 * Measured per worker count: dispatch throughput, tasks/s = N / (trigger ->
 * run success), and pickup latency queued -> running per task instance, from
 * task_instance.queued_at and start_date (p50, p99 over all instances of the
 * measured runs). PostgreSQL only: SQLite has no SKIP LOCKED or NOTIFY, and
 * the config refuses executor.kind "queue" on it.
 *
 * Targets (issue 5): >= 2,000 tasks/s, pickup p50 <= 10 ms.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { sql } from "kysely";
import { fileURLToPath } from "node:url";
import { median, pollUntil, round, sleep, type Benchmark, type BenchContext, type Metric } from "./common.js";
import { independentDagSource } from "./dagFiles.js";
import { startSluice, type RunningSluice } from "./inProcess.js";
import { descendants, groupAlive } from "./procs.js";

const TASKS = 2000;
const RUNS = 3;
const WORKER_COUNTS = [1, 2, 4] as const;
const CONCURRENCY = 4;
const DAG_ID = "bench_queue2000";
/** One task, run IDLE_RUNS times on idle workers: pickup without any queue in front of it. */
const ONE_ID = "bench_queue1";
const IDLE_RUNS = 20;
const BIN = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url));

/** The q-quantile (0..1) of `xs`, nearest rank. */
function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** CPU of `pid` and all its live descendants (with the children they reaped), in ms (clock ticks of 10 ms, Linux USER_HZ = 100). */
function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of [pid, ...descendants(pid).map((d) => d.pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime + stime, and cutime + cstime: the CPU of children it has reaped (task processes that
      // exited between two readings would otherwise take their CPU out of the sum).
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      /* exited meanwhile */
    }
  }
  return ticks * 10;
}

/** The embedded server's postmaster: the process started with `-p <port>` (its backends are its children). */
function postmasterPid(port: number): number | undefined {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      const i = args.indexOf("-p");
      if (i >= 0 && args[i + 1] === String(port) && args.includes("-D")) return Number(name);
    } catch {
      /* exited meanwhile */
    }
  }
  return undefined;
}

interface WorkerProc {
  pid: number;
  stderrTail(): string;
  exitInfo(): string | undefined;
  stop(): Promise<void>;
}

/** One `sluice worker` in its own process group (cleanup reaches its task processes too). */
function startWorker(ctx: BenchContext, s: RunningSluice, index: number): WorkerProc {
  // Only our SLUICE_* settings: a stray one in the caller's environment must not change the measurement.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SLUICE_")));
  // Same home as the in-process scheduler: the workers need its secrets key.
  env.SLUICE_HOME = s.config.home;
  env.SLUICE_DB_URL = s.config.db.url;
  const child = spawn(process.execPath, [BIN, "worker", "--dags", s.config.dagsFolder, "--concurrency", String(CONCURRENCY)], {
    cwd: s.config.home,
    env,
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start sluice worker #${index}`);
  let tail = "";
  child.stderr!.on("data", (b: Buffer) => (tail = (tail + b.toString()).slice(-4000)));
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    }),
  );
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (exitInfo === undefined) child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (groupAlive(pid)) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          /* gone meanwhile */
        }
      }
      await pollUntil(`worker #${index}'s processes to exit`, 10_000, 50, async () => (groupAlive(pid) ? undefined : true));
    })());
  ctx.scope.defer(`stop worker #${index}`, stop);
  return { pid, stderrTail: () => tail, exitInfo: () => exitInfo, stop };
}

/** queued_at -> start_date of every task instance of one run, in ms. */
async function pickupLatencies(s: RunningSluice, runId: string, dagId = DAG_ID, tasks = TASKS): Promise<number[]> {
  const rows = await s.sluice.store.db
    .selectFrom("task_instance")
    .select(["queued_at", "start_date"])
    .where("dag_id", "=", dagId)
    .where("run_id", "=", runId)
    .execute();
  if (rows.length !== tasks) throw new Error(`run ${runId} has ${rows.length} task instances, expected ${tasks}`);
  return rows.map((r) => {
    if (r.queued_at == null || r.start_date == null) throw new Error(`run ${runId}: a task instance has no queued_at or start_date`);
    return Number(r.start_date) - Number(r.queued_at);
  });
}

export const queueWorkers: Benchmark = {
  id: "queueWorkers",
  title: "Queue executor: 2,000 no-op tasks on 1, 2, 4 workers",
  async run(ctx) {
    if (ctx.dialect !== "postgres") {
      ctx.progress("skipped: the queue executor needs PostgreSQL (FOR UPDATE SKIP LOCKED, LISTEN/NOTIFY)");
      return { metrics: [], samples: {}, details: { skipped: "the queue executor and sluice worker are PostgreSQL only" } };
    }
    const s = await startSluice(ctx, "queueWorkers", { "bench_queue2000.ts": independentDagSource(DAG_ID, TASKS), "bench_queue1.ts": independentDagSource(ONE_ID, 1) }, (c) => {
      c.executor.kind = "queue";
    });
    const pgPid = postmasterPid(ctx.pg!.port);
    // Committed transactions in the benchmark database (pg_stat_database). Backends flush these counters late
    // (up to 10 s after they go idle), so they are read only around all measured runs, after a quiet 11 s.
    const commits = async () => {
      await sleep(11_000);
      const r = await sql<{ n: string }>`select xact_commit as n from pg_stat_database where datname = current_database()`.execute(s.sluice.store.db);
      return Number(r.rows[0]?.n ?? 0);
    };
    const metrics: Metric[] = [];
    const samples: Record<string, number[]> = {};
    const perCount: Record<string, unknown> = {};
    for (const n of WORKER_COUNTS) {
      const workers = Array.from({ length: n }, (_, i) => startWorker(ctx, s, i + 1));
      const context = () => workers.map((w, i) => `--- worker #${i + 1} (pid ${w.pid}${w.exitInfo() ? `, ${w.exitInfo()}` : ""}) ---\n${w.stderrTail()}`).join("\n");
      await pollUntil(`${n} worker(s) to register`, 60_000, 100, async () => {
        const dead = workers.find((w) => w.exitInfo() !== undefined);
        if (dead) throw new Error(`sluice worker exited early (${dead.exitInfo()}):\n${context()}`);
        const rows = await s.sluice.store.db
          .selectFrom("scheduler_job")
          .select("pid")
          .where("kind", "=", "worker")
          .where("state", "=", "running")
          .where("pid", "in", workers.map((w) => w.pid))
          .execute();
        return rows.length === n ? true : undefined;
      });
      // The warm-up starts every worker's task processes, loads the DAG in them and fills the caches.
      let warmup: number;
      try {
        warmup = await s.timeRun(DAG_ID, `w${n}_warmup`, 600_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${context()}`);
      }
      ctx.progress(`${n} worker(s): warm-up ${Math.round(warmup)} ms (${Math.round((TASKS * 1000) / warmup)} tasks/s)`);
      const ms: number[] = [];
      const lat: number[] = [];
      const cpu = { scheduler: 0, workers: 0, postgres: 0 };
      const commitsBefore = await commits();
      for (let i = 1; i <= RUNS; i++) {
        const runId = `w${n}_run_${i}`;
        // Where the CPU goes: this process (scheduler), the workers with their task processes, PostgreSQL; and commits.
        const before = { self: process.cpuUsage(), workers: workers.reduce((a, w) => a + treeCpuMs(w.pid), 0), pg: pgPid ? treeCpuMs(pgPid) : 0 };
        ms.push(await s.timeRun(DAG_ID, runId, 600_000));
        const self = process.cpuUsage(before.self);
        cpu.scheduler += (self.user + self.system) / 1000;
        cpu.workers += workers.reduce((a, w) => a + treeCpuMs(w.pid), 0) - before.workers;
        cpu.postgres += pgPid ? treeCpuMs(pgPid) - before.pg : 0;
        const l = await pickupLatencies(s, runId);
        lat.push(...l);
        ctx.progress(
          `${n} worker(s), run ${i}/${RUNS}: ${Math.round(ms[ms.length - 1])} ms (${Math.round((TASKS * 1000) / ms[ms.length - 1])} tasks/s), pickup p50 ${quantile(l, 0.5)} ms, p99 ${quantile(l, 0.99)} ms`,
        );
      }
      const commitsPerTask = ((await commits()) - commitsBefore) / (RUNS * TASKS);
      const per = (x: number) => round(x / (RUNS * TASKS), 2);
      ctx.progress(`${n} worker(s): CPU ms per task: scheduler ${per(cpu.scheduler)}, workers + task processes ${per(cpu.workers)}, PostgreSQL ${per(cpu.postgres)}; ${round(commitsPerTask, 2)} commits per task`);
      // Idle workers, one task at a time: the pickup path alone (NOTIFY -> claim -> task process -> running), no queue wait.
      const idle: number[] = [];
      for (let i = 1; i <= IDLE_RUNS; i++) {
        const runId = `w${n}_one_${i}`;
        await s.timeRun(ONE_ID, runId, 60_000);
        idle.push(...(await pickupLatencies(s, runId, ONE_ID, 1)));
      }
      ctx.progress(`${n} worker(s), one task on idle workers × ${IDLE_RUNS}: pickup median ${median(idle)} ms, max ${Math.max(...idle)} ms`);
      const rates = ms.map((x) => (TASKS * 1000) / x);
      const p50 = quantile(lat, 0.5);
      const p99 = quantile(lat, 0.99);
      metrics.push(
        { name: `${n} worker${n > 1 ? "s" : ""} × ${CONCURRENCY}, median of ${RUNS}`, value: round(median(rates), 0), unit: "tasks/s", target: { op: ">=", value: 2000 } },
        { name: `${n} worker${n > 1 ? "s" : ""}, pickup queued → running p50`, value: p50, unit: "ms", target: { op: "<=", value: 10 } },
        { name: `${n} worker${n > 1 ? "s" : ""}, pickup queued → running p99`, value: p99, unit: "ms" },
        { name: `${n} worker${n > 1 ? "s" : ""}, pickup of one task on idle workers, median of ${IDLE_RUNS}`, value: median(idle), unit: "ms" },
      );
      samples[`w${n}_idlePickupMs`] = idle;
      samples[`w${n}_tasksPerSecond`] = rates.map((x) => round(x, 1));
      samples[`w${n}_runMs`] = ms.map((x) => round(x, 1));
      samples[`w${n}_warmupMs`] = [round(warmup, 1)];
      perCount[`workers${n}`] = {
        cpuMsPerTask: {
          schedulerProcess: round(cpu.scheduler / (RUNS * TASKS), 2),
          workersAndTaskProcesses: round(cpu.workers / (RUNS * TASKS), 2),
          postgres: pgPid ? round(cpu.postgres / (RUNS * TASKS), 2) : null,
        },
        commitsPerTask: round(commitsPerTask, 2),
        pickupMs: { p50, p90: quantile(lat, 0.9), p99, max: Math.max(...lat), min: Math.min(...lat), instances: lat.length },
      };
      // Stopped before the next count starts: its warm task processes must not compete for the CPU.
      await Promise.all(workers.map((w) => w.stop()));
    }
    return {
      metrics,
      samples,
      details: {
        workload: `${TASKS} independent function tasks in one DAG run, each returns nothing`,
        measured:
          "scheduler in this process (createSluice, executor.kind queue) + N `node bin/sluice.js worker --concurrency 4` subprocesses; " +
          "triggerRun() + scheduler.wake() until run:finished success, tasks/s = 2000 / that time; pickup = task_instance.start_date - queued_at " +
          "(ms timestamps written by the scheduler and the task process) over every instance of the measured runs, nearest-rank quantiles",
        workerCounts: WORKER_COUNTS,
        workerConcurrency: CONCURRENCY,
        warmupRunsPerCount: 1,
        runsPerCount: RUNS,
        parallelism: s.config.scheduler.parallelism,
        workerPollIntervalMs: s.config.worker.pollIntervalMs,
        idleRunsPerCount: IDLE_RUNS,
        note: "pickup includes the time an instance waits queued for a free worker slot: the dispatcher keeps up to scheduler.parallelism instances queued+running",
        ...perCount,
      },
    };
  },
};
