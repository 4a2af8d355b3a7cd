/** The local actuator with real processes: spawn up, SIGTERM the newest down (not counted while they drain), stop waits for all. */
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import pino from "pino";
import { LocalWorkerPool } from "../../src/autoscaler/localWorkerPool.js";

const dir = mkdtempSync(join(tmpdir(), "sluice-pool-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// A stand-in worker: records its queue argument and SIGTERM, then drains for 300 ms before exiting 0.
const WORKER = `
const fs = require("node:fs");
const log = (s) => fs.appendFileSync(${JSON.stringify(join(dir, "log"))}, process.pid + " " + s + "\\n");
log("start " + process.argv.slice(1).join(" "));
process.on("SIGTERM", () => { log("sigterm"); setTimeout(() => process.exit(0), 300); });
setInterval(() => {}, 1000);`;

const events = () => readFileSync(join(dir, "log"), "utf8").trim().split("\n");
const until = async (what: string, ok: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("LocalWorkerPool", () => {
  it("scales a queue's pool up and down with SIGTERM, newest first, and stop() waits for every worker", async () => {
    const pool = new LocalWorkerPool({ command: [process.execPath, "-e", WORKER, "--", "worker"], log: pino({ level: "silent" }) });
    await pool.scale("default", 3);
    await pool.scale("highmem", 1);
    assert.equal(await pool.current("default"), 3);
    const pids = pool.pids("default");
    assert.equal(pids.length, 3);
    await until("4 workers to start", () => { try { return events().length === 4; } catch { return false; } });
    assert.ok(events().some((l) => l.endsWith("start worker --queues highmem")));

    await pool.scale("default", 1);
    // Draining workers are no longer counted, though still alive.
    assert.equal(await pool.current("default"), 1);
    assert.deepEqual(pool.pids("default"), [pids[0]], "the oldest stays");
    await until("2 SIGTERMs", () => events().filter((l) => l.endsWith("sigterm")).length === 2);
    assert.deepEqual(events().filter((l) => l.endsWith("sigterm")).map((l) => Number(l.split(" ")[0])).sort(), [pids[1], pids[2]].sort());

    await pool.stop();
    for (const pid of [...pids, ...events().map((l) => Number(l.split(" ")[0]))]) {
      assert.throws(() => process.kill(pid, 0), /ESRCH/, `pid ${pid} exited`);
    }
    assert.equal(events().filter((l) => l.endsWith("sigterm")).length, 4, "every worker got SIGTERM, none SIGKILL");
    assert.equal(await pool.current("default"), 0);
  });
});
