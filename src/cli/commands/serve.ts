import type { Command } from "commander";
import { createSluice } from "../../app/createSluice.js";
import { maskUrl } from "../../store/db.js";
import { cliLogger, globals, resolveConfig } from "../context.js";

async function runScheduler(cmd: Command, role: "standalone" | "scheduler"): Promise<void> {
  const g = globals(cmd);
  const config = await resolveConfig(g);
  const log = cliLogger(config, g);
  const sluice = await createSluice(config, log);
  const db = sluice.store.dialect === "sqlite" ? sluice.store.handle.describe : maskUrl(sluice.store.handle.describe);
  log.info(`Sluice ${role}: DAGs from ${config.dagsFolder}, database ${db}, ${config.executor.slots} task slot(s). Ctrl-C to stop.`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn("second signal: exiting now");
      process.exit(130);
    }
    stopping = true;
    log.info(`${signal}: stopping (running tasks get 10 s to finish; Ctrl-C again to exit at once)`);
    void sluice.stop(10_000).then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  await sluice.start();
  // Keep the process alive; the scheduler loop runs until a signal stops it.
  await new Promise(() => {});
}

export function registerServe(program: Command): void {
  program
    .command("standalone")
    .description("Run everything in one process on the embedded defaults: SQLite under $SLUICE_HOME, local executor, scheduler")
    .addHelpText("after", "\nExample:\n  $ npx sluice standalone --dags ./dags")
    .action((_o: unknown, cmd: Command) => runScheduler(cmd, "standalone"));
  program
    .command("scheduler")
    .description("Run the scheduler (with its local executor) against the configured database")
    .addHelpText("after", "\nExample:\n  $ SLUICE_DB_URL=postgres://sluice:secret@db/sluice sluice scheduler")
    .action((_o: unknown, cmd: Command) => runScheduler(cmd, "scheduler"));
}
