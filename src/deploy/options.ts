/**
 * What `sluice deploy k8s` renders, as one validated options object. Every
 * field has its default and a one-line doc, so `--values file.json` only
 * needs the keys that differ. Parsing is strict: a misspelt key is an error
 * naming the key, not a silently ignored value.
 */
import { z } from "zod";
import { ErrorCode, SluiceError } from "../core/errors.js";

/** RFC 1123 label: what Kubernetes accepts for namespaces and Service names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const dnsLabel = (max: number) =>
  z.string().max(max).regex(DNS_LABEL, { message: "expected lower-case letters, digits and '-', starting and ending with a letter or digit" });
const quantity = z.string().regex(QUANTITY, { message: 'expected a Kubernetes quantity like "500m", "1", "512Mi" or "2Gi"' });
const int = (min: number) => z.number().int().min(min);

const Resources = z
  .strictObject({
    requests: z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() }).optional().describe("Guaranteed share; the scheduler places pods by it."),
    limits: z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() }).optional().describe("Hard cap; a container over its memory limit is OOM-killed."),
  })
  .describe("Container resources (Kubernetes requests/limits).");
type Resources = z.output<typeof Resources>;
const resources = (d: Resources) => Resources.default(d);

const InternalDb = z.strictObject({
  mode: z.literal("internal").describe("Run PostgreSQL in the cluster as a StatefulSet with a PersistentVolumeClaim."),
  image: z.string().min(1).default("postgres:17-bookworm").describe("PostgreSQL image."),
  storage: quantity.default("10Gi").describe("Size of the data volume."),
  storageClassName: z.string().min(1).optional().describe("StorageClass of the volume; unset uses the cluster default (on OpenStack typically a Cinder CSI class)."),
  resources: resources({ requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } }),
});
const ExternalDb = z.strictObject({
  mode: z.literal("external").describe("Use a PostgreSQL outside the cluster; its URL is read from the Secret (key db-url)."),
});

const GitSync = z
  .strictObject({
    repo: z.string().regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, { message: 'expected a git URL like "https://github.com/acme/pipelines.git"' }).describe("Git repository holding the DAG files."),
    ref: z.string().min(1).default("main").describe("Branch, tag or commit to check out."),
    subPath: z.string().regex(/^(?!\/)(?!.*\.\.)[^\s]*$/, { message: 'expected a relative folder inside the repository without "..", like "dags"' }).default("").describe("Folder of the DAG files inside the repository (empty: its root)."),
    period: z.string().regex(/^[0-9]+(s|m|h)$/, { message: 'expected a duration like "60s"' }).default("60s").describe("How often the sidecar pulls."),
    image: z.string().min(1).default("registry.k8s.io/git-sync/git-sync:v4.4.0").describe("git-sync image (the Kubernetes project's)."),
  })
  .describe("Sync the DAG folder from git with the git-sync sidecar (an init container for the first checkout, a sidecar to follow the branch). Sluice's own git bundles (issue 6) will be a separate option.");

export const DeployOptionsSchema = z
  .strictObject({
    name: dnsLabel(40).default("sluice").describe("Prefix of every object name and the app.kubernetes.io/instance label."),
    namespace: dnsLabel(63).default("sluice").describe("Namespace of every object (rendered too, so `kubectl apply -f` creates it)."),
    image: z.string().regex(/^\S+$/, { message: 'expected an image reference like "registry.example.com/sluice:0.1.0"' }).default("sluice:0.1.0").describe("Sluice image (built from the Dockerfile at the repository root)."),
    imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent").describe("IfNotPresent suits kind (`kind load docker-image`); use Always with a moving tag."),
    imagePullSecrets: z.array(dnsLabel(253)).default([]).describe("Secrets with registry credentials for a private registry."),
    ingress: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Render an Ingress for the API and web UI."),
        host: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { message: 'expected a host name like "sluice.example.com"' }).default("sluice.localtest.me").describe("Host name the Ingress answers for (sluice.localtest.me resolves to 127.0.0.1, handy with kind)."),
        className: z.string().min(1).optional().describe('IngressClass, e.g. "nginx" or "openstack-lb" (Octavia ingress controller); unset uses the cluster default.'),
        tlsSecretName: dnsLabel(253).optional().describe("Secret with the TLS certificate for the host; unset serves plain HTTP."),
      })
      .prefault({}),
    api: z
      .strictObject({
        replicas: int(1).default(2).describe("API server pods (stateless; behind the Service)."),
        port: int(1).max(65535).default(8080).describe("Port the API listens on inside the pod."),
        resources: resources({ requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } }),
      })
      .prefault({}),
    scheduler: z
      .strictObject({
        replicas: int(1).default(2).describe("Scheduler pods; two for high availability (they coordinate through PostgreSQL row locks)."),
        resources: resources({ requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } }),
      })
      .prefault({}),
    executor: z
      .enum(["queue", "kubernetes"])
      .default("queue")
      .describe(
        '"queue": schedulers queue attempts in PostgreSQL and the worker Deployment (autoscaled) runs them. "kubernetes": the schedulers create one pod per task attempt (created on demand, deleted when done; no worker Deployment), which reports to the API\'s task API with a token signed by the Secret\'s task-token-key.',
      ),
    taskPods: z
      .strictObject({
        pendingTimeoutSeconds: int(1).default(300).describe("A task pod still Pending after this long (unschedulable, image pull failing…) is deleted and its attempt failed or retried."),
        keepFailedPods: z.boolean().default(false).describe("Keep the pods of failed attempts for inspection (successful ones are always deleted)."),
      })
      .prefault({})
      .describe('Task pods, with executor "kubernetes".'),
    workers: z
      .strictObject({
        minReplicas: int(0).default(1).describe("Fewest worker pods; 0 (scale to zero when idle) needs keda: the HPA cannot go below 1."),
        maxReplicas: int(1).default(10).describe("Most worker pods."),
        concurrency: int(1).default(4).describe("Task attempts one worker runs at once (SLUICE_WORKER__CONCURRENCY); also divides the KEDA queue count."),
        queue: z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'expected a queue name like "default" or "highmem"' }).default("default").describe("Queue the workers take tasks from."),
        targetCpuUtilization: int(1).max(100).default(70).describe("HPA target: average CPU use in % of the request."),
        targetMemoryUtilization: int(1).max(100).default(80).describe("HPA target: average memory use in % of the request."),
        scaleDownStabilizationSeconds: int(0).max(3600).default(300).describe("Scale down only to the highest recommendation of this window."),
        keda: z.boolean().default(false).describe("Scale with a KEDA ScaledObject (queue depth from PostgreSQL, plus CPU/memory) instead of the HPA."),
        sluiceAutoscaler: z
          .boolean()
          .default(false)
          .describe(
            "Scale with `sluice autoscaler` (its own Deployment and service account) instead of the HPA: queue depth plus CPU/memory from metrics-server, every decision recorded and shown on the UI's Autoscaler page.",
          ),
        resources: resources({ requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } }),
      })
      .prefault({}),
    database: z.discriminatedUnion("mode", [InternalDb, ExternalDb]).prefault({ mode: "internal" }).describe("Where the metadata database lives."),
    secrets: z
      .strictObject({
        create: z.boolean().default(true).describe("Render the Secret with placeholder values to replace; false when you create it yourself (keys: db-url, secrets-key, postgres-password)."),
        name: dnsLabel(253).optional().describe("Name of the Secret (default: <name>-secrets)."),
      })
      .prefault({}),
    dags: z
      .strictObject({
        folder: z.string().startsWith("/").default("/opt/sluice/dags").describe("DAG folder baked into the image (used when gitSync is unset)."),
        gitSync: GitSync.optional(),
      })
      .prefault({}),
    env: z
      .record(z.string().regex(ENV_NAME, { message: "expected an environment variable name" }), z.string())
      .default({})
      .describe('Extra Sluice config as SLUICE_* variables in the ConfigMap, e.g. {"SLUICE_LOGGING__LEVEL": "debug"}.'),
  })
  .superRefine((o, ctx) => {
    if (o.workers.minReplicas > o.workers.maxReplicas) {
      ctx.addIssue({ code: "custom", path: ["workers", "minReplicas"], message: `is above workers.maxReplicas (${o.workers.maxReplicas}); lower it or raise maxReplicas` });
    }
    if (o.executor === "kubernetes" && o.dags.gitSync) {
      ctx.addIssue({
        code: "custom",
        path: ["dags", "gitSync"],
        message:
          'cannot go with executor "kubernetes": task pods do not mount the git-sync volume. Bake the DAGs into the image (dags.folder), or deliver them with Sluice\'s git bundles (SLUICE_BUNDLES in env; task pods check out their run\'s commit)',
      });
    }
    if (o.executor === "queue" && o.workers.minReplicas === 0 && !o.workers.keda && !o.workers.sluiceAutoscaler) {
      ctx.addIssue({ code: "custom", path: ["workers", "minReplicas"], message: "0 needs workers.keda: true (--keda) or workers.sluiceAutoscaler: true (--sluice-autoscaler); the HorizontalPodAutoscaler cannot scale below 1" });
    }
    if (o.workers.keda && o.workers.sluiceAutoscaler) {
      ctx.addIssue({ code: "custom", path: ["workers", "sluiceAutoscaler"], message: "cannot go with workers.keda: two autoscalers on one Deployment fight over its replica count; pick one" });
    }
  })
  .describe("Options of `sluice deploy k8s`.");

export type DeployOptions = z.output<typeof DeployOptionsSchema>;
export type DeployOptionsInput = z.input<typeof DeployOptionsSchema>;

/** Validate and default; every problem is reported with its key, like the config loader does. */
export function parseDeployOptions(input: unknown, source = "deploy options"): DeployOptions {
  const r = DeployOptionsSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const key = i.path.join(".") || "(root)";
    const extra = i.code === "unrecognized_keys" ? ` (every key is listed in docs/kubernetes.md, "Options")` : "";
    return { key, message: `${i.message}${extra}` };
  });
  throw new SluiceError(ErrorCode.ConfigInvalid, `Invalid ${source}:\n${problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n")}`, { details: { problems } });
}
