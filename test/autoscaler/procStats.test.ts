/** /proc sampling of worker processes: a real busy process tree is measured as busy, an idle one as idle. */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, describe, it } from "node:test";
import { processTree, ProcSampler } from "../../src/autoscaler/procStats.js";

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** A parent that starts one child spinning the CPU and writing to a pipe (as a worker with one busy task process). */
function busyTree(): Promise<{ parent: ChildProcess; childPid: number }> {
  const code = `
    const { spawn } = require("node:child_process");
    const c = spawn(process.execPath, ["-e", "const b = Buffer.alloc(65536); for (;;) { const t = Date.now(); while (Date.now() - t < 50); process.stdout.write(b); }"], { stdio: ["ignore", "pipe", "inherit"] });
    c.stdout.resume();
    console.log(c.pid);
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(parent);
  return new Promise((resolve) => parent.stdout!.once("data", (b: Buffer) => resolve({ parent, childPid: Number(String(b).trim()) })));
}

describe("ProcSampler", () => {
  it("measures a worker with its descendants: CPU in cores, RSS in MiB, I/O bytes/s", async () => {
    const { parent, childPid } = await busyTree();
    children.push({ kill: (s: NodeJS.Signals) => process.kill(childPid, s) } as ChildProcess);
    assert.deepEqual((await processTree(parent.pid!)).sort(), [parent.pid!, childPid].sort());
    const idle = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    children.push(idle);

    const busySampler = new ProcSampler();
    assert.equal(await busySampler.sample([parent.pid!]), undefined, "no interval yet");
    const idleSampler = new ProcSampler();
    await idleSampler.sample([idle.pid!]);
    await new Promise((r) => setTimeout(r, 1500));
    const busy = (await busySampler.sample([parent.pid!]))!;
    const quiet = (await idleSampler.sample([idle.pid!]))!;
    // Relative, not absolute: tests run two at a time on 2 cores, so a busy loop may get a small share.
    assert.ok(busy.cpu > 0.05 && busy.cpu > quiet.cpu * 5, `busy tree: ${busy.cpu} cores, idle: ${quiet.cpu}`);
    assert.ok(quiet.cpu < 0.1, `idle process: ${quiet.cpu} cores`);
    assert.ok(busy.memory > 40 && busy.memory < 1000, `two node processes: ${busy.memory} MiB`);
    assert.ok(busy.network > 100_000, `pipe writes counted as I/O: ${busy.network} B/s`);
    assert.ok(quiet.network < busy.network / 10);
    assert.equal(await new ProcSampler().sample([]), undefined, "no workers, no measurement");
  });
});
