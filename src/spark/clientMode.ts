/**
 * Standalone client mode: `spark-submit --master spark://… --deploy-mode
 * client` runs the driver beside the task; its exit code is the outcome. On
 * cancel or timeout the application is killed through the master UI (so the
 * master shows it KILLED) and the spark-submit process group is ended.
 */
import { DriverOutput, failureMessage } from "./driverOutput.js";
import type { StandaloneTarget } from "./sparkConnection.js";
import type { SparkEnd, SparkIO, SparkJob } from "./sparkJob.js";
import { runSparkSubmit } from "./submitProcess.js";
import { sparkSubmitPath, standaloneClientArgv } from "./submitArgs.js";

/** The child's environment: the task's, plus where Spark and the PySpark Python are. */
export function submitEnv(t: { sparkHome?: string; pythonPath?: string }, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(t.sparkHome ? { SPARK_HOME: t.sparkHome } : {}),
    ...(t.pythonPath ? { PYSPARK_PYTHON: t.pythonPath, PYSPARK_DRIVER_PYTHON: t.pythonPath } : {}),
  };
}

export async function runClientMode(job: SparkJob, t: StandaloneTarget, io: SparkIO, env: NodeJS.ProcessEnv): Promise<SparkEnd> {
  const out = new DriverOutput((appId) => io.note({ app_id: appId, state: "RUNNING" }));
  const exe = sparkSubmitPath(t, env);
  const argv = standaloneClientArgv(job, t);
  io.write("log", `[INFO] spark-submit (client mode) to ${t.master}: ${exe} ${argv.join(" ")}\n`);
  const exit = await runSparkSubmit(exe, argv, submitEnv(t, env), io, out, (pgid) => ({ kind: "standalone-app", webUiUrl: t.webUiUrl, appId: out.appId, token: t.token, pgid }));
  const ids = { appId: out.appId };
  if (exit.spawnError) {
    const missing = (exit.spawnError as NodeJS.ErrnoException).code === "ENOENT";
    return {
      ok: false,
      state: "NOT_STARTED",
      ...ids,
      retryable: !missing,
      error: missing
        ? `Could not start ${exe}: not found. Set sparkHome in the Spark connection's extra (a folder with bin/spark-submit), or SPARK_HOME for the task processes, or put spark-submit on PATH.`
        : `Could not start ${exe}: ${exit.spawnError.message}`,
    };
  }
  if (exit.aborted) return { ok: false, state: "KILLED", ...ids, retryable: true, error: "The Spark application was killed because the task was stopped." };
  if (exit.code === 0) return { ok: true, state: "FINISHED", ...ids, retryable: false };
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return { ok: false, state: "FAILED", ...ids, retryable: true, error: failureMessage(`spark-submit (client mode, ${out.appId ?? "no application id"}) ${how}.`, out) };
}
