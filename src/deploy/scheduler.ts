/** The scheduler: a Deployment (two replicas on PostgreSQL, which coordinates them) and its PodDisruptionBudget. */
import { type DeployOptions } from "./options.js";
import { meta, objectName, selectorLabels, sluiceContainer, sluicePodTemplate, type K8sObject } from "./k8s.js";

export function schedulerObjects(o: DeployOptions): K8sObject[] {
  const name = objectName(o, "scheduler");
  // No HTTP probe: `sluice scheduler` serves no port. A stuck scheduler shows as a stale heartbeat on the API's /health.
  const container = sluiceContainer(o, "scheduler", ["sluice", "scheduler"], o.scheduler.resources, { dagSync: true });
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(o, name, "scheduler"),
      spec: {
        replicas: o.scheduler.replicas,
        selector: { matchLabels: selectorLabels(o, "scheduler") },
        template: sluicePodTemplate(o, "scheduler", container, { dagSync: true, terminationGracePeriodSeconds: 30 }),
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(o, name, "scheduler"),
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(o, "scheduler") } },
    },
  ];
}
