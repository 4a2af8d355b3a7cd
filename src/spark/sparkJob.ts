/**
 * What every submission path works from: the application resolved for one
 * attempt (paths made absolute, per-run arguments computed), the Spark
 * properties its options mean, and the attempt it belongs to. The runner
 * builds it; client mode, the REST submission and Kubernetes only read it.
 */
import type { SparkKubernetesSpec } from "../core/dagSpec.js";

/** The task attempt a Spark application belongs to (labels, names, the cluster view's link). */
export interface AttemptRef {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

export interface SparkJob {
  /** spark.app.name */
  name: string;
  /** Absolute path of a local .py/.jar, or a URL (local://, s3a://, hdfs://, https://…) the cluster reads. */
  application: string;
  isPython: boolean;
  mainClass?: string;
  args: string[];
  /** The task's conf plus what its options mean (executor cores/memory, …); options win over conf. */
  conf: Record<string, string>;
  driverMemory?: string;
  executorCores?: number;
  executorMemory?: string;
  numExecutors?: number;
  pyFiles: string[];
  kubernetes?: SparkKubernetesSpec;
  attempt: AttemptRef;
}

/** How a submission path talks back to the attempt. */
export interface SparkIO {
  /** Aborted when the attempt is cancelled or times out: the application must be killed. */
  signal: AbortSignal;
  /** Driver output into the task log. */
  write(stream: "stdout" | "stderr" | "log", text: string): void;
  /** A process group started for the attempt (killed with the task process if that is killed). */
  onSpawn?(pgid: number): void;
  /** Ids and states as they are learned (recorded in spark_app for the cluster view). */
  note(patch: { app_id?: string; driver_id?: string; state?: string }): void;
  /** A private folder of the attempt (token files). */
  scratchDir(): Promise<string>;
}

/** How a submission ended. */
export interface SparkEnd {
  ok: boolean;
  /** Final state as Spark reports it (FINISHED, FAILED, KILLED, COMPLETED, EXIT_1, …). */
  state: string;
  appId?: string;
  driverId?: string;
  /** Why it failed, with the driver's last error lines. */
  error?: string;
  /** A failure of the infrastructure (or of the job) the retry policy may repeat; false for configuration errors. */
  retryable: boolean;
}

/** Spark properties the task's options stand for (spark-submit's --executor-memory etc., written as conf). */
export function optionConf(job: Pick<SparkJob, "driverMemory" | "executorCores" | "executorMemory" | "numExecutors">, standalone: boolean): Record<string, string> {
  const conf: Record<string, string> = {};
  if (job.driverMemory) conf["spark.driver.memory"] = job.driverMemory;
  if (job.executorMemory) conf["spark.executor.memory"] = job.executorMemory;
  if (job.executorCores !== undefined) conf["spark.executor.cores"] = String(job.executorCores);
  if (job.numExecutors !== undefined) {
    conf["spark.executor.instances"] = String(job.numExecutors);
    // Standalone ignores executor.instances: it hands an app every free core unless cores.max caps it.
    if (standalone) conf["spark.cores.max"] = String(job.numExecutors * (job.executorCores ?? 1));
  }
  return conf;
}

/** True for a URL scheme Spark reads itself (not a path on this machine). */
export function isRemoteUri(path: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith("file://");
}
