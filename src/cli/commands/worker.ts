import type { Command } from "commander";
import { openSluiceStore } from "../../app/createSluice.js";
import { resolveDbUrl } from "../../config/config.js";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { Worker } from "../../worker/worker.js";
import { cliLogger, globals, resolveConfig } from "../context.js";

function parseQueues(text: string): string[] {
  const queues = text.split(",").map((q) => q.trim()).filter((q) => q.length > 0);
  if (queues.length === 0) throw new SluiceError(ErrorCode.Usage, `--queues "${text}" names no queue; give one or more names separated by commas, e.g. --queues default,highmem.`);
  return queues;
}

function parseConcurrency(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new SluiceError(ErrorCode.Usage, `--concurrency "${text}" is not a positive integer; use e.g. --concurrency 4.`);
  return n;
}

async function runWorker(cmd: Command): Promise<void> {
  const g = globals(cmd);
  const config = await resolveConfig(g);
  const opts = cmd.opts() as { queues?: string[]; concurrency?: number };
  const target = resolveDbUrl(config);
  if (target.dialect !== "postgres") {
    throw new SluiceError(ErrorCode.ConfigInvalid, 'sluice worker needs PostgreSQL (it claims work with FOR UPDATE SKIP LOCKED and wakes on LISTEN/NOTIFY): set db.url (SLUICE_DB_URL) to "postgres://user:pass@host/db".');
  }
  const log = cliLogger(config, g);
  // The scheduler migrates; a worker only checks the schema is current.
  const store = await openSluiceStore(config, { migrate: false });
  const queues = opts.queues ?? config.worker.queues;
  const concurrency = opts.concurrency ?? config.worker.concurrency;
  const worker = new Worker({ store, db: target, config, queues, concurrency, log });
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      log.warn("second signal: exiting now (running attempts are retried once this worker's heartbeat is stale)");
      process.exit(130);
    }
    stopping = true;
    log.info(`${signal}: no new work; running attempts get ${config.worker.shutdownGraceMs} ms to finish, then are handed back`);
    void worker
      .stop(config.worker.shutdownGraceMs)
      .then(async (r) => {
        log.info(r, "worker stopped");
        await store.close();
        process.exit(0);
      })
      .catch((err) => {
        log.error({ err }, "error while stopping the worker");
        process.exit(1);
      });
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  try {
    await worker.start();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  log.info(`Sluice worker ${worker.id}: queues ${queues.join(", ")}, ${concurrency} at once, DAGs from ${config.dagsFolder}. Ctrl-C to stop.`);
  await new Promise(() => {});
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description('Run queued task attempts from PostgreSQL (for schedulers with executor.kind "queue")')
    .option("--queues <names>", "comma-separated queues to take work from (default: worker.queues, \"default\")", parseQueues)
    .option("--concurrency <n>", "attempts run at once (default: worker.concurrency, 4)", parseConcurrency)
    .addHelpText("after", "\nExample:\n  $ SLUICE_DB_URL=postgres://sluice:secret@db/sluice SLUICE_EXECUTOR__KIND=queue sluice worker --queues default,highmem --concurrency 8")
    .action((_o: unknown, cmd: Command) => runWorker(cmd));
}
