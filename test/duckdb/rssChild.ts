/**
 * Child process of limits.test.ts: runs one DuckDB task attempt over the
 * partition given as JSON in argv[2] and prints its peak memory, so the
 * measurement is of a process doing nothing else (like a task process).
 *
 * argv: <descriptor JSON> <output path> <memoryLimit> <sql>
 */
import { readFileSync } from "node:fs";
import { runDuckdbAttempt } from "./harness.js";

function vmHwmBytes(): number {
  // The kernel's high-water mark of this process's resident set: the true peak, not a sample.
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

const [descJson, output, memoryLimit, sql] = process.argv.slice(2);
const baselineRss = process.memoryUsage().rss;
let sampledPeak = baselineRss;
const sampler = setInterval(() => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
}, 5);
const report = await runDuckdbAttempt((d) => void d.duckdb("agg", { sql: sql!, memoryLimit, threads: 1, output: output! }), "agg", { item: JSON.parse(descJson!) });
clearInterval(sampler);
sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
process.stdout.write(
  JSON.stringify({ baselineRss, sampledPeak, vmHwm: vmHwmBytes(), outcome: report.outcome.kind, error: "error" in report.outcome ? report.outcome.error : undefined, result: report.result, logs: report.logs }) + "\n",
);
