/**
 * The Namespace, the ConfigMap (Sluice config as SLUICE_* variables, the
 * same names `sluice config show` lists) and the Secret. The Secret carries
 * placeholders, never a usable credential: the secrets key placeholder is
 * not valid base64 of 32 bytes, so Sluice refuses to start until it is
 * replaced instead of running with a key everyone can read here.
 */
import { envNameFor } from "../config/loadConfig.js";
import { type DeployOptions } from "./options.js";
import { apiServiceUrl, configMapName, dagsFolder, meta, secretName, SLUICE_HOME, TASK_TOKEN_KEY, type K8sObject } from "./k8s.js";
import { POSTGRES_PORT, postgresServiceName } from "./postgres.js";

export const PLACEHOLDER = "REPLACE_ME";
export const PLACEHOLDER_ANNOTATION = "sluice.dev/placeholders";

export function namespaceObject(o: DeployOptions): K8sObject {
  const m = meta(o, o.namespace, "config");
  delete m.namespace;
  return { apiVersion: "v1", kind: "Namespace", metadata: m };
}

/** Config keys ("kubernetes.apiUrl") as the SLUICE_* variables the config loader reads, so a renamed option cannot drift from its variable. */
const envOf = (values: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(values).map(([key, value]) => [envNameFor(key), value]));

export function configMapObject(o: DeployOptions): K8sObject {
  const data: Record<string, string> = {
    SLUICE_HOME: SLUICE_HOME,
    SLUICE_DAGS_FOLDER: dagsFolder(o),
    SLUICE_LOGGING__LEVEL: "info",
    // "queue": schedulers queue attempts in PostgreSQL and the worker Deployment runs them.
    // "kubernetes": schedulers create a pod per attempt, here, from this image, reporting to the API Service.
    SLUICE_EXECUTOR__KIND: o.executor,
    ...(o.executor === "kubernetes"
      ? envOf({
          "kubernetes.inCluster": "true",
          "kubernetes.namespace": o.namespace,
          "kubernetes.image": o.image,
          "kubernetes.apiUrl": apiServiceUrl(o),
          "kubernetes.pendingTimeoutMs": String(o.taskPods.pendingTimeoutSeconds * 1000),
          "kubernetes.keepFailedPods": String(o.taskPods.keepFailedPods),
        })
      : {}),
    ...o.env,
  };
  return { apiVersion: "v1", kind: "ConfigMap", metadata: meta(o, configMapName(o), "config"), data: Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b))) };
}

export function secretObject(o: DeployOptions): K8sObject | undefined {
  if (!o.secrets.create) return undefined;
  const pgPassword = `${PLACEHOLDER}_postgres_password`;
  const dbUrl =
    o.database.mode === "internal"
      ? `postgres://sluice:${pgPassword}@${postgresServiceName(o)}.${o.namespace}.svc:${POSTGRES_PORT}/sluice`
      : `postgres://${PLACEHOLDER}_user:${PLACEHOLDER}_password@${PLACEHOLDER}_host:5432/sluice`;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta(o, secretName(o), "config", {
      [PLACEHOLDER_ANNOTATION]:
        "Every REPLACE_ME value is a placeholder: replace them before use (docs/kubernetes.md, step 'Secrets'). " +
        "secrets-key (and task-token-key): `openssl rand -base64 32`; postgres-password must match the password inside db-url.",
    }),
    type: "Opaque",
    stringData: {
      "db-url": dbUrl,
      "secrets-key": `${PLACEHOLDER}_with_openssl_rand_base64_32`,
      ...(o.database.mode === "internal" ? { "postgres-password": pgPassword } : {}),
      ...(o.executor === "kubernetes" ? { [TASK_TOKEN_KEY]: `${PLACEHOLDER}_with_openssl_rand_base64_32` } : {}),
    },
  };
}

