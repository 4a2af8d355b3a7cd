import type { Logger } from "pino";
import { BundleSyncer, type BundleProblem } from "../bundles/syncer.js";
import { createAlerting } from "../alerts/alerting.js";
import { enqueueAlert, gitSyncFailedAlert } from "../alerts/enqueue.js";
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
  /** Git bundles' syncer (config.bundles), or undefined when none is configured. */
  bundles: BundleSyncer | undefined;
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
          bundles: config.bundles,
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
          bundles: { home: config.home, list: config.bundles },
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
  // --- alerts (src/alerts/): monitor and dispatcher in their own loops; the scheduler never waits for them ---
  const alerting = createAlerting({ store, config, log: log.child({ part: "alerts" }), env: process.env });
  const bundles =
    config.bundles.length > 0
      ? new BundleSyncer({
          store,
          home: config.home,
          bundles: config.bundles,
          parsing: config.parsing,
          log: log.child({ part: "bundles" }),
          onPublished: () => s.wake(),
          onProblem: (p) => alertOnBundleProblem(p),
        })
      : undefined;
  // Import errors of a commit are alerted per file by the alert monitor (they
  // are import errors like any other); a sync that failed outright (fetch,
  // checkout, a missing sub-directory) has no file to point at: alert here.
  const alertOnBundleProblem = async (p: BundleProblem): Promise<void> => {
    if (p.kind === "sync_failed") await enqueueAlert(store, config.alerts, gitSyncFailedAlert({ bundle: p.bundle, commit: p.sha, error: p.message, at: p.at }));
  };
  return {
    config,
    store,
    processor,
    scheduler: s,
    executor,
    bundles,
    async start() {
      await executor.start();
      await s.start();
      await alerting.start();
      await bundles?.start();
    },
    async stop(graceMs) {
      await bundles?.stop();
      await s.stop(graceMs);
      await alerting.stop();
      await pool.stop();
      await store.close();
    },
  };
}
