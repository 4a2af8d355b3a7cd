/**
 * Child process for the concurrent-migration test: `node migrateChild.js <target-json>`.
 * Prints "ready" once loaded, waits for a line on stdin (so the parent can
 * release several children at the same moment), then opens the database and
 * migrates it, and prints one JSON line: the MigrateResult or the error.
 */
import { once } from "node:events";
import { createInterface } from "node:readline";
import { openDb, type DbTarget } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";

const target = JSON.parse(process.argv[2]) as DbTarget;
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
await once(lines, "line");
lines.close();

let code = 0;
const handle = openDb(target);
try {
  const result = await migrate(handle.db, handle.dialect);
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
} catch (err) {
  const e = err as { name?: string; code?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, error: { name: e.name, code: e.code, message: e.message } })}\n`);
  code = 1;
} finally {
  await handle.destroy();
}
process.exit(code);
