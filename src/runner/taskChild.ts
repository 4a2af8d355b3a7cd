/**
 * A warm task process of the local executor. It runs one attempt at a time,
 * many in its life (the DAG module stays loaded, so an attempt costs a
 * function call, not a Node start-up), and is replaced when the executor
 * decides. If the scheduler dies, it finishes the attempt it has, records the
 * outcome in the store and exits; a restarted scheduler adopts it meanwhile.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { CodeLocations } from "../bundles/codePath.js";
import { describeError } from "../core/errors.js";
import { loadDagFile } from "../parser/loadDagFile.js";
import type { DbTarget } from "../store/db.js";
import { openStore } from "../store/store.js";
import type { Store } from "../store/store.js";
import { executeAttempt } from "./executeAttempt.js";
import type { LogSink } from "./logSink.js";
import type { SecretsConfig } from "../secrets/secretBox.js";

export interface ChildInit {
  type: "init";
  db: DbTarget;
  dagsFolder: string;
  bundles?: CodeLocations["bundles"];
  maxResultBytes: number;
  heartbeatIntervalMs: number;
  /** Where the secrets key is (connections read by Spark tasks). */
  secrets?: SecretsConfig;
}
export interface ChildRun {
  type: "run";
  tiId: number;
  tryNumber: number;
  /** The task's retry policy from the stored spec, used if the DAG code cannot even be loaded. */
  policy: { retryDelayMs: number; retryExponentialBackoff: boolean; maxRetryDelayMs: number };
}
/** Stop the running attempt (run timeout, user action): its shell commands are killed too. */
export interface ChildCancel {
  type: "cancel";
  tiId: number;
}
export type ChildMessage =
  | { type: "ready" }
  | { type: "claimed"; tiId: number }
  | { type: "spawned"; tiId: number; pgid: number }
  /** unrecorded: the attempt ran but its end could not be written; the executor records it. */
  | { type: "done"; tiId: number; tryNumber: number; state: string | null; recycle: boolean; rssMb: number; unrecorded: boolean }
  | { type: "fatal"; error: string };

let store: Store | undefined;
let init: ChildInit | undefined;
let busy = false;
let disconnected = false;
let sink: LogSink | undefined;
let exitRequested: number | undefined;
let abortCurrent: ((reason: string) => void) | undefined;
let currentTi: number | undefined;

const send = (m: ChildMessage) => {
  if (process.connected) process.send?.(m);
};

// Route the task's console output into its log while an attempt runs.
for (const stream of ["stdout", "stderr"] as const) {
  const original = process[stream].write.bind(process[stream]);
  process[stream].write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (sink) {
      sink.write(stream, typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
      cb?.();
      return true;
    }
    return original(chunk as string, ...(rest as []));
  }) as typeof process.stdout.write;
}

// A task calling process.exit() fails its attempt (recorded cleanly) and retires the process.
const realExit = process.exit.bind(process);
class ProcessExitCalled extends Error {}
process.exit = ((code?: number) => {
  if (!busy) return realExit(code);
  exitRequested = code ?? 0;
  throw new ProcessExitCalled(`The task called process.exit(${code ?? ""}); the task process is being replaced.`);
}) as typeof process.exit;

// Errors thrown outside the task's promise chain: record them, then die; the executor records the crash.
const fatal = (err: unknown) => {
  sink?.line("log", `[ERROR] Uncaught in task process: ${describeError(err)}`);
  void (sink?.close() ?? Promise.resolve()).finally(() => realExit(70));
};
process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
// Ctrl-C in a terminal reaches the whole process group: the executor decides when children stop.
process.on("SIGINT", () => {});

const versions = new Map<string, { stamp: string; version: string }>();

/** Content hash of a DAG file, re-read only when its size or mtime changed (checked on every attempt). */
function fileVersion(absPath: string): string {
  const st = statSync(absPath);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const known = versions.get(absPath);
  if (known?.stamp === stamp) return known.version;
  const version = createHash("sha256").update(readFileSync(absPath)).digest("hex").slice(0, 16);
  versions.set(absPath, { stamp, version });
  return version;
}

async function onRun(msg: ChildRun): Promise<void> {
  if (!store || !init) return;
  busy = true;
  currentTi = msg.tiId;
  let state: string | null = null;
  let recycle = false;
  let unrecorded = false;
  let claimed = false;
  try {
    const r = await executeAttempt(
      {
        store,
        dagsFolder: init.dagsFolder,
        bundles: init.bundles,
        maxResultBytes: init.maxResultBytes,
        heartbeatIntervalMs: init.heartbeatIntervalMs,
        secrets: init.secrets,
        loadDag: (p) => loadDagFile(p, fileVersion(p)),
        onSink: (s) => (sink = s),
        fallbackPolicy: msg.policy,
        hooks: {
          claimed: () => {
            claimed = true;
            send({ type: "claimed", tiId: msg.tiId });
          },
          spawned: (pgid) => send({ type: "spawned", tiId: msg.tiId, pgid }),
          abortable: (abort) => (abortCurrent = abort),
        },
      },
      msg.tiId,
      msg.tryNumber,
    );
    state = r.state;
    recycle = r.recycle;
  } catch (err) {
    process.stderr.write(`sluice task process: attempt ${msg.tiId}/${msg.tryNumber} could not be recorded: ${describeError(err)}\n`);
    recycle = true;
    unrecorded = claimed;
  }
  busy = false;
  currentTi = undefined;
  abortCurrent = undefined;
  if (exitRequested !== undefined) recycle = true;
  send({ type: "done", tiId: msg.tiId, tryNumber: msg.tryNumber, state, recycle, unrecorded, rssMb: Math.round(process.memoryUsage.rss() / 1_048_576) });
  if (disconnected || recycle) await shutdown(0);
}

async function shutdown(code: number): Promise<never> {
  await store?.close().catch(() => {});
  return realExit(code);
}

process.on("message", (msg: ChildInit | ChildRun | ChildCancel) => {
  if (msg.type === "init") {
    init = msg;
    openStore(msg.db)
      .then((s) => {
        store = s;
        send({ type: "ready" });
      })
      .catch((err) => {
        send({ type: "fatal", error: describeError(err) });
        realExit(1);
      });
  } else if (msg.type === "run") {
    void onRun(msg);
  } else if (msg.type === "cancel" && msg.tiId === currentTi) {
    abortCurrent?.("the attempt was cancelled");
  }
});
process.on("disconnect", () => {
  disconnected = true;
  if (!busy) void shutdown(0);
});
