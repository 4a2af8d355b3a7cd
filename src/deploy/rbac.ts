/**
 * What the scheduler's Kubernetes executor may do, and nothing more: run a
 * pod per task attempt (create, watch, delete; get/list to adopt the pods of
 * a dead scheduler) and read their logs before deleting them. With the Sluice
 * autoscaler, a second account that may only scale the workers. Namespaced,
 * never cluster-wide.
 */
import { type DeployOptions } from "./options.js";
import { autoscalerServiceAccountName, meta, objectName, serviceAccountName, type K8sObject } from "./k8s.js";

export const EXECUTOR_RULES = [
  { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
];

/** What `sluice autoscaler` may do: read and set the workers' replicas, and read their CPU and memory from metrics-server. */
export const AUTOSCALER_RULES = [
  { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["get", "update"] },
  { apiGroups: ["metrics.k8s.io"], resources: ["pods"], verbs: ["get", "list"] },
];

/** A ServiceAccount with a Role of `rules`, bound to it. */
function accountWithRole(o: DeployOptions, sa: string, role: string, rules: typeof EXECUTOR_RULES, automount: boolean): K8sObject[] {
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(o, sa, "rbac"), automountServiceAccountToken: automount },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta(o, role, "rbac"), rules: rules.map((r) => ({ ...r, verbs: [...r.verbs] })) },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(o, role, "rbac"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: o.namespace }],
    },
  ];
}

export function rbacObjects(o: DeployOptions): K8sObject[] {
  const own = o.executor === "queue" && o.workers.sluiceAutoscaler ? accountWithRole(o, autoscalerServiceAccountName(o), objectName(o, "autoscaler"), AUTOSCALER_RULES, false) : [];
  return [...accountWithRole(o, serviceAccountName(o), objectName(o, "executor"), EXECUTOR_RULES, false), ...own];
}
