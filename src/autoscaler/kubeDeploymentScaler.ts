/**
 * The Kubernetes actuator: the replicas of a worker Deployment, read and set
 * through its scale subresource (GET/PUT …/deployments/<name>/scale), the
 * same call `kubectl scale` and the HPA make. CPU and memory of the
 * Deployment's pods come from metrics-server (metrics.k8s.io, what the HPA
 * reads too), selected by the selector the scale subresource reports; a
 * cluster without metrics-server leaves the queue rule alone to decide.
 * Network is not measured on Kubernetes (metrics-server has no such metric).
 * @kubernetes/client-node is loaded on first use (~0.4 s).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { loadK8s, type K8s } from "../kube/client.js";
import { parseQuantity } from "../kube/quantity.js";
import type { Actuator } from "./actuator.js";
import type { ResourceTargets } from "./decide.js";

/** A PodMetrics item of metrics.k8s.io/v1beta1 (the part read here). */
interface PodMetrics {
  metadata?: { name?: string };
  containers?: { name?: string; usage?: { cpu?: string; memory?: string } }[];
}

export interface KubeDeploymentScalerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Deployment name; "{queue}" is replaced by the queue. */
  deployment: string;
}

export class KubeDeploymentScaler implements Actuator {
  readonly name = "kubernetes";
  private api: Promise<InstanceType<K8s["AppsV1Api"]>> | undefined;
  private custom: Promise<InstanceType<K8s["CustomObjectsApi"]>> | undefined;

  constructor(private readonly o: KubeDeploymentScalerOptions) {}

  private apps() {
    return (this.api ??= loadK8s().then((k8s) => this.o.kubeConfig.makeApiClient(k8s.AppsV1Api)));
  }

  deploymentOf(queue: string): string {
    return this.o.deployment.replaceAll("{queue}", queue);
  }

  async current(queue: string): Promise<number> {
    const scale = await (await this.apps()).readNamespacedDeploymentScale({ name: this.deploymentOf(queue), namespace: this.o.namespace });
    return scale.spec?.replicas ?? 0;
  }

  async scale(queue: string, replicas: number): Promise<void> {
    const name = this.deploymentOf(queue);
    const api = await this.apps();
    // Read first so the PUT carries the resourceVersion: a concurrent change (kubectl scale) makes it fail with 409 instead of being overwritten.
    const scale = await api.readNamespacedDeploymentScale({ name, namespace: this.o.namespace });
    await api.replaceNamespacedDeploymentScale({
      name,
      namespace: this.o.namespace,
      body: { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name, namespace: this.o.namespace, resourceVersion: scale.metadata?.resourceVersion }, spec: { replicas } },
    });
  }

  pids(): undefined {
    return undefined;
  }

  /**
   * Average CPU (cores) and memory (MiB) per pod of the queue's Deployment, from
   * metrics-server. Undefined when no pod has metrics yet (none running, or just
   * started); a missing metrics API (404) or RBAC refusal throws, for the loop to log.
   */
  async usage(queue: string): Promise<ResourceTargets | undefined> {
    const name = this.deploymentOf(queue);
    const scale = await (await this.apps()).readNamespacedDeploymentScale({ name, namespace: this.o.namespace });
    const selector = scale.status?.selector;
    if (!selector) return undefined;
    const custom = await (this.custom ??= loadK8s().then((k8s) => this.o.kubeConfig.makeApiClient(k8s.CustomObjectsApi)));
    const list = (await custom.listNamespacedCustomObject({ group: "metrics.k8s.io", version: "v1beta1", namespace: this.o.namespace, plural: "pods", labelSelector: selector })) as { items?: PodMetrics[] };
    const pods = (list.items ?? []).filter((p) => (p.containers ?? []).length > 0);
    if (pods.length === 0) return undefined;
    let cpu = 0;
    let memory = 0;
    for (const p of pods) {
      for (const c of p.containers ?? []) {
        cpu += parseQuantity(c.usage?.cpu ?? "0");
        memory += parseQuantity(c.usage?.memory ?? "0") / 2 ** 20;
      }
    }
    return { cpu: cpu / pods.length, memory: memory / pods.length };
  }

  async stop(): Promise<void> {}
}
