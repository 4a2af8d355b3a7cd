import type { Logger } from "pino";
import { resolveDbUrl, type SluiceConfig } from "../config/config.js";
import type { Executor, FinishedListener } from "../executors/executor.js";
import { AttemptTokens } from "../auth/attemptToken.js";
import { KubernetesExecutor } from "../executors/kubernetesExecutor.js";
import { LocalExecutor } from "../executors/localExecutor.js";
import { QueueExecutor } from "../executors/queueExecutor.js";
import { DagProcessor } from "../parser/dagProcessor.js";
import { ParserPool } from "../parser/parserPool.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { openStore, type Store } from "../store/store.js";

export interface Sluice {
  config: SluiceConfig;
  store: Store;
  processor: DagProcessor;
  scheduler: Scheduler;
  executor: Executor;
  start(): Promise<void>;
  /** Graceful: running attempts get `graceMs` to finish. */
  stop(graceMs?: number): Promise<void>;
}

/** Open the store (migrating it) and wire parser, executor and scheduler from one resolved config. */
export async function openSluiceStore(config: SluiceConfig, opts: { migrate?: boolean } = {}): Promise<Store> {
  const store = await openStore(resolveDbUrl(config), { migrate: opts.migrate ?? true });
  await store.pools.ensureDefault(config.scheduler.defaultPoolSlots);
  return store;
}

/** The one place that builds the running system; every part gets what it needs from here. */
export async function createSluice(config: SluiceConfig, log: Logger): Promise<Sluice> {
  const store = await openSluiceStore(config);
  const pool = new ParserPool({ processes: config.parsing.processes, timeoutMs: config.parsing.timeoutMs });
  const processor = new DagProcessor(store, pool, config.dagsFolder);
  let scheduler: Scheduler | undefined;
  const onFinished: FinishedListener = (tiId, runPk, taskId, state) => scheduler?.onAttemptFinished(tiId, runPk, taskId, state);
  const target = resolveDbUrl(config);
  // --- executor choice: "queue" leaves attempts to `sluice worker` processes (config validation ensures PostgreSQL) ---
  const executor: Executor =
    // --- "kubernetes": one pod per attempt, reporting through the task API (kubernetes section of the config) ---
    config.executor.kind === "kubernetes"
      ? new KubernetesExecutor({
          store,
          settings: config.kubernetes,
          tokens: new AttemptTokens(config),
          zombieThresholdMs: config.scheduler.zombieThresholdMs,
          log: log.child({ part: "executor" }),
          onFinished,
        })
      : config.executor.kind === "queue" && target.dialect === "postgres"
      ? new QueueExecutor({
          store,
          db: target,
          parallelism: config.scheduler.parallelism,
          pollIntervalMs: config.worker.pollIntervalMs,
          log: log.child({ part: "executor" }),
          onFinished,
        })
      : new LocalExecutor({
          store,
          db: target,
          dagsFolder: config.dagsFolder,
          slots: config.executor.slots,
          tasksPerProcess: config.executor.tasksPerProcess,
          maxProcessMemoryMb: config.executor.maxProcessMemoryMb,
          maxResultBytes: config.tasks.maxResultBytes,
          heartbeatIntervalMs: config.scheduler.heartbeatIntervalMs,
          secrets: { home: config.home, secrets: config.secrets },
          zombieThresholdMs: config.scheduler.zombieThresholdMs,
          log: log.child({ part: "executor" }),
          onFinished,
        });
  scheduler = new Scheduler(store, executor, processor, config.scheduler, log.child({ part: "scheduler" }));
  const s = scheduler;
  return {
    config,
    store,
    processor,
    scheduler: s,
    executor,
    async start() {
      await executor.start();
      await s.start();
    },
    async stop(graceMs) {
      await s.stop(graceMs);
      await pool.stop();
      await store.close();
    },
  };
}
