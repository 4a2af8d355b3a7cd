/**
 * "1,000 independent no-op tasks in one run": executor + scheduler throughput.
 * tasks/s = 1000 / (trigger -> run success). One warm-up run, then 3 measured.
 */
import { median, round, type Benchmark } from "./common.js";
import { independentDagSource } from "./dagFiles.js";
import { startSluice } from "./inProcess.js";

const TASKS = 1000;
const RUNS = 3;
const DAG_ID = "bench_fanout1000";

export const fanout1000: Benchmark = {
  id: "fanout1000",
  title: "1,000 independent no-op tasks in one run",
  async run(ctx) {
    const s = await startSluice(ctx, "fanout1000", { "bench_fanout1000.ts": independentDagSource(DAG_ID, TASKS) });
    const warmup = await s.timeRun(DAG_ID, "warmup", 600_000);
    ctx.progress(`warm-up ${Math.round(warmup)} ms (${Math.round((TASKS * 1000) / warmup)} tasks/s)`);
    const ms: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      ms.push(await s.timeRun(DAG_ID, `run_${i}`, 600_000));
      ctx.progress(`run ${i}/${RUNS}: ${Math.round(ms[ms.length - 1])} ms (${Math.round((TASKS * 1000) / ms[ms.length - 1])} tasks/s)`);
    }
    const rates = ms.map((x) => (TASKS * 1000) / x);
    return {
      metrics: [
        { name: `median of ${RUNS}`, value: round(median(rates), 0), unit: "tasks/s", target: { op: ">=", value: 500 } },
        { name: `median wall time`, value: round(median(ms), 0), unit: "ms" },
      ],
      samples: { tasksPerSecond: rates.map((x) => round(x, 1)), runMs: ms.map((x) => round(x, 1)), warmupMs: [round(warmup, 1)] },
      details: {
        workload: `${TASKS} independent function tasks in one DAG run, each returns nothing`,
        measured: "triggerRun() + scheduler.wake() until run:finished success; tasks/s = 1000 / that time",
        warmupRuns: 1,
        runs: RUNS,
        executorSlots: s.config.executor.slots,
        tasksPerProcess: s.config.executor.tasksPerProcess,
        parallelism: s.config.scheduler.parallelism,
      },
    };
  },
};
