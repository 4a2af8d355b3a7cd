/**
 * Spark on Kubernetes without the operator: `spark-submit --master k8s://…
 * --deploy-mode cluster` creates the driver pod and, with
 * waitAppCompletion, streams its state until it ends; the exit code is the
 * outcome. On cancel the driver pod (named by us, so it can be found) is
 * deleted, which takes the executors with it, and spark-submit is ended.
 *
 * Tested only in pieces, never against a Kubernetes API: the command line
 * (kubeSubmitArgv) argument by argument in test/spark/sparkPieces.test.ts
 * ("Kubernetes cluster mode: …"), and the driver-output parsing it shares
 * with client mode (DriverOutput, same file). runKubeSubmit itself — the
 * kubeconfig export, the exit-code outcome, deleting the driver pod on
 * cancel — has not run in any test nor against a real cluster.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { submitEnv } from "./clientMode.js";
import { DriverOutput, failureMessage } from "./driverOutput.js";
import { kubeConfigFor, KubeSparkApi } from "./kubeClient.js";
import { attemptName } from "./kubeNames.js";
import { clusterApplicationUri } from "./sparkApplication.js";
import type { KubernetesTarget } from "./sparkConnection.js";
import type { SparkEnd, SparkIO, SparkJob } from "./sparkJob.js";
import { runSparkSubmit } from "./submitProcess.js";
import { kubeDriverPodName, kubeSubmitArgv, sparkSubmitPath, type KubeSubmitFiles } from "./submitArgs.js";

export async function runKubeSubmit(job: SparkJob, t: KubernetesTarget, io: SparkIO, env: NodeJS.ProcessEnv): Promise<SparkEnd> {
  const name = attemptName(job.attempt);
  const pod = kubeDriverPodName(name);
  const namespace = job.kubernetes?.namespace ?? t.kubernetes.namespace;
  const files: KubeSubmitFiles = {};
  const dir = await io.scratchDir();
  if (t.token) {
    files.tokenFile = join(dir, "k8s-token");
    await writeFile(files.tokenFile, t.token, { mode: 0o600 });
  }
  if (t.kubernetes.caData) {
    files.caCertFile = join(dir, "k8s-ca.crt");
    await writeFile(files.caCertFile, Buffer.from(t.kubernetes.caData, "base64"), { mode: 0o600 });
  }
  const kubeconfig = (await KubeSparkApi.connect(await kubeConfigFor(t))).exportConfig();
  const exe = sparkSubmitPath(t, env);
  const argv = kubeSubmitArgv({ ...job, application: clusterApplicationUri(job, t) }, t, name, files);
  io.write("log", `[INFO] spark-submit (Kubernetes cluster mode, driver pod ${namespace}/${pod}): ${exe} ${argv.join(" ")}\n`);
  io.note({ driver_id: pod, state: "SUBMITTED" });
  const out = new DriverOutput((appId) => io.note({ app_id: appId }));
  const exit = await runSparkSubmit(exe, argv, submitEnv(t, env), io, out, (pgid) => ({ kind: "k8s-pod", kubeconfig, namespace, pod, pgid }));
  const ids = { driverId: pod, appId: out.appId };
  if (exit.spawnError) return { ok: false, state: "NOT_STARTED", ...ids, retryable: false, error: `Could not start ${exe}: ${exit.spawnError.message}. Set sparkHome in the connection's extra or SPARK_HOME.` };
  if (exit.aborted) return { ok: false, state: "KILLED", ...ids, retryable: true, error: `The driver pod ${namespace}/${pod} was deleted because the task was stopped.` };
  if (exit.code === 0) return { ok: true, state: "COMPLETED", ...ids, retryable: false };
  return { ok: false, state: "FAILED", ...ids, retryable: true, error: failureMessage(`spark-submit for driver pod ${namespace}/${pod} exited with code ${exit.code ?? exit.signal}.`, out) };
}
