/**
 * `sluice deploy k8s`: options in, Kubernetes objects out, in the order
 * `kubectl apply -f` wants them (Namespace first, workloads after what they
 * reference). Pure: no I/O, so the committed deploy/k8s files can be checked
 * against it.
 */
import { stringify } from "yaml";
import { apiObjects } from "./api.js";
import { configMapObject, namespaceObject, secretObject } from "./config.js";
import type { K8sObject } from "./k8s.js";
import { networkPolicies } from "./network.js";
import { parseDeployOptions, type DeployOptions } from "./options.js";
import { postgresObjects } from "./postgres.js";
import { rbacObjects } from "./rbac.js";
import { schedulerObjects } from "./scheduler.js";
import { autoscalerObjects, workerObjects } from "./workers.js";

export function renderManifests(options: DeployOptions): K8sObject[] {
  const secret = secretObject(options);
  return [
    namespaceObject(options),
    ...rbacObjects(options),
    configMapObject(options),
    ...(secret ? [secret] : []),
    ...postgresObjects(options),
    ...apiObjects(options),
    ...schedulerObjects(options),
    // With pods per attempt there is no worker pool to run or scale.
    ...(options.executor === "queue" ? [...workerObjects(options), ...autoscalerObjects(options)] : []),
    ...networkPolicies(options),
  ];
}

/** Validate raw options (from --values and flags) and render. */
export function renderFromInput(input: unknown, source?: string): K8sObject[] {
  return renderManifests(parseDeployOptions(input, source));
}

export const HEADER = "# Rendered by `sluice deploy k8s`; edit the options and re-render rather than this file.\n";

export function toYaml(obj: K8sObject): string {
  // lineWidth 0: never fold long strings (the KEDA query stays on one line).
  // YAML 1.1 quoting: kubectl's parser still reads yes/no/on/off as booleans, so such strings must be quoted.
  return stringify(obj, { lineWidth: 0, version: "1.1" });
}

/** Multi-document YAML for `kubectl apply -f -`. */
export function toMultiDocYaml(objects: K8sObject[]): string {
  return HEADER + objects.map((o) => `---\n${toYaml(o)}`).join("");
}

/** One file per object: "07-deployment-sluice-api.yaml"; the number keeps the apply order. */
export function manifestFiles(objects: K8sObject[]): { file: string; content: string }[] {
  const width = String(objects.length).length < 2 ? 2 : String(objects.length).length;
  return objects.map((o, i) => ({
    file: `${String(i + 1).padStart(width, "0")}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`,
    content: HEADER + toYaml(o),
  }));
}
