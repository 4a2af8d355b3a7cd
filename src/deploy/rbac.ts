/**
 * What the scheduler's Kubernetes executor may do, and nothing more: run a
 * pod per task attempt (create, watch, delete; get/list to adopt the pods of
 * a dead scheduler) and read their logs before deleting them. Namespaced,
 * never cluster-wide.
 */
import { type DeployOptions } from "./options.js";
import { meta, objectName, serviceAccountName, type K8sObject } from "./k8s.js";

export const EXECUTOR_RULES = [
  { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
];

export function rbacObjects(o: DeployOptions): K8sObject[] {
  const sa = serviceAccountName(o);
  const role = objectName(o, "executor");
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(o, sa, "rbac"), automountServiceAccountToken: false },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta(o, role, "rbac"), rules: EXECUTOR_RULES.map((r) => ({ ...r, verbs: [...r.verbs] })) },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(o, role, "rbac"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
      subjects: [{ kind: "ServiceAccount", name: sa, namespace: o.namespace }],
    },
  ];
}
