import type { Command } from "commander";
import type { Logger } from "pino";
import { createApiServer, API_PREFIX } from "../../api/server.js";
import { ensureInitialAdmin } from "../../auth/users.js";
import type { ApiApp } from "../../api/types.js";
import { createSluice, openSluiceStore } from "../../app/createSluice.js";
import type { SluiceConfig } from "../../config/config.js";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { maskUrl } from "../../store/db.js";
import type { Store } from "../../store/store.js";
import { cliLogger, globals, resolveConfig, type GlobalOptions } from "../context.js";

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new SluiceError(ErrorCode.Usage, `--port "${text}" is not a port; use an integer from 0 to 65535 (0 picks a free one).`);
  return n;
}

async function configWithPort(cmd: Command): Promise<{ g: GlobalOptions; config: SluiceConfig }> {
  const g = globals(cmd);
  const config = await resolveConfig(g);
  const port = (cmd.opts() as { port?: number }).port;
  return { g, config: port === undefined ? config : { ...config, api: { ...config.api, port } } };
}

/** Listen and log where; returns the server so the caller can close it on SIGTERM. */
async function startApi(store: Store, config: SluiceConfig, log: Logger, onChange?: () => void): Promise<ApiApp> {
  const app = createApiServer({ store, config, log: log.child({ part: "api" }), onChange });
  try {
    const address = await app.listen({ host: config.api.host, port: config.api.port });
    log.info(`Web UI on ${address} · REST API on ${address}${API_PREFIX} (docs: ${address}${API_PREFIX}/docs)`);
    return app;
  } catch (err) {
    await app.close().catch(() => {});
    const code = (err as { code?: string }).code;
    const why = code === "EADDRINUSE" ? `port ${config.api.port} on ${config.api.host} is in use` : (err as Error).message;
    throw new SluiceError(ErrorCode.Usage, `Cannot start the REST API: ${why}. Pick another with --port or SLUICE_API__PORT.`, { cause: err });
  }
}

/** Stop once on the first SIGINT/SIGTERM (gracefully, bounded); exit at once on the second. */
function onSignals(log: Logger, stop: () => Promise<void>, what: string): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) {
      log.warn("second signal: exiting now");
      process.exit(130);
    }
    stopping = true;
    log.info(`${signal}: stopping (${what}; Ctrl-C again to exit at once)`);
    void stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => handler("SIGINT"));
  process.on("SIGTERM", () => handler("SIGTERM"));
}

async function runScheduler(cmd: Command, role: "standalone" | "scheduler"): Promise<void> {
  const { g, config } = await configWithPort(cmd);
  const log = cliLogger(config, g);
  const sluice = await createSluice(config, log);
  const db = sluice.store.dialect === "sqlite" ? sluice.store.handle.describe : maskUrl(sluice.store.handle.describe);
  log.info(`Sluice ${role}: DAGs from ${config.dagsFolder}, database ${db}, ${config.executor.slots} task slot(s). Ctrl-C to stop.`);
  let api: ApiApp | undefined;
  onSignals(
    log,
    async () => {
      // The API first, so no new trigger arrives while the scheduler winds down.
      await api?.close();
      await sluice.stop(10_000);
    },
    "running tasks get 10 s to finish",
  );
  await sluice.start();
  if (role === "standalone") {
    if (config.api.auth) {
      const admin = await ensureInitialAdmin(sluice.store);
      // On stdout, once, and not through the logger: log files and collectors must not keep it.
      if (admin) {
        process.stdout.write(
          `\nFirst start: created the admin user for the REST API.\n  username: ${admin.username}\n  password: ${admin.password}\n` +
            `This password is shown only now (it is stored hashed). Add users with \`sluice users create\`.\n\n`,
        );
      }
    }
    try {
      api = await startApi(sluice.store, config, log, () => sluice.scheduler.wake());
    } catch (err) {
      // Standalone is the laptop mode: a busy port must not stop pipelines from running.
      log.error((err as Error).message + " The scheduler keeps running without the API.");
    }
  }
  // Keep the process alive; the scheduler loop runs until a signal stops it.
  await new Promise(() => {});
}

async function runApi(cmd: Command): Promise<void> {
  const { g, config } = await configWithPort(cmd);
  const log = cliLogger(config, g);
  const store = await openSluiceStore(config);
  let app: ApiApp | undefined;
  onSignals(
    log,
    async () => {
      await app?.close();
      await store.close();
    },
    "finishing open requests",
  );
  if (config.api.auth && (await store.auth.countUsers()) === 0) {
    log.warn("No users yet: every API request but /health will answer 401. Create one with `sluice users create <name> --role admin`.");
  }
  try {
    app = await startApi(store, config, log);
  } catch (err) {
    await store.close();
    throw err;
  }
  await new Promise(() => {});
}

export function registerServe(program: Command): void {
  program
    .command("standalone")
    .description("Run everything in one process on the embedded defaults: SQLite under $SLUICE_HOME, local executor, scheduler, REST API")
    .option("--port <port>", "REST API port (default: api.port, 8080)", parsePort)
    .addHelpText("after", "\nExample:\n  $ npx sluice standalone --dags ./dags --port 8080")
    .action((_o: unknown, cmd: Command) => runScheduler(cmd, "standalone"));
  program
    .command("scheduler")
    .description("Run the scheduler (with its local executor) against the configured database")
    .addHelpText("after", "\nExample:\n  $ SLUICE_DB_URL=postgres://sluice:secret@db/sluice sluice scheduler")
    .action((_o: unknown, cmd: Command) => runScheduler(cmd, "scheduler"));
  program
    .command("api")
    .description("Serve the REST API (/api/v1, OpenAPI docs at /api/v1/docs) against the configured database")
    .option("--port <port>", "port to listen on (default: api.port, 8080)", parsePort)
    .addHelpText("after", "\nExample:\n  $ SLUICE_DB_URL=postgres://sluice:secret@db/sluice sluice api --port 8080")
    .action((_o: unknown, cmd: Command) => runApi(cmd));
}
