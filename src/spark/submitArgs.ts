/**
 * spark-submit command lines: standalone client mode (the driver runs in the
 * spark-submit process beside the task) and Kubernetes cluster mode
 * (spark-submit creates the driver pod and waits for it). Everything is
 * passed as --conf so the argv says exactly which properties were set.
 */
import { join } from "node:path";
import { attemptAnnotations, attemptLabels } from "./kubeNames.js";
import { SparkConnectionError, type KubernetesTarget, type SparkTarget, type StandaloneTarget } from "./sparkConnection.js";
import { optionConf, type SparkJob } from "./sparkJob.js";

/** bin/spark-submit of the connection's sparkHome, else $SPARK_HOME's, else `spark-submit` from PATH. */
export function sparkSubmitPath(t: Pick<SparkTarget, "sparkHome">, env: NodeJS.ProcessEnv): string {
  const home = t.sparkHome ?? env.SPARK_HOME;
  return home ? join(home, "bin", "spark-submit") : "spark-submit";
}

function confArgs(conf: Record<string, string>): string[] {
  return Object.entries(conf)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([k, v]) => ["--conf", `${k}=${v}`]);
}

function common(job: SparkJob, master: string, deployMode: "client" | "cluster"): string[] {
  const out = ["--master", master, "--deploy-mode", deployMode, "--name", job.name];
  if (job.mainClass) out.push("--class", job.mainClass);
  if (job.pyFiles.length > 0) out.push("--py-files", job.pyFiles.join(","));
  return out;
}

/** Arguments of spark-submit (without the executable) for standalone client mode. */
export function standaloneClientArgv(job: SparkJob, t: StandaloneTarget): string[] {
  const conf: Record<string, string> = { ...job.conf, ...optionConf(job, true) };
  if (t.pythonPath) conf["spark.pyspark.python"] ??= t.pythonPath;
  return [...common(job, t.master, "client"), ...confArgs(conf), job.application, ...job.args];
}

export interface KubeSubmitFiles {
  /** File holding the bearer token (spark-submit reads it; a token in argv would be visible to every user). */
  tokenFile?: string;
  /** File holding the API server's CA certificate (PEM). */
  caCertFile?: string;
}

/** Name of the driver pod spark-submit creates for this job (set explicitly so a cancel can delete it). */
export function kubeDriverPodName(appName: string): string {
  return `${appName}-driver`;
}

/** Arguments of spark-submit for Kubernetes cluster mode (`--master k8s://…`). */
export function kubeSubmitArgv(job: SparkJob, t: KubernetesTarget, appName: string, files: KubeSubmitFiles = {}): string[] {
  const k = { ...t.kubernetes, ...stripUndefined(job.kubernetes ?? {}) };
  const image = job.kubernetes?.image ?? t.kubernetes.image;
  if (!image) throw new SparkConnectionError(t.connId, "Spark on Kubernetes needs a container image: set extra.kubernetes.image on the connection or kubernetes.image on the task.");
  const conf: Record<string, string> = {
    ...job.conf,
    ...optionConf(job, false),
    "spark.kubernetes.namespace": k.namespace,
    "spark.kubernetes.container.image": image,
    "spark.kubernetes.driver.pod.name": kubeDriverPodName(appName),
    "spark.kubernetes.submission.waitAppCompletion": "true",
  };
  if (k.serviceAccount) conf["spark.kubernetes.authenticate.driver.serviceAccountName"] = k.serviceAccount;
  if (k.imagePullPolicy) conf["spark.kubernetes.container.image.pullPolicy"] = k.imagePullPolicy;
  if (files.tokenFile) conf["spark.kubernetes.authenticate.submission.oauthTokenFile"] = files.tokenFile;
  if (files.caCertFile) conf["spark.kubernetes.authenticate.submission.caCertFile"] = files.caCertFile;
  if (t.pythonPath) conf["spark.pyspark.python"] ??= t.pythonPath;
  const labels = { ...attemptLabels(job.attempt), ...(job.kubernetes?.labels ?? {}) };
  for (const [key, value] of Object.entries(labels)) {
    conf[`spark.kubernetes.driver.label.${key}`] = value;
    conf[`spark.kubernetes.executor.label.${key}`] = value;
  }
  for (const [key, value] of Object.entries(attemptAnnotations(job.attempt))) conf[`spark.kubernetes.driver.annotation.${key}`] = value;
  return [...common(job, t.master, "cluster"), ...confArgs(conf), job.application, ...job.args];
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
