export { parseDeployOptions, DeployOptionsSchema, type DeployOptions, type DeployOptionsInput } from "./options.js";
export { renderManifests, renderFromInput, toMultiDocYaml, manifestFiles, toYaml } from "./render.js";
export { AUTOSCALER_RULES, EXECUTOR_RULES } from "./rbac.js";
export { kedaQuery } from "./workers.js";
export { PLACEHOLDER, PLACEHOLDER_ANNOTATION } from "./config.js";
export type { K8sObject } from "./k8s.js";
