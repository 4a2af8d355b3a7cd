/**
 * The worker pool: a Deployment of `sluice worker` and what scales it, one of
 * a HorizontalPodAutoscaler on CPU and memory, (with keda) a KEDA
 * ScaledObject that adds queue depth read from PostgreSQL, or (with
 * sluiceAutoscaler) `sluice autoscaler` in its own Deployment. Never two: two
 * autoscalers on one Deployment fight over its replica count.
 */
import { type DeployOptions } from "./options.js";
import { envNameFor } from "../config/loadConfig.js";
import { parseQuantity } from "../kube/quantity.js";
import { meta, objectName, selectorLabels, sluiceContainer, sluicePodTemplate, type K8sObject } from "./k8s.js";

/** Seconds a worker gets on SIGTERM to finish or hand back its attempts before the kubelet kills it. */
export const WORKER_GRACE_SECONDS = 120;

/**
 * The queue rule the Airflow chart uses with KEDA: ceil((queued + running) / concurrency)
 * workers, so targetQueryValue 1 means "one pod per result unit".
 */
export function kedaQuery(o: DeployOptions): string {
  return (
    `SELECT ceil(count(*)::decimal / ${o.workers.concurrency}) FROM task_instance ` +
    `WHERE state IN ('queued','running') AND queue = '${o.workers.queue}'`
  );
}

export function workerObjects(o: DeployOptions): K8sObject[] {
  const name = objectName(o, "worker");
  const w = o.workers;
  const container = sluiceContainer(o, "worker", ["sluice", "worker"], w.resources, {
    dagSync: true,
    env: [{ name: "SLUICE_WORKER__CONCURRENCY", value: String(w.concurrency) }],
  });
  // The queue as an argument: the same queue the KEDA query counts.
  container.args = ["--queues", w.queue];
  const deployment: K8sObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(o, name, "worker"),
    spec: {
      // The autoscaler owns the replica count from here on; this is only the first value.
      replicas: Math.max(w.minReplicas, 1),
      selector: { matchLabels: selectorLabels(o, "worker") },
      template: sluicePodTemplate(o, "worker", container, { dagSync: true, terminationGracePeriodSeconds: WORKER_GRACE_SECONDS }),
    },
  };
  const target = { apiVersion: "apps/v1", kind: "Deployment", name };
  if (w.sluiceAutoscaler) return [deployment];
  if (w.keda) {
    return [
      deployment,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: meta(o, name, "worker"),
        spec: {
          scaleTargetRef: target,
          minReplicaCount: w.minReplicas,
          maxReplicaCount: w.maxReplicas,
          pollingInterval: 15,
          cooldownPeriod: w.scaleDownStabilizationSeconds,
          advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: w.scaleDownStabilizationSeconds } } } },
          triggers: [
            {
              type: "postgresql",
              name: "queue-depth",
              // The worker container's SLUICE_DB_URL (from the Secret): KEDA reads it from the target's env.
              metadata: { connectionFromEnv: "SLUICE_DB_URL", query: kedaQuery(o), targetQueryValue: "1", activationTargetQueryValue: "0" },
            },
            { type: "cpu", name: "cpu", metricType: "Utilization", metadata: { value: String(w.targetCpuUtilization) } },
            { type: "memory", name: "memory", metricType: "Utilization", metadata: { value: String(w.targetMemoryUtilization) } },
          ],
        },
      },
    ];
  }
  return [
    deployment,
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta(o, name, "worker"),
      spec: {
        scaleTargetRef: target,
        minReplicas: w.minReplicas,
        maxReplicas: w.maxReplicas,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: w.targetCpuUtilization } } },
          { type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: w.targetMemoryUtilization } } },
        ],
        behavior: {
          scaleDown: { stabilizationWindowSeconds: w.scaleDownStabilizationSeconds, policies: [{ type: "Percent", value: 50, periodSeconds: 60 }] },
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 4, periodSeconds: 60 }], selectPolicy: "Max" },
        },
      },
    },
  ];
}

/**
 * `sluice autoscaler` in the cluster (workers.sluiceAutoscaler): one pod that
 * sizes the worker Deployment through its scale subresource, from the queue
 * and from the workers' CPU and memory (metrics-server). The HPA's targets are
 * a share of the request; Sluice's are per worker, so they are derived from
 * the workers' requests (no request, no target: the queue rule alone).
 */
export function autoscalerObjects(o: DeployOptions): K8sObject[] {
  const w = o.workers;
  if (!w.sluiceAutoscaler) return [];
  const name = objectName(o, "autoscaler");
  const env: Record<string, string> = {
    "autoscaler.enabled": "true",
    "autoscaler.actuator": "kubernetes",
    "autoscaler.deployment": objectName(o, "worker"),
    "autoscaler.namespace": o.namespace,
    "autoscaler.queues": JSON.stringify([w.queue]),
    "autoscaler.min": String(w.minReplicas),
    "autoscaler.max": String(w.maxReplicas),
    "autoscaler.stabilizationWindowMs": String(w.scaleDownStabilizationSeconds * 1000),
    "worker.concurrency": String(w.concurrency),
    "kubernetes.inCluster": "true",
  };
  const cpu = w.resources.requests?.cpu;
  if (cpu) env["autoscaler.targets.cpu"] = String(round3((parseQuantity(cpu) * w.targetCpuUtilization) / 100));
  const memory = w.resources.requests?.memory;
  if (memory) env["autoscaler.targets.memory"] = String(round3((parseQuantity(memory) / 2 ** 20) * (w.targetMemoryUtilization / 100)));
  const container = sluiceContainer(o, "autoscaler", ["sluice", "autoscaler"], { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } }, {
    env: Object.entries(env).map(([key, value]) => ({ name: envNameFor(key), value })),
  });
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(o, name, "autoscaler"),
      spec: {
        // One decider: two would each apply their own stabilisation window.
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: selectorLabels(o, "autoscaler") },
        template: sluicePodTemplate(o, "autoscaler", container, { dagSync: false }),
      },
    },
  ];
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
