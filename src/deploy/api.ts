/** The REST API and web UI: Deployment, Service, Ingress and PodDisruptionBudget. */
import { type DeployOptions } from "./options.js";
import { API_SERVICE_PORT, meta, objectName, selectorLabels, sluiceContainer, sluicePodTemplate, type K8sObject } from "./k8s.js";

export function apiObjects(o: DeployOptions): K8sObject[] {
  const name = objectName(o, "api");
  const port = o.api.port;
  const probe = (extra: Record<string, unknown>) => ({ httpGet: { path: "/health", port: "http" }, timeoutSeconds: 5, ...extra });
  const container = sluiceContainer(o, "api", ["sluice", "api"], o.api.resources, {
    env: [
      { name: "SLUICE_API__HOST", value: "0.0.0.0" },
      { name: "SLUICE_API__PORT", value: String(port) },
    ],
    ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
    probes: {
      // /health answers 503 while the database is unreachable: the pod leaves the Service then,
      // but liveness waits a minute before restarting it, so a database blip does not restart every pod.
      startupProbe: probe({ periodSeconds: 5, failureThreshold: 24 }),
      readinessProbe: probe({ periodSeconds: 10, failureThreshold: 3 }),
      livenessProbe: probe({ periodSeconds: 20, failureThreshold: 3 }),
    },
  });
  const objects: K8sObject[] = [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(o, name, "api"),
      spec: {
        replicas: o.api.replicas,
        selector: { matchLabels: selectorLabels(o, "api") },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: sluicePodTemplate(o, "api", container, { dagSync: false }),
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(o, name, "api"),
      spec: { type: "ClusterIP", selector: selectorLabels(o, "api"), ports: [{ name: "http", port: API_SERVICE_PORT, targetPort: "http", protocol: "TCP" }] },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(o, name, "api"),
      // maxUnavailable rather than minAvailable: with one replica a drain still proceeds; with two, one always serves.
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(o, "api") } },
    },
  ];
  if (o.ingress.enabled) {
    const ing = o.ingress;
    objects.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: meta(o, name, "api"),
      spec: {
        ...(ing.className ? { ingressClassName: ing.className } : {}),
        ...(ing.tlsSecretName ? { tls: [{ hosts: [ing.host], secretName: ing.tlsSecretName }] } : {}),
        rules: [{ host: ing.host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { name: "http" } } } }] } }],
      },
    });
  }
  return objects;
}
