/**
 * The in-cluster PostgreSQL (database.mode "internal"): a one-replica
 * StatefulSet whose data lives on a PersistentVolumeClaim from the
 * volumeClaimTemplate, and a headless Service. For production a managed
 * database (mode "external") is the better choice: backups and failover.
 */
import { type DeployOptions } from "./options.js";
import { containerSecurityContext, meta, objectName, podSecurityContext, secretName, selectorLabels, type K8sObject } from "./k8s.js";

export const POSTGRES_PORT = 5432;
/** The uid the official postgres image (Debian variant) runs as. */
const POSTGRES_UID = 999;

export const postgresServiceName = (o: DeployOptions): string => objectName(o, "postgres");

export function postgresObjects(o: DeployOptions): K8sObject[] {
  const db = o.database;
  if (db.mode !== "internal") return [];
  const name = postgresServiceName(o);
  const secret = secretName(o);
  const probe = (extra: Record<string, unknown>) => ({ exec: { command: ["pg_isready", "-U", "sluice", "-d", "sluice", "-h", "127.0.0.1"] }, ...extra });
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(o, name, "postgres"),
      spec: { clusterIP: "None", selector: selectorLabels(o, "postgres"), ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }] },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: meta(o, name, "postgres"),
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: selectorLabels(o, "postgres") },
        template: {
          metadata: { labels: meta(o, name, "postgres").labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(POSTGRES_UID),
            containers: [
              {
                name: "postgres",
                image: db.image,
                env: [
                  { name: "POSTGRES_USER", value: "sluice" },
                  { name: "POSTGRES_DB", value: "sluice" },
                  { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: secret, key: "postgres-password" } } },
                  // A subfolder: the volume's root holds lost+found on many storage classes, which initdb refuses.
                  { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                ],
                ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
                readinessProbe: probe({ periodSeconds: 10, timeoutSeconds: 5 }),
                livenessProbe: probe({ initialDelaySeconds: 30, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 }),
                resources: { ...(db.resources.requests ? { requests: db.resources.requests } : {}), ...(db.resources.limits ? { limits: db.resources.limits } : {}) },
                // The image writes its socket under /var/run/postgresql: mounted as an emptyDir, so the root stays read-only.
                securityContext: containerSecurityContext(),
                volumeMounts: [
                  { name: "data", mountPath: "/var/lib/postgresql/data" },
                  { name: "run", mountPath: "/var/run/postgresql" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "run", emptyDir: {} },
              { name: "tmp", emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data", labels: meta(o, name, "postgres").labels },
            spec: {
              accessModes: ["ReadWriteOnce"],
              ...(db.storageClassName ? { storageClassName: db.storageClassName } : {}),
              resources: { requests: { storage: db.storage } },
            },
          },
        ],
      },
    },
  ];
}
