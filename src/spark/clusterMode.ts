/**
 * Standalone cluster mode through the master's REST submission server: the
 * driver runs on a worker. The task submits it, polls its state to the end
 * (FINISHED is success; FAILED, ERROR, KILLED are failures), copies the
 * driver's stdout/stderr from the worker into the task log as it grows, and
 * has the driver killed through the REST server when the task is stopped.
 *
 * PySpark drivers are submitted as org.apache.spark.deploy.SparkSubmit with
 * the .py file as first argument: inside the driver JVM, SparkSubmit runs
 * the Python program in client mode against the master named by MASTER.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DriverOutput, failureMessage } from "./driverOutput.js";
import { dispatchKill } from "./killOrder.js";
import { fetchMasterStatus } from "./masterStatus.js";
import type { StandaloneTarget } from "./sparkConnection.js";
import { SparkHttpError } from "./sparkHttp.js";
import { isRemoteUri, optionConf, type SparkEnd, type SparkIO, type SparkJob } from "./sparkJob.js";
import { FINAL_DRIVER_STATES, StandaloneRestClient, type CreateSubmission } from "./standaloneRest.js";
import { WorkerLogTail } from "./workerLog.js";

/** The Spark version we say we are (the REST server only logs it). */
const CLIENT_SPARK_VERSION = "4.0.1";
/** Polls may fail this long in a row (a master restarting) before the task fails. */
const UNREACHABLE_GRACE_MS = 60_000;

/** The REST create request for a job (exported for tests of its shape). */
export function createRequest(job: SparkJob, t: StandaloneTarget): CreateSubmission {
  const resource = isRemoteUri(job.application) || job.application.startsWith("file:") ? job.application : `file:${job.application}`;
  const sparkProperties: Record<string, string> = {
    ...job.conf,
    ...optionConf(job, true),
    "spark.master": t.master,
    "spark.app.name": job.name,
    "spark.driver.supervise": "false",
  };
  const environmentVariables: Record<string, string> = { SPARK_ENV_LOADED: "1" };
  if (t.pythonPath) {
    sparkProperties["spark.pyspark.python"] ??= t.pythonPath;
    environmentVariables.PYSPARK_PYTHON = t.pythonPath;
  }
  if (job.isPython) {
    // SparkSubmit in the driver reads the master from MASTER (spark.master as a system property would be
    // overwritten by its own default, local[*]); no spark.submit.deployMode=cluster, or it would submit again.
    environmentVariables.MASTER = t.master;
    const pre = job.pyFiles.length > 0 ? ["--py-files", job.pyFiles.join(",")] : [];
    return { appResource: resource, mainClass: "org.apache.spark.deploy.SparkSubmit", appArgs: [...pre, job.application, ...job.args], sparkProperties, environmentVariables, clientSparkVersion: CLIENT_SPARK_VERSION };
  }
  sparkProperties["spark.submit.deployMode"] = "cluster";
  sparkProperties["spark.jars"] = resource;
  return { appResource: resource, mainClass: job.mainClass!, appArgs: job.args, sparkProperties, environmentVariables, clientSparkVersion: CLIENT_SPARK_VERSION };
}

export async function runClusterMode(job: SparkJob, t: StandaloneTarget, io: SparkIO): Promise<SparkEnd> {
  const rest = new StandaloneRestClient(t.restUrl, t.token);
  const out = new DriverOutput((appId) => io.note({ app_id: appId, state: "RUNNING" }));
  io.write("log", `[INFO] Submitting the driver to ${t.restUrl} (cluster mode, master ${t.master}).\n`);
  let driverId: string;
  try {
    driverId = await rest.create(createRequest(job, t));
  } catch (err) {
    return { ok: false, state: "NOT_SUBMITTED", retryable: true, error: (err as Error).message };
  }
  io.note({ driver_id: driverId, state: "SUBMITTED" });
  io.write("log", `[INFO] Driver ${driverId} submitted.\n`);
  const killOrder = () => dispatchKill({ kind: "standalone-driver", restUrl: t.restUrl, driverId, token: t.token }, (text) => io.write("log", text));
  if (io.signal.aborted) {
    killOrder();
    return { ok: false, state: "KILLED", driverId, retryable: true, error: "The Spark driver was killed because the task was stopped." };
  }
  io.signal.addEventListener("abort", killOrder, { once: true });

  let tails: WorkerLogTail[] | undefined;
  const pump = async () => {
    for (const tail of tails ?? []) {
      const text = await tail.poll().catch(() => "");
      if (text) {
        io.write(tail.logType, text);
        out.push(tail.logType, text);
      }
    }
  };
  let lastState = "SUBMITTED";
  let failingSince: number | undefined;
  try {
    for (;;) {
      if (io.signal.aborted) return { ok: false, state: "KILLED", driverId, appId: out.appId, retryable: true, error: "The Spark driver was killed because the task was stopped." };
      let state: string | undefined;
      try {
        const s = await rest.status(driverId);
        if (!s.success) throw new SparkHttpError(`The master does not know driver ${driverId} (${s.message ?? "no message"}); it may have restarted without recovery.`, { url: t.restUrl });
        failingSince = undefined;
        state = s.driverState ?? "UNKNOWN";
        if (!tails && s.workerId) {
          const worker = (await fetchMasterStatus(t.webUiUrl, { token: t.token })).workers.find((w) => w.id === s.workerId);
          if (worker) tails = [new WorkerLogTail(worker.webuiaddress, driverId, "stdout", t.token), new WorkerLogTail(worker.webuiaddress, driverId, "stderr", t.token)];
        }
      } catch (err) {
        failingSince ??= Date.now();
        if (Date.now() - failingSince > UNREACHABLE_GRACE_MS) {
          return { ok: false, state: "UNKNOWN", driverId, appId: out.appId, retryable: true, error: `Lost track of driver ${driverId}: ${(err as Error).message}` };
        }
      }
      await pump();
      if (state && state !== lastState) {
        lastState = state;
        io.note({ state });
        io.write("log", `[INFO] Driver ${driverId} is ${state}.\n`);
      }
      if (state && FINAL_DRIVER_STATES.has(state)) break;
      await sleep(t.pollIntervalMs, undefined, { signal: io.signal }).catch(() => {});
    }
    // The worker may still be flushing the last lines when the state flips.
    await pump();
    out.end();
  } finally {
    io.signal.removeEventListener("abort", killOrder);
  }
  const ids = { driverId, appId: out.appId };
  if (lastState === "FINISHED") return { ok: true, state: lastState, ...ids, retryable: false };
  const what = lastState === "KILLED" ? `Spark driver ${driverId} was killed (by someone other than this task).` : `Spark driver ${driverId} ended ${lastState}.`;
  return { ok: false, state: lastState, ...ids, retryable: true, error: failureMessage(what, out) };
}
