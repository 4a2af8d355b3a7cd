/**
 * A spark-submit child process: its own process group (so a cancel, or the
 * executor killing the task process, takes down the driver JVM and the
 * Python driver it started), its output streamed into the task log and read
 * for the application id, and a kill order dispatched when the attempt's
 * signal aborts.
 */
import { spawn } from "node:child_process";
import type { DriverOutput } from "./driverOutput.js";
import { dispatchKill, type KillOrder } from "./killOrder.js";
import type { SparkIO } from "./sparkJob.js";

export interface SubmitExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The attempt's signal aborted while it ran (the kill order was dispatched). */
  aborted: boolean;
  /** spawn itself failed (e.g. spark-submit not found). */
  spawnError?: Error;
}

export function runSparkSubmit(
  exe: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: SparkIO,
  out: DriverOutput,
  killOrder: (pgid: number | undefined) => KillOrder,
): Promise<SubmitExit> {
  return new Promise((resolve) => {
    if (io.signal.aborted) {
      resolve({ code: null, signal: null, aborted: true });
      return;
    }
    const child = spawn(exe, argv, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let aborted = false;
    if (child.pid) io.onSpawn?.(child.pid);
    const onData = (stream: "stdout" | "stderr") => (b: Buffer) => {
      const text = b.toString();
      io.write(stream, text);
      out.push(stream, text);
    };
    child.stdout.on("data", onData("stdout"));
    child.stderr.on("data", onData("stderr"));
    const onAbort = () => {
      aborted = true;
      dispatchKill(killOrder(child.pid), (t) => io.write("log", t));
    };
    io.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err) => {
      io.signal.removeEventListener("abort", onAbort);
      resolve({ code: null, signal: null, aborted, spawnError: err });
    });
    child.on("close", (code, signal) => {
      io.signal.removeEventListener("abort", onAbort);
      out.end();
      resolve({ code, signal, aborted });
    });
  });
}
