/**
 * "40 sequential no-op tasks": the public workload used to compare
 * orchestrators' scheduling latency. 40 function tasks, each depending on the
 * previous one, returning nothing; wall time from trigger to run success.
 * One warm-up run (task processes start, DAG module loads), then 5 measured runs.
 */
import { median, min, round, type Benchmark } from "./common.js";
import { sequentialDagSource } from "./dagFiles.js";
import { startSluice } from "./inProcess.js";

const TASKS = 40;
const RUNS = 5;
const DAG_ID = "bench_seq40";

export const seq40: Benchmark = {
  id: "seq40",
  title: "40 sequential no-op tasks",
  async run(ctx) {
    const s = await startSluice(ctx, "seq40", { "bench_seq40.ts": sequentialDagSource(DAG_ID, TASKS) });
    const warmup = await s.timeRun(DAG_ID, "warmup", 120_000);
    ctx.progress(`warm-up ${Math.round(warmup)} ms`);
    const samples: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      samples.push(await s.timeRun(DAG_ID, `run_${i}`, 120_000));
      ctx.progress(`run ${i}/${RUNS}: ${Math.round(samples[samples.length - 1])} ms`);
    }
    return {
      metrics: [
        { name: `median of ${RUNS}`, value: round(median(samples), 0), unit: "ms", target: { op: "<=", value: 1000 } },
        { name: `min of ${RUNS}`, value: round(min(samples), 0), unit: "ms" },
      ],
      samples: { runMs: samples.map((x) => round(x, 1)), warmupMs: [round(warmup, 1)] },
      details: {
        workload: `${TASKS} function tasks in a chain (each depends on the previous), each returns nothing`,
        measured: "triggerRun() + scheduler.wake() until the scheduler's run:finished event with state success",
        warmupRuns: 1,
        runs: RUNS,
        executorSlots: s.config.executor.slots,
        loopIntervalMs: s.config.scheduler.loopIntervalMs,
      },
    };
  },
};
