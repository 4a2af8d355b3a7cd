/**
 * The Kubernetes actuator: the replicas of a worker Deployment, read and set
 * through its scale subresource (GET/PUT …/deployments/<name>/scale), the
 * same call `kubectl scale` and the HPA make. The Deployment's own pods are
 * not measured here (that needs metrics-server); with this actuator the
 * resource rules are left to a HorizontalPodAutoscaler and the queue rule
 * decides. @kubernetes/client-node is loaded on first use (~0.4 s).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { loadK8s, type K8s } from "../kube/client.js";
import type { Actuator } from "./actuator.js";

export interface KubeDeploymentScalerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Deployment name; "{queue}" is replaced by the queue. */
  deployment: string;
}

export class KubeDeploymentScaler implements Actuator {
  readonly name = "kubernetes";
  private api: Promise<InstanceType<K8s["AppsV1Api"]>> | undefined;

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

  async stop(): Promise<void> {}
}
