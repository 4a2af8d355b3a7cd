/**
 * A Spark task's attempt: resolve the connection and the application, pick
 * the submission path (standalone client / standalone cluster through REST /
 * Kubernetes operator / Kubernetes spark-submit), record the application in
 * spark_app as its ids become known, and turn how it ended into the
 * attempt's outcome with a SparkTaskResult.
 */
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { describeError } from "../core/errors.js";
import type { SparkTaskResult } from "../sdk/taskKinds.js";
import { runClientMode } from "../spark/clientMode.js";
import { runClusterMode } from "../spark/clusterMode.js";
import { runKubeOperator } from "../spark/kubeOperator.js";
import { runKubeSubmit } from "../spark/kubeSubmit.js";
import { parseSparkConnection, type SparkTarget } from "../spark/sparkConnection.js";
import { isRemoteUri, type SparkEnd, type SparkIO, type SparkJob } from "../spark/sparkJob.js";
import type { CodeRunOptions } from "./codeRunOptions.js";
import type { AttemptOutcome } from "./finishAttempt.js";

type Failed = Extract<AttemptOutcome, { kind: "failed" }>;

class TaskSetupError extends Error {
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** A local application path made absolute (relative to the DAG file's folder) and checked; URIs as given. */
function resolveLocal(path: string, dagDir: string, what: string): string {
  if (isRemoteUri(path)) return path;
  const abs = path.startsWith("file:") ? new URL(path).pathname : isAbsolute(path) ? path : resolve(dagDir, path);
  try {
    if (!statSync(abs).isFile()) throw new Error("not a file");
  } catch {
    throw new TaskSetupError(`${what} ${abs} does not exist (paths are relative to the DAG file's folder, ${dagDir}). Fix the path in the DAG file, or give a URI the cluster reads (s3a://…, hdfs://…).`);
  }
  return abs;
}

async function argsFor(o: CodeRunOptions, inputs: Record<string, unknown>): Promise<string[]> {
  const perRun = o.def.spark?.args;
  const value = typeof perRun === "function" ? await perRun(o.ctx, inputs) : (perRun ?? o.def.spec.spark?.args ?? []);
  if (!Array.isArray(value) || !value.every((a) => typeof a === "string")) {
    throw new TaskSetupError(`its args function returned ${JSON.stringify(value)?.slice(0, 200)}; it must return an array of strings (convert numbers with String()).`);
  }
  return value;
}

function buildJob(o: CodeRunOptions, target: SparkTarget, args: string[]): SparkJob {
  const spec = o.def.spec.spark!;
  const { ctx } = o;
  const kube = target.kind === "kubernetes";
  // On Kubernetes the pods read the files, so only URIs make sense there (checked when the object is built).
  const application = kube ? spec.application : resolveLocal(spec.application, o.dagDir, "The application");
  return {
    name: spec.name ?? `${ctx.dagId}.${ctx.taskId}${ctx.mapIndex >= 0 ? `[${ctx.mapIndex}]` : ""}`,
    application,
    isPython: /\.py$/i.test(spec.application),
    mainClass: spec.mainClass,
    args,
    conf: { ...(spec.conf ?? {}) },
    driverMemory: spec.driverMemory,
    executorCores: spec.executorCores,
    executorMemory: spec.executorMemory,
    numExecutors: spec.numExecutors,
    pyFiles: (spec.pyFiles ?? []).map((f) => (kube ? f : resolveLocal(f, o.dagDir, "The py file"))),
    kubernetes: spec.kubernetes,
    attempt: { dagId: ctx.dagId, runId: ctx.runId, taskId: ctx.taskId, mapIndex: ctx.mapIndex, tryNumber: ctx.tryNumber },
  };
}

export async function runSparkTask(o: CodeRunOptions, inputs: Record<string, unknown>): Promise<AttemptOutcome> {
  const taskId = o.def.spec.id;
  const spec = o.def.spec.spark;
  const fail = (error: string, retryable: boolean): Failed => ({ kind: "failed", error: `Spark task "${taskId}": ${error}`, retryable });
  if (!spec) return fail("the task has no spark settings (declare it with d.spark).", false);
  const started = Date.now();

  let target: SparkTarget;
  let job: SparkJob;
  let deployMode: "client" | "cluster";
  try {
    target = parseSparkConnection(await o.services.connection(spec.connection));
    deployMode = spec.deployMode ?? target.deployMode;
    if (target.kind === "kubernetes" && deployMode === "client") {
      throw new TaskSetupError(`deployMode "client" is not supported on Kubernetes (connection "${spec.connection}"): the driver runs in a pod. Use deployMode "cluster" or leave it unset.`);
    }
    job = buildJob(o, target, await argsFor(o, inputs));
  } catch (err) {
    // A missing connection, a bad extra, a wrong path: retrying the same attempt would fail the same way.
    return fail(describeError(err), err instanceof TaskSetupError ? err.retryable : false);
  }

  const update = await o.services.recordSparkApp({ connection_id: target.connId, master: target.master, deploy_mode: deployMode, app_id: null, driver_id: null, state: "SUBMITTING" });
  // Updates are applied in order, and a failing write never fails the Spark job itself.
  let notes = Promise.resolve();
  const note: SparkIO["note"] = (patch) => {
    notes = notes.then(() => update(patch)).catch((err) => o.write("log", `[WARN] Could not record the Spark application's ${Object.keys(patch).join(", ")}: ${describeError(err)}\n`));
  };
  const io: SparkIO = { signal: o.ctx.signal, write: o.write, onSpawn: o.onSpawn, note, scratchDir: () => o.services.scratchDir() };

  let end: SparkEnd;
  try {
    if (target.kind === "standalone") end = deployMode === "client" ? await runClientMode(job, target, io, process.env) : await runClusterMode(job, target, io);
    else end = target.kubernetes.mode === "operator" ? await runKubeOperator(job, target, io) : await runKubeSubmit(job, target, io, process.env);
  } catch (err) {
    end = { ok: false, state: "ERROR", retryable: !(err instanceof TaskSetupError) && (err as { name?: string }).name !== "SparkConnectionError", error: describeError(err) };
  }
  note({ state: end.state, ...(end.appId ? { app_id: end.appId } : {}), ...(end.driverId ? { driver_id: end.driverId } : {}) });
  await notes;

  if (!end.ok) return fail(end.error ?? `the application ended ${end.state}.`, end.retryable);
  const result: SparkTaskResult = {
    ...(end.appId ? { appId: end.appId } : {}),
    ...(end.driverId ? { driverId: end.driverId } : {}),
    state: end.state,
    master: target.master,
    deployMode,
    elapsedMs: Date.now() - started,
  };
  return { kind: "success", result: JSON.stringify(result) };
}
