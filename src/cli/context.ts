import type { Command } from "commander";
import { loadConfig } from "../config/loadConfig.js";
import type { SluiceConfig } from "../config/config.js";
import { openSluiceStore } from "../app/createSluice.js";
import { createLogger, type Logger } from "../app/logger.js";
import { DagProcessor } from "../parser/dagProcessor.js";
import { ParserPool } from "../parser/parserPool.js";
import type { Store } from "../store/store.js";

export interface GlobalOptions {
  config?: string;
  dags?: string;
  home?: string;
  json?: boolean;
}

/** Options of the command plus the global ones (commander keeps them on the root). */
export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export async function resolveConfig(g: GlobalOptions): Promise<SluiceConfig> {
  const overrides: Record<string, unknown> = {};
  if (g.dags) overrides.dagsFolder = g.dags;
  if (g.home) overrides.home = g.home;
  const { config } = await loadConfig({ cwd: process.cwd(), env: process.env, configPath: g.config, overrides });
  return config;
}

export function cliLogger(config: SluiceConfig, g: GlobalOptions): Logger {
  // --json output must stay machine-readable: only warnings and worse on stderr.
  return createLogger(g.json ? "warn" : config.logging.level);
}

/** Run `fn` with an open store, closing it afterwards whatever happens. */
export async function withStore<T>(g: GlobalOptions, fn: (store: Store, config: SluiceConfig) => Promise<T>): Promise<T> {
  const config = await resolveConfig(g);
  const store = await openSluiceStore(config);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

/** Bring the store up to date with the DAG folder (unchanged files are skipped by hash). */
export async function scanDags(store: Store, config: SluiceConfig) {
  const pool = new ParserPool({ processes: config.parsing.processes, timeoutMs: config.parsing.timeoutMs });
  try {
    return await new DagProcessor(store, pool, config.dagsFolder).scan();
  } finally {
    await pool.stop();
  }
}
