/**
 * A Spark connection (conn_type "spark") turned into where and how to submit:
 * a standalone master (spark://host:7077, its REST submission server and web
 * UI) or Kubernetes (k8s://https://api:6443, through the spark-operator or
 * spark-submit). The extra JSON is validated here, once, with errors that say
 * which key to fix.
 */
import { z } from "zod";
import { ErrorCode, SluiceError } from "../core/errors.js";
import type { ConnectionInfo } from "../runner/taskServices.js";

/** An http(s) URL ("m:8080" is a valid URL with scheme "m:", and never what was meant). */
const HttpUrl = () => z.url({ protocol: /^https?$/, error: "Invalid URL: write it as http://host:port" });

/** The fields of a connection this module reads (ConnectionInfo from the runner, or a decrypted row in the API). */
export type SparkConnectionFields = Omit<ConnectionInfo, "schema">;

const KubernetesExtra = z.strictObject({
  /** operator: create a SparkApplication (spark-operator); submit: run spark-submit --master k8s://… */
  mode: z.enum(["operator", "submit"]).default("operator"),
  namespace: z.string().min(1).default("default"),
  /** URL the Kubernetes API client talks to, when it differs from the master URL (e.g. through a proxy). */
  apiServer: HttpUrl().optional(),
  /** Default container image of the driver and executors (a task's kubernetes.image wins). */
  image: z.string().min(1).optional(),
  serviceAccount: z.string().min(1).optional(),
  /** Spark version the image runs (SparkApplication.spec.sparkVersion). */
  sparkVersion: z.string().min(1).default("4.0.1"),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
  /** PEM of the API server's CA, base64 (as in a kubeconfig's certificate-authority-data). */
  caData: z.string().min(1).optional(),
  insecureSkipTlsVerify: z.boolean().default(false),
  /** Use a kubeconfig file instead of host + token (its current context, or `context`). */
  kubeconfigPath: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  /** Use the service account of the pod Sluice runs in. */
  inCluster: z.boolean().default(false),
  /** How often the application's state is read (ms). */
  pollIntervalMs: z.int().min(50).max(60_000).default(2_000),
});

const SparkExtra = z.strictObject({
  /** Where drivers run when the task does not say: client (beside the task) or cluster. */
  deployMode: z.enum(["client", "cluster"]).optional(),
  /** The standalone REST submission server (spark.master.rest.enabled=true on the master). */
  restUrl: HttpUrl().optional(),
  /** The standalone master's web UI (its /json/ status, the kill endpoint). */
  webUiUrl: HttpUrl().optional(),
  /** Spark installation with bin/spark-submit (else $SPARK_HOME, else spark-submit on PATH). */
  sparkHome: z.string().min(1).optional(),
  /** Python for PySpark drivers and executors (PYSPARK_PYTHON). */
  pythonPath: z.string().min(1).optional(),
  /** How often a cluster-mode driver's state and log are read (ms). */
  pollIntervalMs: z.int().min(50).max(60_000).default(1_000),
  kubernetes: KubernetesExtra.optional(),
});
export type KubernetesSettings = z.output<typeof KubernetesExtra>;

interface Common {
  connId: string;
  /** The master URL as spark-submit takes it. */
  master: string;
  sparkHome?: string;
  pythonPath?: string;
  /** Bearer token: Kubernetes API token, or the REST/UI token of a standalone master behind an auth filter. */
  token?: string;
  pollIntervalMs: number;
}

export interface StandaloneTarget extends Common {
  kind: "standalone";
  deployMode: "client" | "cluster";
  restUrl: string;
  webUiUrl: string;
}

export interface KubernetesTarget extends Common {
  kind: "kubernetes";
  /** Always cluster: the driver runs in a pod. */
  deployMode: "cluster";
  /** https://api:6443 (the master URL without k8s://), or kubernetes.apiServer. */
  apiServer: string;
  kubernetes: KubernetesSettings;
}

export type SparkTarget = StandaloneTarget | KubernetesTarget;

export class SparkConnectionError extends SluiceError {
  constructor(connId: string, problem: string) {
    super(ErrorCode.ConfigInvalid, `Spark connection "${connId}": ${problem}`, { details: { connId } });
    this.name = "SparkConnectionError";
  }
}

function zodProblems(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const where = i.path.length > 0 ? `extra.${i.path.join(".")}` : "extra";
      return `${where}: ${i.message}`;
    })
    .join("; ");
}

/** host "spark://h", "spark://h:7077", "h", or "k8s://https://api:6443", with the connection's port when the host has none. */
function masterUrl(c: SparkConnectionFields): string {
  const host = c.host?.trim();
  if (!host) throw new SparkConnectionError(c.connId, 'host is empty: set it to the master, e.g. "spark://10.0.0.5" (port 7077) or "k8s://https://kubernetes.default.svc:443".');
  if (host.startsWith("k8s://")) {
    const api = host.slice("k8s://".length);
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(api) ? api : `https://${api}`);
    } catch {
      throw new SparkConnectionError(c.connId, `host "${host}" is not a Kubernetes master URL; write it as k8s://https://<api-server>:<port>.`);
    }
    if (!url.port && c.port) url.port = String(c.port);
    return `k8s://${url.origin}`;
  }
  const bare = host.replace(/^spark:\/\//, "");
  if (/[/?#@\s]/.test(bare) || bare === "") throw new SparkConnectionError(c.connId, `host "${host}" is not a standalone master; write it as spark://<host> (port in the port field) or spark://<host>:<port>.`);
  const hasPort = /:\d+$/.test(bare);
  return `spark://${hasPort ? bare : `${bare}:${c.port ?? 7077}`}`;
}

/** Parse and check a Spark connection; throws SparkConnectionError naming the field to fix. */
export function parseSparkConnection(c: SparkConnectionFields): SparkTarget {
  if (c.connType !== "spark") {
    throw new SparkConnectionError(c.connId, `its type is "${c.connType}", not "spark". Point the task at a connection of type spark, or change this one's type.`);
  }
  const parsed = SparkExtra.safeParse(c.extra ?? {});
  if (!parsed.success) throw new SparkConnectionError(c.connId, `${zodProblems(parsed.error)}. Fix the connection's extra JSON (keys: deployMode, restUrl, webUiUrl, sparkHome, pythonPath, pollIntervalMs, kubernetes).`);
  const extra = parsed.data;
  const master = masterUrl(c);
  const common = { connId: c.connId, master, sparkHome: extra.sparkHome, pythonPath: extra.pythonPath, token: c.password ?? undefined };
  if (master.startsWith("k8s://")) {
    const kubernetes = extra.kubernetes ?? KubernetesExtra.parse({});
    return { ...common, kind: "kubernetes", deployMode: "cluster", apiServer: kubernetes.apiServer ?? master.slice("k8s://".length), kubernetes, pollIntervalMs: kubernetes.pollIntervalMs };
  }
  if (extra.kubernetes) throw new SparkConnectionError(c.connId, `extra.kubernetes is set but the host "${c.host}" is a standalone master; use a k8s://https://<api-server> host for Kubernetes, or remove extra.kubernetes.`);
  const host = new URL(master.replace(/^spark:/, "http:")).hostname;
  return {
    ...common,
    kind: "standalone",
    deployMode: extra.deployMode ?? "client",
    restUrl: (extra.restUrl ?? `http://${host}:6066`).replace(/\/+$/, ""),
    webUiUrl: (extra.webUiUrl ?? `http://${host}:8080`).replace(/\/+$/, ""),
    pollIntervalMs: extra.pollIntervalMs,
  };
}
