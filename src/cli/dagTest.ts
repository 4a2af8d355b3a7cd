import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SluiceConfig } from "../config/config.js";
import { createLogger } from "../app/logger.js";
import { InProcessExecutor } from "../executors/inProcessExecutor.js";
import { DagProcessor } from "../parser/dagProcessor.js";
import { ParserPool } from "../parser/parserPool.js";
import { triggerRun } from "../runs/createRun.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { openStore } from "../store/store.js";
import { duration } from "./format.js";

export interface DagTestReport {
  dagId: string;
  runId: string;
  state: string;
  duration: string;
  /** One entry per task instance: a mapped task's instances carry their mapIndex. */
  tasks: { task: string; mapIndex?: number; state: string; tries: number; duration: string; result?: string; error?: string }[];
}

/**
 * `sluice dags test`: one run of one DAG, start to end, in this process, on a
 * throwaway SQLite database that is deleted afterwards. Retries and trigger
 * rules behave as in production; nothing touches the real metadata database.
 */
export async function testDag(config: SluiceConfig, dagId: string, conf: Record<string, unknown>, logicalDate: Date | undefined, quiet: boolean): Promise<DagTestReport> {
  const home = await mkdtemp(join(tmpdir(), "sluice-dags-test-"));
  const store = await openStore({ dialect: "sqlite", path: join(home, "test.db") }, { migrate: true });
  const log = createLogger(quiet ? "warn" : config.logging.level);
  const pool = new ParserPool({ processes: config.parsing.processes, timeoutMs: config.parsing.timeoutMs });
  try {
    await store.pools.ensureDefault(config.scheduler.defaultPoolSlots);
    await new DagProcessor(store, pool, config.dagsFolder).scan();
    await pool.stop();
    // Only the DAG under test runs: the others would get scheduled (or dataset-triggered) runs in this throwaway database.
    for (const other of await store.dags.list({})) if (other.dag_id !== dagId) await store.dags.setPaused(other.dag_id, true, Date.now());
    const run = await triggerRun(store, dagId, { conf, logicalDate });
    let scheduler: Scheduler | undefined;
    const executor = new InProcessExecutor({
      store,
      dagsFolder: config.dagsFolder,
      slots: config.executor.slots,
      maxResultBytes: config.tasks.maxResultBytes,
      secrets: { home: config.home, secrets: config.secrets },
      log,
      onFinished: (ti, pk, taskId, state) => scheduler?.onAttemptFinished(ti, pk, taskId, state),
    });
    scheduler = new Scheduler(store, executor, undefined, { ...config.scheduler, loopIntervalMs: 200 }, log);
    const finished = new Promise<void>((resolve) =>
      scheduler!.on((e) => {
        if (e.type === "run:finished" && e.runId === run.run_id) resolve();
      }),
    );
    await scheduler.start();
    await finished;
    await scheduler.stop();
    const done = (await store.runs.byPk(run.id))!;
    const tis = await store.tasks.forRun(run.id);
    return {
      dagId,
      runId: run.run_id,
      state: done.state,
      duration: duration((done.end_date ?? Date.now()) - (done.start_date ?? done.queued_at)),
      tasks: tis.map((t) => ({
        task: t.task_id,
        ...(t.map_index >= 0 ? { mapIndex: t.map_index } : {}),
        state: t.state,
        tries: t.try_number,
        duration: duration(t.duration_ms),
        result: t.result ?? undefined,
        error: t.error ? t.error.split("\n")[0] : undefined,
      })),
    };
  } finally {
    await pool.stop();
    await store.close();
    await rm(home, { recursive: true, force: true });
  }
}
