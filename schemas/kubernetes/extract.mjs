#!/usr/bin/env node
/**
 * Re-creates definitions.json from the official Kubernetes OpenAPI v2 spec:
 * keeps only the definitions the kinds below need (followed through $ref) and
 * drops the `description` texts (half the size; validation does not read them).
 * Nothing else is changed: types, formats, required lists, enums and the
 * x-kubernetes-* extensions are as upstream.
 *
 *   node schemas/kubernetes/extract.mjs path/to/swagger.json > schemas/kubernetes/definitions.json
 */
import { readFileSync } from "node:fs";

const KINDS = {
  "v1/Namespace": "io.k8s.api.core.v1.Namespace",
  "v1/ConfigMap": "io.k8s.api.core.v1.ConfigMap",
  "v1/Secret": "io.k8s.api.core.v1.Secret",
  "v1/Service": "io.k8s.api.core.v1.Service",
  "v1/ServiceAccount": "io.k8s.api.core.v1.ServiceAccount",
  // The Kubernetes executor's task pods (src/executors/k8s/podManifest.ts).
  "v1/Pod": "io.k8s.api.core.v1.Pod",
  "apps/v1/Deployment": "io.k8s.api.apps.v1.Deployment",
  "apps/v1/StatefulSet": "io.k8s.api.apps.v1.StatefulSet",
  "networking.k8s.io/v1/Ingress": "io.k8s.api.networking.v1.Ingress",
  "networking.k8s.io/v1/NetworkPolicy": "io.k8s.api.networking.v1.NetworkPolicy",
  "autoscaling/v2/HorizontalPodAutoscaler": "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
  // The body the autoscaler's Deployment actuator PUTs on …/deployments/<name>/scale.
  "autoscaling/v1/Scale": "io.k8s.api.autoscaling.v1.Scale",
  "policy/v1/PodDisruptionBudget": "io.k8s.api.policy.v1.PodDisruptionBudget",
  "rbac.authorization.k8s.io/v1/Role": "io.k8s.api.rbac.v1.Role",
  "rbac.authorization.k8s.io/v1/RoleBinding": "io.k8s.api.rbac.v1.RoleBinding",
};

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const keep = {};
function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (!node || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "description" && typeof v === "string") continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strip(s)])) : strip(v);
  }
  return out;
}
function visit(name) {
  if (keep[name]) return;
  const def = spec.definitions[name];
  if (!def) throw new Error(`no definition ${name}`);
  keep[name] = strip(def);
  for (const m of JSON.stringify(def).matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)) visit(m[1]);
}
for (const name of Object.values(KINDS)) visit(name);
const definitions = Object.fromEntries(Object.keys(keep).sort().map((k) => [k, keep[k]]));
process.stdout.write(JSON.stringify({ kinds: KINDS, definitions }, null, 1) + "\n");
