/**
 * The spark-operator SparkApplication (sparkoperator.k8s.io/v1beta2) for a
 * job: what the operator needs to run the driver and executors as pods,
 * labelled with the attempt. Checked in the tests against the operator's CRD
 * schema (schemas/spark-operator/), as the API server would check it.
 */
import { attemptAnnotations, attemptLabels } from "./kubeNames.js";
import { SparkConnectionError, type KubernetesTarget } from "./sparkConnection.js";
import { isRemoteUri, optionConf, type SparkJob } from "./sparkJob.js";

export interface SparkApplicationObject {
  apiVersion: "sparkoperator.k8s.io/v1beta2";
  kind: "SparkApplication";
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
}

/** Where the cluster reads the application: a URI (local:// inside the image, s3a://, https://, …), never a path on this machine. */
export function clusterApplicationUri(job: SparkJob, t: KubernetesTarget): string {
  if (isRemoteUri(job.application)) return job.application;
  throw new SparkConnectionError(
    t.connId,
    `the application "${job.application}" is a path on the machine running the task, which pods on Kubernetes cannot read. ` +
      "Give a URI the cluster can read: local:///opt/spark/work-dir/job.py (a file inside the image), s3a://bucket/job.py, https://…",
  );
}

export function buildSparkApplication(job: SparkJob, t: KubernetesTarget, name: string): SparkApplicationObject {
  const k = job.kubernetes ?? {};
  const image = k.image ?? t.kubernetes.image;
  if (!image) throw new SparkConnectionError(t.connId, "Spark on Kubernetes needs a container image: set extra.kubernetes.image on the connection or kubernetes.image on the task.");
  const namespace = k.namespace ?? t.kubernetes.namespace;
  const serviceAccount = k.serviceAccount ?? t.kubernetes.serviceAccount;
  const podLabels = { ...attemptLabels(job.attempt), ...(k.labels ?? {}) };
  // Memory and cores go to the driver/executor sections, everything else to sparkConf.
  const { "spark.executor.instances": instances, "spark.executor.cores": cores, "spark.executor.memory": executorMemory, "spark.driver.memory": driverMemory, ...sparkConf } = {
    ...job.conf,
    ...optionConf(job, false),
  };
  if (t.pythonPath) sparkConf["spark.pyspark.python"] ??= t.pythonPath;
  const spec: Record<string, unknown> = {
    type: job.isPython ? "Python" : "Java",
    mode: "cluster",
    image,
    mainApplicationFile: clusterApplicationUri(job, t),
    arguments: job.args,
    sparkVersion: k.sparkVersion ?? t.kubernetes.sparkVersion,
    sparkConf,
    // Sluice's own retries decide whether a failed attempt runs again, not the operator.
    restartPolicy: { type: "Never" },
    driver: {
      cores: 1,
      ...(driverMemory ? { memory: driverMemory } : {}),
      ...(serviceAccount ? { serviceAccount } : {}),
      labels: podLabels,
      annotations: attemptAnnotations(job.attempt),
    },
    executor: {
      instances: positiveInt(instances, "spark.executor.instances", t),
      cores: positiveInt(cores, "spark.executor.cores", t),
      ...(executorMemory ? { memory: executorMemory } : {}),
      labels: podLabels,
    },
  };
  const pullPolicy = k.imagePullPolicy ?? t.kubernetes.imagePullPolicy;
  if (pullPolicy) spec.imagePullPolicy = pullPolicy;
  if (job.mainClass) spec.mainClass = job.mainClass;
  if (job.isPython) spec.pythonVersion = "3";
  if (job.pyFiles.length > 0) spec.deps = { pyFiles: job.pyFiles };
  return {
    apiVersion: "sparkoperator.k8s.io/v1beta2",
    kind: "SparkApplication",
    metadata: { name, namespace, labels: attemptLabels(job.attempt), annotations: attemptAnnotations(job.attempt) },
    spec,
  };
}

/** An integer setting of the driver/executor sections (1 when unset); a clear error for text like "two". */
function positiveInt(value: string | undefined, key: string, t: KubernetesTarget): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new SparkConnectionError(t.connId, `${key} is "${value}"; on Kubernetes it must be a whole number of at least 1.`);
  return n;
}
