/**
 * A real Spark standalone cluster for the Spark tests: one master and two
 * workers (1 core, 1 GiB each) on 127.0.0.1, started from the pyspark
 * package that scripts/ensureSpark.mjs installs (scripts/test.mjs passes its
 * SPARK_HOME and Python in SLUICE_TEST_SPARK_HOME / SLUICE_TEST_SPARK_PYTHON).
 * The pip package has no sbin/start-master.sh, so the daemons are started with
 * bin/spark-class directly, each in its own process group (the workers'
 * executor and driver JVMs are in the worker's group), and stopped by group.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface SparkInstall {
  sparkHome: string;
  python: string;
}

/** Where ensureSpark put Spark; a clear error when the test was not started through scripts/test.mjs. */
export function sparkInstall(): SparkInstall {
  const sparkHome = process.env.SLUICE_TEST_SPARK_HOME;
  const python = process.env.SLUICE_TEST_SPARK_PYTHON;
  if (!sparkHome || !python) {
    throw new Error("SLUICE_TEST_SPARK_HOME / SLUICE_TEST_SPARK_PYTHON are not set: run Spark tests through `node scripts/test.mjs dist/test/spark/<file>.test.js`, which installs pyspark (scripts/ensureSpark.mjs).");
  }
  return { sparkHome, python };
}

/** JAVA_HOME of the machine's `java` (Java 17 here), unless JAVA_HOME is set. */
function javaHome(): string | undefined {
  if (process.env.JAVA_HOME) return process.env.JAVA_HOME;
  const which = spawnSync("sh", ["-c", "command -v java"], { encoding: "utf8" }).stdout.trim();
  return which ? dirname(dirname(realpathSync(which))) : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface SparkCluster {
  master: string;
  host: string;
  port: number;
  webUiUrl: string;
  restUrl: string;
  sparkHome: string;
  python: string;
  /** The master's /json/ document. */
  status(): Promise<any>;
  /** Wait until `cond(status)` holds (polled every 200 ms). */
  waitFor(cond: (s: any) => boolean, ms: number, what: string): Promise<any>;
  /** Kills every daemon (and the executors/drivers their groups hold); resolves when all exited. */
  stop(): Promise<void>;
  /** Process group ids of the daemons (to check nothing is left). */
  groups: number[];
  /** Milliseconds from the first spawn to two alive workers. */
  startMs: number;
}

export async function startSparkCluster(dir: string): Promise<SparkCluster> {
  const { sparkHome, python } = sparkInstall();
  mkdirSync(dir, { recursive: true });
  const [port, uiPort, restPort] = [await freePort(), await freePort(), await freePort()];
  const host = "127.0.0.1";
  const master = `spark://${host}:${port}`;
  const webUiUrl = `http://${host}:${uiPort}`;
  const restUrl = `http://${host}:${restPort}`;
  const jh = javaHome();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SPARK_HOME: sparkHome,
    SPARK_LOCAL_IP: host,
    PYSPARK_PYTHON: python,
    ...(jh ? { JAVA_HOME: jh } : {}),
    SPARK_MASTER_OPTS: `-Dspark.master.rest.enabled=true -Dspark.master.rest.port=${restPort} -Dspark.master.rest.host=${host}`,
    // Small daemons: the machine has 2 cores and other tests run beside these.
    SPARK_DAEMON_MEMORY: "512m",
  };
  const procs: ChildProcess[] = [];
  const started = Date.now();
  const launch = (name: string, args: string[]) => {
    const fd = openSync(join(dir, `${name}.log`), "a");
    const p = spawn(join(sparkHome, "bin", "spark-class"), args, { env, stdio: ["ignore", fd, fd], detached: true });
    closeSync(fd);
    procs.push(p);
    return p;
  };
  launch("master", ["org.apache.spark.deploy.master.Master", "--host", host, "--port", String(port), "--webui-port", String(uiPort)]);
  for (const n of [1, 2]) {
    const work = join(dir, `worker${n}`);
    mkdirSync(work, { recursive: true });
    launch(`worker${n}`, ["org.apache.spark.deploy.worker.Worker", "--host", host, "--webui-port", "0", "--cores", "1", "--memory", "1g", "--work-dir", work, master]);
  }

  const status = async () => {
    const res = await fetch(`${webUiUrl}/json/`, { signal: AbortSignal.timeout(5_000) });
    return res.json();
  };
  const waitFor = async (cond: (s: any) => boolean, ms: number, what: string) => {
    const deadline = Date.now() + ms;
    let last: any;
    for (;;) {
      try {
        last = await status();
        if (cond(last)) return last;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last /json/: ${JSON.stringify(last)?.slice(0, 2000)}`);
      for (const p of procs) {
        if (p.exitCode !== null) throw new Error(`a Spark daemon exited (code ${p.exitCode}); logs in ${dir}:\n${readLogs(dir)}`);
      }
      await sleep(200);
    }
  };
  const stop = async () => {
    const exits = procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once("exit", () => r()))));
    for (const p of procs) killGroup(p.pid!, "SIGTERM");
    await Promise.race([Promise.all(exits), sleep(5_000)]);
    for (const p of procs) killGroup(p.pid!, "SIGKILL");
    await Promise.all(exits);
    // Executor and driver JVMs the workers started are in the workers' groups; SIGKILL reaches them too.
    const deadline = Date.now() + 10_000;
    while (procs.some((p) => liveMembers(p.pid!).length > 0) && Date.now() < deadline) await sleep(100);
  };
  try {
    await waitFor((s) => s.aliveworkers === 2, 120_000, "a master with two alive workers");
  } catch (err) {
    await stop();
    throw err;
  }
  return { master, host, port, webUiUrl, restUrl, sparkHome, python, status, waitFor, stop, groups: procs.map((p) => p.pid!), startMs: Date.now() - started };
}

/** Processes of group `pgid` that are alive (not zombies waiting to be reaped), from /proc. */
export function liveMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) out.push(Number(name));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* gone */
  }
}

function readLogs(dir: string): string {
  return ["master", "worker1", "worker2"]
    .map((n) => {
      try {
        return `--- ${n} ---\n${readFileSync(join(dir, `${n}.log`), "utf8").slice(-3000)}`;
      } catch {
        return "";
      }
    })
    .join("\n");
}
