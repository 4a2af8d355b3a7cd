/**
 * The real system in this process for the run benchmarks: createSluice()
 * (scheduler + LocalExecutor with warm task processes) on defaultConfig() with
 * only home, dagsFolder and db.url overridden, plus "trigger a run and time it
 * until it succeeds".
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSluice, type Sluice } from "../src/app/createSluice.js";
import { createLogger } from "../src/app/logger.js";
import { defaultConfig, type SluiceConfig } from "../src/config/config.js";
import { triggerRun } from "../src/runs/createRun.js";
import { freshDbUrl, withTimeout, type BenchContext } from "./common.js";

export interface RunningSluice {
  sluice: Sluice;
  config: SluiceConfig;
  /** Trigger a manual run and resolve with the milliseconds from trigger to the run's success. */
  timeRun(dagId: string, runId: string, timeoutMs: number): Promise<number>;
}

/** Start Sluice on a fresh database with `files` (name -> source) as its DAG folder; stopped when ctx.scope closes. */
export async function startSluice(ctx: BenchContext, label: string, files: Record<string, string>, tune?: (config: SluiceConfig) => void): Promise<RunningSluice> {
  const home = ctx.scope.tempDir(`${label}-home`);
  const dagsFolder = ctx.scope.tempDir(`${label}-dags`);
  for (const [name, src] of Object.entries(files)) writeFileSync(join(dagsFolder, name), src);

  const config = defaultConfig();
  config.home = home;
  config.dagsFolder = dagsFolder;
  config.db.url = await freshDbUrl(ctx, home, label);
  tune?.(config);
  // Warnings and errors only: info lines per run would cost time and clutter the output.
  const log = createLogger("warn");
  const sluice = await createSluice(config, log);
  // Runs last: if start() failed half-way, scheduler.stop() may not reach the executor's processes.
  ctx.scope.defer("stop executor", () => sluice.executor.stop(0));
  ctx.scope.defer("stop sluice", () => sluice.stop(5_000));

  const waiters = new Map<string, (state: string) => void>();
  sluice.scheduler.on((e) => {
    if (e.type === "run:finished") waiters.get(e.runId)?.(e.state);
  });
  await sluice.start();

  // The DAG folder was scanned by start(): every file must have produced its DAG.
  const errors = await sluice.store.dags.importErrors();
  if (errors.length > 0) throw new Error(`generated DAG file failed to import: ${errors[0].path}: ${errors[0].message}`);

  async function describeRun(dagId: string, runId: string): Promise<string> {
    const run = await sluice.store.runs.get(dagId, runId);
    if (!run) return `run ${runId} does not exist`;
    const tis = await sluice.store.tasks.forRun(run.id);
    const byState = new Map<string, number>();
    for (const ti of tis) byState.set(ti.state, (byState.get(ti.state) ?? 0) + 1);
    const failed = tis.find((t) => t.error);
    return `run ${runId} is ${run.state}; tasks ${[...byState].map(([s, n]) => `${s}=${n}`).join(", ")}${failed ? `; first error (${failed.task_id}): ${failed.error}` : ""}`;
  }

  return {
    sluice,
    config,
    async timeRun(dagId, runId, timeoutMs) {
      // Listen before triggering: a fast run must not finish before we wait for it.
      const finished = new Promise<string>((resolve) => waiters.set(runId, resolve));
      const t0 = performance.now();
      await triggerRun(sluice.store, dagId, { runId });
      // An in-process trigger (like an API server next to the scheduler) wakes the loop;
      // a trigger from another process is noticed at the next sweep (scheduler.loopIntervalMs).
      sluice.scheduler.wake();
      let state: string;
      try {
        state = await withTimeout(finished, timeoutMs, () => describeRun(dagId, runId));
      } finally {
        waiters.delete(runId);
      }
      const ms = performance.now() - t0;
      if (state !== "success") throw new Error(`benchmark run did not succeed: ${await describeRun(dagId, runId)}`);
      return ms;
    },
  };
}
