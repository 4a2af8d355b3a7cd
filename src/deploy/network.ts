/**
 * NetworkPolicies: the API is reachable on its port from anywhere (the
 * Ingress controller, port-forward, task pods reporting back); PostgreSQL
 * only from this release's Sluice pods; schedulers, workers and the autoscaler accept no
 * inbound traffic at all (they only dial out).
 */
import { type DeployOptions } from "./options.js";
import { meta, objectName, selectorLabels, type K8sObject } from "./k8s.js";
import { POSTGRES_PORT } from "./postgres.js";

export function networkPolicies(o: DeployOptions): K8sObject[] {
  const release = { "app.kubernetes.io/name": "sluice", "app.kubernetes.io/instance": o.name };
  const policies: K8sObject[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(o, objectName(o, "api"), "network"),
      spec: { podSelector: { matchLabels: selectorLabels(o, "api") }, policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP", port: o.api.port }] }] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(o, objectName(o, "no-ingress"), "network"),
      spec: {
        podSelector: { matchLabels: release, matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["scheduler", "worker", "autoscaler"] }] },
        policyTypes: ["Ingress"],
      },
    },
  ];
  if (o.database.mode === "internal") {
    policies.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(o, objectName(o, "postgres"), "network"),
      spec: {
        podSelector: { matchLabels: selectorLabels(o, "postgres") },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: release, matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["api", "scheduler", "worker", "autoscaler"] }] } }],
            ports: [{ protocol: "TCP", port: POSTGRES_PORT }],
          },
        ],
      },
    });
  }
  return policies;
}
