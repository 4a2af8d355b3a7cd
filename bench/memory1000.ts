/**
 * "Scheduler resident memory with 1,000 DAGs loaded": `sluice scheduler` as a
 * subprocess (as a user runs it) over 1,000 generated DAG files. Once the store
 * shows 1,000 active DAGs and a loop pass has covered all of them (each DAG has
 * its next data interval computed), we let a few more passes run and read
 * VmRSS from /proc: of the scheduler itself (the target) and, labelled apart,
 * summed with its child processes (warm task processes; parser processes only
 * live while files are being imported). RSS is sampled every second over a
 * window (default 30 s) because it saws: the idle loop makes garbage (every
 * re-scan reads and hashes the 1,000 files) that V8 collects in big steps.
 *
 * The DAGs start next year, so no run is due: this measures holding 1,000 DAGs,
 * not executing them.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultConfig } from "../src/config/config.js";
import { openStore } from "../src/store/store.js";
import { freshDbUrl, median, pollUntil, round, sleep, type Benchmark } from "./common.js";
import { writeRealisticDags } from "./dagFiles.js";
import { descendants, groupAlive, statusKb } from "./procs.js";

const FILES = 1000;
const BIN = fileURLToPath(new URL("../../bin/sluice.js", import.meta.url));

export const memory1000: Benchmark = {
  id: "memory1000",
  title: "Scheduler resident memory with 1,000 DAGs loaded",
  async run(ctx) {
    const dir = ctx.scope.tempDir("memory1000");
    const home = join(dir, "home");
    const dagsFolder = join(dir, "dags");
    mkdirSync(home);
    writeRealisticDags(dagsFolder, FILES, { start: `${new Date().getUTCFullYear() + 1}-01-01` });
    const url = await freshDbUrl(ctx, home, "memory1000");
    // Migrate first so we can poll the store while the scheduler starts.
    const store = await openStore(url.startsWith("postgres") ? { dialect: "postgres", url } : { dialect: "sqlite", path: url }, { migrate: true });
    ctx.scope.defer("close store", () => store.close());
    const cfg = defaultConfig();

    // Only our SLUICE_* settings: a stray one in the caller's environment must not change the measurement.
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SLUICE_")));
    env.SLUICE_HOME = home;
    env.SLUICE_DB_URL = url;
    // detached: its own process group, so cleanup can reach every process it started.
    const child = spawn(process.execPath, [BIN, "scheduler", "--dags", dagsFolder], { cwd: home, env, detached: true, stdio: ["ignore", "ignore", "pipe"] });
    const pid = child.pid;
    if (pid === undefined) throw new Error("could not start `sluice scheduler`");
    let stderrTail = "";
    child.stderr!.on("data", (b: Buffer) => (stderrTail = (stderrTail + b.toString()).slice(-4000)));
    let exitInfo: string | undefined;
    const exited = new Promise<void>((resolve) =>
      child.once("exit", (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      }),
    );
    ctx.scope.defer("stop the scheduler process group", async () => {
      if (exitInfo === undefined) child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (groupAlive(pid)) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          /* gone meanwhile */
        }
      }
      await pollUntil("the scheduler's processes to exit", 10_000, 50, async () => (groupAlive(pid) ? undefined : true));
    });
    const assertRunning = () => {
      if (exitInfo !== undefined) throw new Error(`sluice scheduler exited early (${exitInfo}); stderr:\n${stderrTail}`);
    };
    const count = async (where: "active" | "planned") => {
      let q = store.db.selectFrom("dag").select((eb) => eb.fn.countAll<number>().as("n")).where("is_active", "=", 1);
      if (where === "planned") q = q.where("next_interval_end", "is not", null);
      return Number((await q.executeTakeFirstOrThrow()).n);
    };

    const t0 = performance.now();
    await pollUntil(`${FILES} active DAGs`, 300_000, 250, async () => {
      assertRunning();
      return (await count("active")) >= FILES ? true : undefined;
    });
    const loadedMs = performance.now() - t0;
    ctx.progress(`${FILES} DAGs active after ${Math.round(loadedMs)} ms`);
    await pollUntil("a loop pass over every DAG", 60_000, 250, async () => {
      assertRunning();
      return (await count("planned")) >= FILES ? true : undefined;
    });
    // A few more loop passes (and at least one periodic re-scan of the folder within the samples).
    await sleep(3 * cfg.scheduler.loopIntervalMs + 500);

    const own: number[] = [];
    const total: number[] = [];
    let lastChildren: { pid: number; cmd: string; rssMb: number }[] = [];
    const samples = Math.max(1, ctx.options.memoryWindowS);
    for (let i = 0; i < samples; i++) {
      assertRunning();
      const rss = statusKb(pid, "VmRSS");
      if (rss === undefined) throw new Error("could not read the scheduler's VmRSS");
      lastChildren = descendants(pid).map((c) => ({ ...c, rssMb: round((statusKb(c.pid, "VmRSS") ?? 0) / 1024, 1) }));
      own.push(rss / 1024);
      total.push(rss / 1024 + lastChildren.reduce((s, c) => s + c.rssMb, 0));
      if (i < samples - 1) await sleep(1000);
    }
    const hwm = (statusKb(pid, "VmHWM") ?? 0) / 1024;
    const runs = Number((await store.db.selectFrom("dag_run").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
    const maxOwn = Math.max(...own);
    const maxTotal = Math.max(...total);
    ctx.progress(`scheduler VmRSS over ${samples} s: ${Math.round(Math.min(...own))}..${Math.round(maxOwn)} MB; with ${lastChildren.length} children up to ${Math.round(maxTotal)} MB; VmHWM ${Math.round(hwm)} MB`);

    return {
      metrics: [
        { name: `scheduler VmRSS, max over ${samples} s`, value: round(maxOwn, 0), unit: "MB", target: { op: "<=", value: 300 } },
        {
          name: "scheduler + children, summed VmRSS",
          value: round(maxTotal, 0),
          unit: "MB",
          note: `${lastChildren.length} child process(es); shared pages counted in each`,
        },
        { name: `scheduler VmRSS, median over ${samples} s`, value: round(median(own), 0), unit: "MB" },
        { name: "scheduler VmHWM, peak incl. first scan", value: round(hwm, 0), unit: "MB" },
        { name: "until 1,000 DAGs active", value: round(loadedMs / 1000, 1), unit: "s" },
      ],
      samples: { schedulerRssMb: own.map((x) => round(x, 1)), totalRssMb: total.map((x) => round(x, 1)) },
      details: {
        workload: `\`node bin/sluice.js scheduler --dags <${FILES} generated files>\` with SLUICE_HOME and SLUICE_DB_URL, config defaults otherwise`,
        measured: `VmRSS from /proc/<pid>/status after ${FILES} DAGs were active, a loop pass had covered all of them and ~3 more passes ran; one sample a second for ${samples} s (--memory-window), max reported against the target`,
        children: lastChildren,
        runsCreated: runs,
        note:
          runs === 0
            ? "DAG start dates are next year, so no run was due and no task ran during the measurement"
            : `WARNING: ${runs} run(s) were created although no DAG should be due; tasks may have run during the measurement`,
      },
    };
  },
};
