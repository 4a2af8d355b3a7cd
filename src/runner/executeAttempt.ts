import { dagFilePath, type CodeLocations } from "../bundles/codePath.js";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import type { TaskSpec } from "../core/dagSpec.js";
import { describeError } from "../core/errors.js";
import type { TaskState } from "../core/states.js";
import type { Dag } from "../sdk/dag.js";
import type { TaskContext, TaskLogger } from "../sdk/context.js";
import type { Store } from "../store/store.js";
import type { AttemptContext } from "../store/taskQueries.js";
import { storeView, type AttemptBackend } from "./attemptBackend.js";
import type { AttemptOutcome } from "./finishAttempt.js";
import { LogSink } from "./logSink.js";
import { OutletExtras } from "./outletExtras.js";
import { runTaskCode } from "./runTaskCode.js";
import { StoreBackend } from "./storeBackend.js";
import type { TaskServices } from "./taskServices.js";
import { upstreamInputs, type ResultReader } from "./upstreamInputs.js";
import type { SecretsConfig } from "../secrets/secretBox.js";

type RetryPolicy = Pick<TaskSpec, "retryDelayMs" | "retryExponentialBackoff" | "maxRetryDelayMs">;

export interface AttemptHooks {
  /** The attempt is ours (claimed in the store): its clock starts now. */
  claimed?: () => void;
  /** A shell command started in its own process group (so a killer can take the whole group down). */
  spawned?: (pgid: number) => void;
  /** Gives the caller a way to cancel the running attempt. */
  abortable?: (abort: (reason: string) => void) => void;
}

export interface AttemptDeps {
  /** The database, for processes that hold it; used through a StoreBackend unless `backend` is given. */
  store?: Store;
  /** Where the attempt's reads and writes go instead (HttpBackend: a pod without database credentials). */
  backend?: AttemptBackend;
  dagsFolder: string;
  /** Git bundles, for runs whose code is a bundle commit (checked out on demand). */
  bundles?: CodeLocations["bundles"];
  maxResultBytes: number;
  heartbeatIntervalMs: number;
  loadDag: (absPath: string) => Promise<Dag[]>;
  /** Called with the sink while the attempt runs, so the process can route stdout/stderr into it. */
  onSink?: (sink: LogSink | undefined) => void;
  hooks?: AttemptHooks;
  /** Retry policy to use when the DAG code cannot be loaded (the scheduler knows it from the stored spec). */
  fallbackPolicy?: RetryPolicy;
  /** Where the secrets key is, for tasks that read connections (Spark). */
  secrets?: SecretsConfig;
  now?: () => number;
}

export interface AttemptReport {
  /** The state written, or null when the attempt was not ours to run or finish. */
  state: TaskState | null;
  /** The process should not run more attempts (timed out code may still be running in it). */
  recycle: boolean;
}

const NO_DELAY: RetryPolicy = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };

/**
 * Run one attempt of a task instance end to end against the store: claim it
 * (queued -> running on this try), load the DAG code, run it with heartbeats,
 * logs and its timeout, and record the outcome. Used by warm task processes
 * and by `sluice task run`.
 */
export async function executeAttempt(deps: AttemptDeps, tiId: number, tryNumber: number, opts: { claimFrom?: TaskState[] } = {}): Promise<AttemptReport> {
  const now = deps.now ?? Date.now;
  const backend = deps.backend ?? (deps.store ? new StoreBackend(deps.store, deps.secrets, now) : undefined);
  if (!backend) throw new Error("executeAttempt needs a store or a backend");
  const store = storeView(backend);
  const found = await backend.context(tiId, tryNumber);
  if (!found || found.ti.try_number !== tryNumber) return { state: null, recycle: false };
  const { ti, run, fileloc, bundleVersion } = found;

  const startedAt = now();
  const host = hostname();
  // One compare-and-set claims the attempt (losing it means another process runs it);
  // the try's record is written when it ends, in the same commit as its outcome.
  const claimed = await backend.claim(tiId, tryNumber, opts.claimFrom ?? ["queued"], { startedAt, hostname: host, pid: process.pid });
  if (!claimed) return { state: null, recycle: false };
  deps.hooks?.claimed?.();
  const claimedTi = { ...ti, start_date: startedAt, hostname: host, pid: process.pid };

  const sink = new LogSink(store, tiId, tryNumber);
  deps.onSink?.(sink);
  const controller = new AbortController();
  let lostReason: string | undefined;
  const abort = (reason: string) => {
    lostReason ??= reason;
    controller.abort(new Error(reason));
  };
  deps.hooks?.abortable?.(abort);
  // A heartbeat that matches no row means the attempt was taken away (run timeout,
  // a clear, another scheduler's verdict): stop the work instead of running on.
  const heartbeat = setInterval(() => {
    backend.heartbeat(tiId, tryNumber, now()).then(
      (ok) => ok || abort("the attempt was ended elsewhere (its state changed while it ran)"),
      () => {},
    );
  }, deps.heartbeatIntervalMs);
  heartbeat.unref();
  let recycle = false;
  let policy = deps.fallbackPolicy ?? NO_DELAY;
  let outcome: AttemptOutcome;
  const services = backend.services({ tiId, dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber });
  try {
    const absPath = await dagFilePath({ dagsFolder: deps.dagsFolder, bundles: deps.bundles }, fileloc, bundleVersion);
    const dags = await deps.loadDag(absPath);
    const d = dags.find((x) => x.id === ti.dag_id);
    const def = d?.tasks.get(ti.task_id);
    if (!d || !def) {
      outcome = { kind: "failed", error: `Task "${ti.task_id}" is no longer declared in DAG "${ti.dag_id}" (${fileloc}). Clear the run after fixing the file, or let it fail.`, retryable: false };
    } else {
      policy = def.spec;
      outcome = await runWithTimeout(deps, store, d, def, ti, run, sink, dirname(absPath), controller, () => (recycle = true), services);
    }
  } catch (err) {
    outcome = { kind: "failed", error: `Could not load the DAG code: ${describeError(err)}`, retryable: true };
  } finally {
    clearInterval(heartbeat);
    await services.dispose();
  }
  if (lostReason && outcome.kind === "failed") outcome = { ...outcome, error: `Stopped: ${lostReason}.` };
  if (outcome.kind === "failed") sink.line("log", `[ERROR] ${outcome.error}`);
  sink.line("log", `[INFO] Attempt ${tryNumber} finished: ${outcome.kind}`);
  deps.onSink?.(undefined);
  const lines = await sink.drain();
  // The last log lines land in the same commit as the final state: whoever sees the state sees the whole log.
  const state = await backend.finish(claimedTi, outcome, policy, lines);
  return { state, recycle };
}

async function runWithTimeout(
  deps: AttemptDeps,
  store: ResultReader,
  d: Dag,
  def: NonNullable<ReturnType<Dag["tasks"]["get"]>>,
  ti: AttemptContext["ti"],
  run: AttemptContext["run"],
  sink: LogSink,
  dagDir: string,
  controller: AbortController,
  markRecycle: () => void,
  services: TaskServices,
): Promise<AttemptOutcome> {
  const up = await upstreamInputs(store, d, def.spec, ti);
  if (!up.ok) return { kind: "failed", error: up.error, retryable: false };
  const { upstreamResults, item } = up;
  let params = JSON.parse(run.params) as Record<string, unknown>;
  if (d.paramsSchema) {
    const r = d.paramsSchema.safeParse(params);
    if (!r.success) return { kind: "failed", error: `Run params do not match the DAG's params schema: ${r.error.message}`, retryable: false };
    params = r.data as Record<string, unknown>;
  }
  const log = (level: string): TaskLogger[keyof TaskLogger] => (message, fields) =>
    sink.line("log", `[${level}] ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
  const outlets = new OutletExtras(ti.task_id, def.spec.outlets ?? []);
  const ctx: TaskContext<any> = {
    dagId: ti.dag_id,
    runId: ti.run_id,
    taskId: ti.task_id,
    mapIndex: ti.map_index,
    tryNumber: ti.try_number,
    maxTries: ti.max_tries,
    logicalDate: new Date(run.logical_date),
    dataInterval: { start: new Date(run.interval_start), end: new Date(run.interval_end) },
    params,
    conf: JSON.parse(run.conf) as Record<string, unknown>,
    log: { debug: log("DEBUG"), info: log("INFO"), warn: log("WARN"), error: log("ERROR") },
    signal: controller.signal,
    outletExtra: (outlet, extra) => outlets.set(outlet, extra),
  };
  sink.line("log", `[INFO] Starting attempt ${ti.try_number} of ${ti.max_tries} of ${ti.dag_id}.${ti.task_id} (run ${ti.run_id}) in process ${process.pid}`);
  const work = runTaskCode({
    def,
    ctx,
    upstreamResults,
    item,
    services,
    dagDir,
    maxResultBytes: deps.maxResultBytes,
    write: (s, t) => sink.write(s, t),
    onSpawn: deps.hooks?.spawned,
  }).then((o): AttemptOutcome =>
    // Dataset events ride with the success, so finishAttempt writes them in the same commit.
    o.kind === "success" ? { ...o, datasetEvents: outlets.events({ dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index }) } : o,
  );
  // Whatever stops the attempt from outside (timeout, cancel, lost heartbeat) ends it now;
  // code that ignores the signal may still be running, so the process is retired after.
  const stopped = new Promise<AttemptOutcome>((resolve) => {
    const onAbort = () => {
      markRecycle();
      resolve({ kind: "failed", error: String((controller.signal.reason as Error)?.message ?? "stopped"), retryable: true });
    };
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener("abort", onAbort, { once: true });
  });
  const timeoutMs = def.spec.timeoutMs;
  const timer = timeoutMs ? setTimeout(() => controller.abort(new Error(`Task exceeded its timeout of ${timeoutMs} ms and was stopped.`)), timeoutMs) : undefined;
  try {
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(timer);
  }
}
