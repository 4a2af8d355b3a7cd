/**
 * The hardening of every pod Sluice puts on a cluster: the `sluice deploy k8s`
 * workloads and the Kubernetes executor's task pods. Together the two contexts
 * meet the PodSecurity "restricted" profile (non-root, no privilege escalation,
 * no capabilities, the runtime's default seccomp profile).
 */
import type { V1PodSecurityContext, V1SecurityContext } from "@kubernetes/client-node";

/** The uid/gid the Dockerfile creates; every Sluice container runs as it. */
export const SLUICE_UID = 10001;

/** Pod-level: never root, files group-owned by the Sluice gid, the runtime's default seccomp profile. */
export function podSecurityContext(uid = SLUICE_UID): V1PodSecurityContext {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

/** Container-level: no privilege escalation, no capabilities; a read-only root unless the program must write to it. */
export function containerSecurityContext(readOnlyRootFilesystem = true): V1SecurityContext {
  return { allowPrivilegeEscalation: false, readOnlyRootFilesystem, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };
}
