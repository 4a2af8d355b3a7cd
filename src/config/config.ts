/**
 * The Sluice configuration schema: every option, its default and a one-line
 * doc (kept in zod `.describe()` so `sluice config show` can print it).
 *
 * Config is resolved once by loadConfig() (defaults < file < SLUICE_* env <
 * overrides) and then passed down; nothing else reads process.env. This file
 * is pure (no I/O) so any module may import the type and helpers cheaply.
 */
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { checkAlertDefaults, notifiersField } from "../alerts/notifierConfig.js";

// Small builders so each option below reads as "type, bound, default, doc".
const int = (min: number) => z.int().min(min);
/** Objects are strict (unknown keys are errors) and fill in their own defaults when absent. */
const section = <S extends z.ZodRawShape>(shape: S, doc: string) =>
  // `{}` is valid for every section (all keys default); TS cannot see that through the generic.
  z.strictObject(shape).prefault({} as never).describe(doc);

/** "postgres://…", "sqlite:<path>" or a bare path; any other `scheme://` is a mistake we catch early. */
function isSupportedDbUrl(url: string): boolean {
  if (url.length === 0) return false;
  if (/^postgres(ql)?:\/\//i.test(url) || /^sqlite:/i.test(url)) return true;
  return !/^[a-z][a-z0-9+.-]*:\/\//i.test(url);
}

/** Standard base64 of exactly 32 bytes (44 characters ending in "="); Buffer.from alone would accept any junk. */
function isSecretsKey(text: string): boolean {
  const t = text.trim();
  return /^[A-Za-z0-9+/]{43}=$/.test(t) && Buffer.from(t, "base64").length === 32;
}

export const SluiceConfigSchema = z
  .strictObject({
    home: z.string().min(1).default(".sluice").describe("State directory (SQLite file, logs); relative paths are resolved against the config file or cwd."),
    dagsFolder: z.string().min(1).default("dags").describe("Folder scanned for DAG files."),
    db: section(
      {
        url: z
          .string()
          .refine(isSupportedDbUrl, {
            // No value in the message: a URL may hold a password.
            message: 'expected "postgres://user:pass@host/db", "sqlite:<path>" or a file path',
          })
          .optional()
          .describe('Database: "postgres://…", "sqlite:<path>" or a file path; unset means <home>/sluice.db.'),
      },
      "Metadata database.",
    ),
    scheduler: section(
      {
        parallelism: int(1).default(32).describe("Max task instances queued+running at once over all DAGs."),
        loopIntervalMs: int(1).default(1000).describe("Longest idle sleep of the scheduler loop; events wake it sooner."),
        dagScanIntervalMs: int(1).default(5000).describe("How often the DAG folder is re-listed."),
        zombieThresholdMs: int(1).default(60000).describe("A running attempt with no heartbeat for this long is considered dead."),
        heartbeatIntervalMs: int(1).default(5000).describe("How often running attempts and the scheduler record a heartbeat."),
        defaultPoolSlots: int(1).default(128).describe("Slots of the default pool."),
        maxMapLength: int(1)
          .default(1024)
          .describe("Most instances a mapped task may expand to, unless the task sets maxMapLength; a longer list fails the task with a clear error."),
      },
      "Scheduler loop.",
    ),
    executor: section(
      {
        // --- queue executor (src/executors/queueExecutor.ts, src/worker/) ---
        kind: z
          .enum(["local", "queue", "kubernetes"])
          .default("local")
          .describe(
            'Executor implementation: "local" runs attempts in task processes of the scheduler; "queue" leaves them to `sluice worker` processes (PostgreSQL only); "kubernetes" runs each attempt in its own pod (see the kubernetes section).',
          ),
        // A function so the default reflects the machine at parse time.
        slots: int(1).default(() => os.availableParallelism()).describe("Task attempts run at once by this executor (default: CPU count)."),
        tasksPerProcess: int(1).default(1000).describe("A warm task process is recycled after this many attempts (and sooner when its memory grows)."),
        maxProcessMemoryMb: int(64).default(2048).describe("V8 heap cap of a task process; it is also recycled when its RSS is above this after an attempt."),
      },
      "Task executor.",
    ),
    // --- Kubernetes executor (src/executors/kubernetesExecutor.ts): one pod per attempt ---
    kubernetes: section(
      {
        namespace: z.string().min(1).default("default").describe("Namespace task pods are created in."),
        image: z.string().min(1).default("sluice:latest").describe("Image of task pods (the Sluice image with the DAGs); a task's pod.image wins."),
        command: z
          .array(z.string().min(1))
          .min(1)
          .default(["sluice"])
          .describe('How the image starts Sluice; the pod runs <command> task run --remote <apiUrl>.'),
        podTemplateFile: z.string().min(1).optional().describe("YAML of a Pod the task pods start from (volumes, env, security context…); the container named \"base\" (or the first) runs the task."),
        apiUrl: z.string().url().default("http://sluice-api").describe("URL of the Sluice API as seen from task pods: they report to its task API (the Service `sluice deploy k8s` renders listens on port 80)."),
        pendingTimeoutMs: int(1).default(300000).describe("A pod still Pending after this long (unschedulable, image pull failing…) is deleted and its attempt failed or retried."),
        keepFailedPods: z.boolean().default(false).describe("Keep the pods of failed attempts for inspection (successful ones are always deleted)."),
        createBatchLimit: int(1).default(20).describe("Most pods created per scheduling loop (and waiting to be created)."),
        inCluster: z.boolean().default(false).describe("Reach the Kubernetes API with the service account of the pod the scheduler runs in."),
        kubeconfigPath: z.string().min(1).optional().describe("Reach the Kubernetes API through this kubeconfig file (its current context, or `context`)."),
        context: z.string().min(1).optional().describe("Context of kubeconfigPath to use."),
        server: z.string().url().optional().describe("Kubernetes API server URL, used with `token` when neither inCluster nor kubeconfigPath is set."),
        token: z.string().min(1).optional().describe("Bearer token for `server` (env SLUICE_KUBERNETES__TOKEN)."),
        caData: z.string().min(1).optional().describe("PEM of the API server's CA, base64, for `server`."),
        insecureSkipTlsVerify: z.boolean().default(false).describe("Do not verify the API server's certificate (tests only)."),
      },
      'Kubernetes executor (executor.kind "kubernetes").',
    ),
    // --- queue workers (`sluice worker`, src/worker/) ---
    worker: section(
      {
        concurrency: int(1).default(4).describe("Attempts one `sluice worker` runs at once (its warm task processes)."),
        queues: z.array(z.string().min(1)).min(1).default(["default"]).describe("Queues a worker takes task instances from (a task's `queue` option; `sluice worker --queues a,b`)."),
        shutdownGraceMs: int(0).default(30000).describe("On SIGTERM a worker stops claiming and lets running attempts finish for this long, then hands them back to be run again."),
        pollIntervalMs: int(1).default(2000).describe("How often a worker looks for queued work when no NOTIFY woke it (a fallback; NOTIFY wakes it at once)."),
      },
      "Queue workers (used with executor.kind \"queue\").",
    ),
    // --- autoscaler (`sluice autoscaler`, src/autoscaler/): sizes the queue workers ---
    autoscaler: section(
      {
        enabled: z.boolean().default(false).describe("Let `sluice autoscaler` act; false makes it refuse to start (so a copied command does not scale a pool by surprise)."),
        intervalMs: int(100).default(15000).describe("How often the autoscaler measures and decides (the HPA's sync period is 15 s)."),
        queues: z.array(z.string().min(1)).min(1).default(["default"]).describe("Queues whose workers are scaled, each on its own (a worker pool or Deployment per queue)."),
        min: int(0).default(0).describe("Fewest workers per queue; 0 scales to zero when nothing is queued or running."),
        max: int(1).default(10).describe("Most workers per queue."),
        targets: section(
          {
            cpu: z.number().positive().optional().describe("Target CPU per worker in cores (0.8 = 80% of one core), HPA rule; unset: not a scaling input."),
            memory: z.number().positive().optional().describe("Target resident memory per worker in MiB, HPA rule; unset: not a scaling input."),
            network: z.number().positive().optional().describe("Target I/O bytes/s per worker (local: /proc/<pid>/io rchar+wchar, which includes sockets), HPA rule; unset: not a scaling input."),
          },
          "Resource targets of the HPA rule desired = ceil(current × value / target).",
        ),
        tolerance: z.number().min(0).max(1).default(0.1).describe("No resource-driven change while value/target is within 1 ± this (the HPA's 0.1)."),
        stabilizationWindowMs: int(0).default(300000).describe("Scale down only to the highest proposal of this window (the HPA's 300 s)."),
        scaleUp: section(
          {
            pods: int(0).default(4).describe("Workers that may be added per period (the HPA's default 4)."),
            percent: int(0).default(100).describe("Percent of the workers at the start of the period that may be added (100 = double; the larger of pods and percent applies)."),
            periodMs: int(1).default(15000).describe("Period of the scale-up limits."),
          },
          "Scale-up rate limit.",
        ),
        actuator: z.enum(["local", "kubernetes"]).default("local").describe('"local" spawns and stops `sluice worker` processes on this machine; "kubernetes" sets the replicas of a Deployment (scale subresource).'),
        deployment: z.string().min(1).default("sluice-worker").describe('Deployment scaled by the kubernetes actuator; "{queue}" is replaced by the queue name (one Deployment per queue).'),
        namespace: z.string().min(1).default("sluice").describe("Namespace of that Deployment (the API connection comes from the kubernetes section)."),
      },
      "Autoscaler of queue workers (`sluice autoscaler`).",
    ),
    // --- alerts (src/alerts/): detected and sent from the scheduler process, never inside its loop ---
    alerts: z
      .strictObject({
        enabled: z.boolean().default(true).describe("Detect failures and send alerts from the scheduler process (`sluice scheduler` / `standalone`); false records none."),
        pollIntervalMs: int(10).default(5000).describe("How often new failures, finished runs, missed deadlines and import errors are looked for, and due deliveries sent."),
        default: z.array(z.string().min(1)).default([]).describe("Notifiers of a DAG whose code names none, and of import errors and git sync failures (names from alerts.notifiers)."),
        notifiers: notifiersField.default({}).describe('Named notifiers: { "<name>": { "kind": "slack" | "email" | "webhook", … } }; secrets directly or by environment variable name (docs/alerts.md).'),
        rateLimit: section(
          {
            windowMs: int(1).default(3_600_000).describe("Length of the rate-limit window."),
            max: int(1).default(5).describe("Alerts sent per (DAG, task, event) within the window; the rest are recorded as suppressed and counted in the next one sent."),
          },
          "Rate limit of a flapping task's alerts.",
        ),
        retry: section(
          {
            maxAttempts: int(1).default(6).describe("Sends of one alert to one notifier before it is marked failed."),
            initialDelayMs: int(0).default(10_000).describe("Wait before the second attempt; doubled after each failed one."),
            maxDelayMs: int(0).default(600_000).describe("Longest wait between attempts."),
          },
          "Retries of a notifier that fails (down, timing out, answering 5xx).",
        ),
        timeoutMs: int(100).default(10_000).describe("One send attempt gives up after this long."),
        retentionDays: int(1).default(30).describe("Alerts older than this are deleted with their deliveries."),
      })
      .superRefine(checkAlertDefaults)
      .prefault({} as never)
      .describe("Failure alerts: notifiers (Slack, email, webhook), rate limit, retries (see docs/alerts.md)."),
    // --- git bundles (src/bundles/): DAG code from git repositories, each run pinned to a commit ---
    bundles: z
      .array(
        z.strictObject({
          name: z
            .string()
            .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, { message: 'letters, digits, "_" and "-", starting with a letter or digit (e.g. "pipelines")' })
            .describe("Bundle name: in URLs (/api/v1/bundles/<name>/sync) and DAG file locations (@<name>/path)."),
          repo: z.string().min(1).describe("Repository: https://github.com/org/repo.git, git@github.com:org/repo.git, file:///path or a local path."),
          branch: z.string().min(1).default("main").describe("Branch (or tag) to follow."),
          subdir: z
            .string()
            .default("")
            .refine((v) => !v.split(/[\\/]/).includes("..") && !v.startsWith("/"), { message: "a path inside the repository, without .. (e.g. dags)" })
            .describe("Folder of the DAG files inside the repository ('' = its root)."),
          refreshIntervalMs: int(1000).default(60000).describe("How often the branch is fetched without a webhook."),
          keepVersions: int(1).default(3).describe("Checked-out commits kept besides those a DAG or an unfinished run still needs."),
          token: z.string().min(1).optional().describe("HTTPS token (GitHub personal access or app token); prefer tokenEnv."),
          tokenEnv: z.string().min(1).optional().describe("Name of an environment variable holding the HTTPS token (e.g. from a Kubernetes Secret)."),
          sshKeyFile: z.string().min(1).optional().describe("Private SSH key for git@… URLs (a mounted Secret)."),
        }),
      )
      .default([])
      .refine((list) => new Set(list.map((b) => b.name)).size === list.length, { message: "two bundles have the same name; names must be unique" })
      .describe('Git bundles of DAG files (JSON in SLUICE_BUNDLES), e.g. [{"name":"pipelines","repo":"https://github.com/org/pipelines.git","subdir":"dags"}]. The local dagsFolder is scanned as well.'),
    webhooks: section(
      {
        github: section(
          {
            secret: z
              .string()
              .min(16, { message: "use at least 16 characters (GitHub's webhook secret; e.g. `openssl rand -hex 32`)" })
              .optional()
              .describe("Secret of the GitHub webhook (X-Hub-Signature-256); unset refuses every GitHub delivery with 401."),
            maxBodyBytes: int(1).default(5_242_880).describe("Largest webhook body accepted (GitHub sends at most 25 MB; a push is usually a few kB)."),
          },
          "GitHub webhook (POST /api/v1/webhooks/github).",
        ),
      },
      "Incoming webhooks.",
    ),
    parsing: section(
      {
        timeoutMs: int(1).default(30000).describe("A DAG file that takes longer than this to load is an import error."),
        processes: int(1).default(2).describe("Processes that parse DAG files."),
      },
      "DAG file parsing.",
    ),
    tasks: section(
      {
        maxResultBytes: int(1).default(65536).describe("Bigger task return values are refused; return a reference instead."),
      },
      "Task limits. (Retry defaults are set per DAG in code, so a DAG behaves the same wherever it runs.)",
    ),
    api: section(
      {
        host: z.string().min(1).default("127.0.0.1").describe('Address the REST API listens on; "0.0.0.0" exposes it to the network.'),
        port: int(0).max(65535).default(8080).describe("TCP port of the REST API (0 picks a free one)."),
        publicUrl: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe('URL people open the web UI at, e.g. "https://sluice.example.com" (links in alerts); unset: http://localhost:<port>.'),
        maxBodyBytes: int(1).default(1048576).describe("Request bodies larger than this are refused with 413."),
        auth: z
          .boolean()
          .default(true)
          .describe("Require sign-in (session or API token) for every route but /health, /version and login; false only for local experiments."),
        // --- task API (src/auth/attemptToken.ts): the key signing attempt tokens ---
        taskTokenKey: z
          .string()
          .refine(isSecretsKey, { message: "expected the base64 encoding of exactly 32 bytes (make one with `openssl rand -base64 32`)" })
          .optional()
          .describe(
            "HMAC key (base64 of 32 bytes) signing the attempt tokens task pods use with the task API; unset means <home>/task-token.key, created on first use. API servers and executors issuing tokens need the same key.",
          ),
      },
      "REST API server (`sluice api`, and inside `sluice standalone`).",
    ),
    secrets: section(
      {
        key: z
          .string()
          .refine(isSecretsKey, {
            // No value in the message: it is the key.
            message: "expected the base64 encoding of exactly 32 bytes (make one with `openssl rand -base64 32`)",
          })
          .optional()
          .describe(
            "AES-256 key (base64 of 32 bytes) encrypting secret variables and connection passwords/extras at rest; unset means <home>/secret.key, created on first use. Every process sharing the database needs the same key.",
          ),
      },
      "Encryption of stored secrets (see secrets/secretBox.ts).",
    ),
    logging: section(
      {
        level: z.enum(["trace", "debug", "info", "warn", "error"]).default("info").describe("Minimum log level."),
      },
      "Logging.",
    ),
  })
  // --- queue executor: workers claim with FOR UPDATE SKIP LOCKED and wake on LISTEN/NOTIFY, which SQLite has not ---
  .superRefine((c, ctx) => {
    if (c.executor.kind === "queue" && !/^postgres(ql)?:\/\//i.test(c.db.url ?? "")) {
      ctx.addIssue({
        code: "custom",
        path: ["executor", "kind"],
        message: 'queue workers need PostgreSQL: set db.url (SLUICE_DB_URL) to "postgres://user:pass@host/db", or use executor.kind "local" with SQLite',
      });
    }
  })
  .describe("Sluice configuration.");

/** The validated, fully defaulted config (paths absolute after loadConfig). */
export type SluiceConfig = z.output<typeof SluiceConfigSchema>;
/** What a config file may contain: every key optional. */
export type SluiceConfigInput = z.input<typeof SluiceConfigSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
/** Deep-partial config applied last by loadConfig (e.g. CLI flags); undefined values are ignored. */
export type ConfigOverrides = DeepPartial<SluiceConfig>;

/** All defaults (slots = this machine's CPU count). */
export function defaultConfig(): SluiceConfig {
  return SluiceConfigSchema.parse({});
}

// ---- schema introspection (used for errors, env mapping and `config show`) ----

/** Peel default/prefault/optional wrappers, keeping the first description seen. */
function unwrap(schema: z.ZodType): { base: z.ZodType; doc: string } {
  let s = schema;
  let doc = s.description ?? "";
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) {
    s = s.unwrap() as z.ZodType;
    doc ||= s.description ?? "";
  }
  return { base: s, doc };
}

/** The (unwrapped) schema at a dotted path, or undefined if no such key exists. */
export function schemaAt(path: readonly string[]): z.ZodType | undefined {
  let s: z.ZodType = SluiceConfigSchema;
  for (const seg of path) {
    const { base } = unwrap(s);
    if (!(base instanceof z.ZodObject) || !Object.hasOwn(base.shape, seg)) return undefined;
    s = base.shape[seg] as z.ZodType;
  }
  return unwrap(s).base;
}

/** Keys allowed in the object at `path` (candidates for "did you mean"). */
export function keysAt(path: readonly string[]): string[] {
  const s = schemaAt(path);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

export interface ConfigLeaf {
  /** Dotted key, e.g. "scheduler.loopIntervalMs". */
  key: string;
  schema: z.ZodType;
  doc: string;
}

/** Every settable option (non-object leaf), in schema order. */
export function configLeaves(): ConfigLeaf[] {
  const out: ConfigLeaf[] = [];
  const walk = (schema: z.ZodType, prefix: string) => {
    const { base, doc } = unwrap(schema);
    if (base instanceof z.ZodObject) {
      for (const [k, child] of Object.entries(base.shape)) walk(child as z.ZodType, prefix ? `${prefix}.${k}` : k);
    } else {
      out.push({ key: prefix, schema: base, doc });
    }
  };
  walk(SluiceConfigSchema, "");
  return out;
}

/** Human wording of what a schema accepts, e.g. "an integer >= 1". */
export function expectation(schema: z.ZodType | undefined): string {
  if (schema instanceof z.ZodNumber) {
    let text = schema.isInt ? "an integer" : "a number";
    // z.int() carries safe-integer bounds internally; only mention real ones.
    if (schema.minValue !== null && schema.minValue > Number.MIN_SAFE_INTEGER) text += ` >= ${schema.minValue}`;
    if (schema.maxValue !== null && schema.maxValue < Number.MAX_SAFE_INTEGER) text += ` <= ${schema.maxValue}`;
    return text;
  }
  if (schema instanceof z.ZodString) return schema.minLength ? "a non-empty string" : "a string";
  if (schema instanceof z.ZodBoolean) return "true or false";
  if (schema instanceof z.ZodEnum) return `one of ${schema.options.map((o) => JSON.stringify(o)).join(", ")}`;
  if (schema instanceof z.ZodObject) return "an object";
  return "a valid value";
}

// ---- helpers over a resolved config ----

/** Strip "sqlite:" (and the "//" of "sqlite:///abs/path") to get the file path; bare paths pass through. */
export function sqlitePathOf(url: string): string {
  if (!/^sqlite:/i.test(url)) return url;
  const rest = url.slice("sqlite:".length);
  return rest.startsWith("//") ? rest.slice(2) : rest;
}

export type DbTarget = { dialect: "sqlite"; path: string } | { dialect: "postgres"; url: string };

/** Which database to open. Unset db.url means `<home>/sluice.db`. */
export function resolveDbUrl(config: Pick<SluiceConfig, "home" | "db">): DbTarget {
  const url = config.db.url;
  if (url === undefined) return { dialect: "sqlite", path: path.join(config.home, "sluice.db") };
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres", url };
  return { dialect: "sqlite", path: sqlitePathOf(url) };
}

const MASK = "****";
/** Keys whose values are never printed. */
const SECRET_KEY = /pass(word|wd)|secret|token|api[-_]?key|credential|webhook[-_]?url/i;
/** `tokenEnv`, `passwordEnv`, `sshKeyFile`…: where a secret is, not the secret; shown so a user can see which variable is read. */
const SECRET_POINTER_KEY = /(Env|File)$/;

/** Hide the password of `scheme://user:password@host…` and of `?password=` query params. */
function maskUrl(text: string): string {
  // Up to the *last* "@": an unencoded "@" or "/" in a password must not leak its tail.
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i.exec(text);
  let out = text;
  if (m && m[2].includes(":")) {
    const user = m[2].slice(0, m[2].indexOf(":"));
    out = `${m[1]}${user}:${MASK}@${text.slice(m[0].length)}`;
  }
  return out.replace(/([?&](?:password|sslpassword)=)[^&#]*/gi, `$1${MASK}`);
}

function maskValue(value: unknown, secret: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => maskValue(v, secret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, secret || (SECRET_KEY.test(k) && !SECRET_POINTER_KEY.test(k)))]));
  }
  if (secret && value !== undefined && value !== null && value !== "") return MASK;
  return typeof value === "string" ? maskUrl(value) : value;
}

/** Deep copy safe to print or log: URL passwords and password/secret/token-like keys become "****". */
export function maskSecrets(config: object): Record<string, unknown> {
  return maskValue(config, false) as Record<string, unknown>;
}

export interface ConfigRow {
  key: string;
  /** Current value (masked); undefined when unset. */
  value: unknown;
  default: unknown;
  doc: string;
}

/** One row per option for `sluice config show`; pass the loaded config to fill `value`. */
export function describeConfig(config: SluiceConfig = defaultConfig()): ConfigRow[] {
  const defaults = defaultConfig();
  const masked = maskSecrets(config);
  const get = (obj: unknown, key: string) =>
    key.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
  return configLeaves().map(({ key, doc }) => ({ key, value: get(masked, key), default: get(defaults, key), doc }));
}
