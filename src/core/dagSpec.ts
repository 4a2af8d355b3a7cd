import { createHash } from "node:crypto";
import { conditionUris, type DatasetCondition } from "./datasetSchedule.js";
import type { TriggerRule } from "./triggerRules.js";

/**
 * The serialized structure of a DAG: what the parser extracts from a DAG file
 * and stores, and all the scheduler ever needs. Pure JSON — no functions.
 */
export interface DagSpec {
  id: string;
  /** Path of the file that defines the DAG, relative to the DAG folder. */
  fileloc: string;
  description?: string;
  /** Cron (5 or 6 fields), preset (`@daily`), fixed interval (`15m`), or null for manual-only (and for a DAG scheduled on datasets). */
  schedule: string | null;
  /** Set for a DAG scheduled on dataset updates (then `schedule` is null): runs are created when the condition holds. */
  datasetSchedule?: DatasetCondition;
  /** IANA time zone the schedule is evaluated in. */
  timezone: string;
  /** ISO timestamps (ms precision) or undefined. */
  start?: string;
  end?: string;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  runTimeoutMs?: number;
  /** Default param values, and the JSON Schema of the params (from zod) for trigger-time validation. */
  params: Record<string, unknown>;
  paramsSchema?: Record<string, unknown>;
  tags: string[];
  owner?: string;
  docs?: string;
  /** --- alerts (src/alerts/): who hears about this DAG's failures; absent when not set (false: none) --- */
  alerts?: DagAlertSpec | false;
  tasks: TaskSpec[];
}

export type TaskKind = "function" | "shell" | "duckdb" | "spark";

/**
 * A mapped task: one instance per element of an upstream task's result (a
 * JSON array known only at run time). The instances get map indexes 0..n-1;
 * downstream tasks receive the instances' results as one array in index order.
 */
export interface ExpandSpec {
  /** Id of the upstream task whose result is the list (it is also in `upstream`). */
  from: string;
  /** Most instances allowed; a longer list fails the task with a clear error (default: scheduler.maxMapLength). */
  maxLength?: number;
  /** Most instances of this task running at once within one run (default: no limit beyond pools and the DAG's). */
  maxActive?: number;
}

/** A DuckDB task's settings that are data (the SQL and sources are code, in the DAG file). */
export interface DuckdbTaskSpec {
  /** DuckDB memory_limit, e.g. "1GB" (default: the executor's per-task memory, or DuckDB's default). */
  memoryLimit?: string;
  /** DuckDB threads (default 1: parallelism comes from mapped instances, one core each). */
  threads?: number;
}

/** Kubernetes settings of a Spark application run through the spark-operator (SparkApplication v1beta2). */
export interface SparkKubernetesSpec {
  namespace?: string;
  image?: string;
  serviceAccount?: string;
  sparkVersion?: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Extra labels on the driver and executor pods. */
  labels?: Record<string, string>;
}

/** A Spark application to submit; where it goes (standalone master, Kubernetes) comes from the connection. */
export interface SparkTaskSpec {
  /** Connection id (conn_type "spark") naming the master and its credentials. */
  connection: string;
  /** A PySpark .py file or a .jar: relative to the DAG file's folder, an absolute path, or a URL the cluster can read. */
  application: string;
  /** Main class of a JAR application. */
  mainClass?: string;
  /** Static arguments (a function in the DAG file may compute them per run instead). */
  args?: string[];
  conf?: Record<string, string>;
  /** client: the driver runs beside the task (spark-submit); cluster: the driver runs in the cluster. */
  deployMode?: "client" | "cluster";
  executorCores?: number;
  executorMemory?: string;
  driverMemory?: string;
  /** Executors to ask for (spark.executor.instances; on standalone, total cores are capped at numExecutors × executorCores). */
  numExecutors?: number;
  name?: string;
  pyFiles?: string[];
  kubernetes?: SparkKubernetesSpec;
}

/**
 * Per-task overrides of the task pod (executor.kind "kubernetes"), merged over
 * the pod template. Named `pod`, not `kubernetes`: Spark tasks already take a
 * `kubernetes` option for their SparkApplication. Plain Kubernetes JSON objects
 * (resources, tolerations, affinity, containers) are passed through as given.
 */
export interface TaskPodSpec {
  image?: string;
  /** Container resources: `{ requests: { cpu: "500m", memory: "1Gi" }, limits: {...} }`. */
  resources?: Record<string, unknown>;
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  /** Extra environment of the task container. */
  env?: Record<string, string>;
  /** Environment from Secrets: `{ NAME: { secret: "name", key: "key" } }`. */
  secretEnv?: Record<string, { secret: string; key: string }>;
  serviceAccount?: string;
  /** Sidecars, as Kubernetes container objects. */
  extraContainers?: Record<string, unknown>[];
}

/** A DAG's alert settings (sdk/alertOptions.ts checks them); unset fields take the defaults of src/alerts/routing.ts. */
export interface DagAlertSpec {
  /** Notifier names (config alerts.notifiers); unset: alerts.default. */
  notify?: string[];
  /** Alert when a task fails for good and when a run fails (default true). */
  onFailure?: boolean;
  /** Alert when a try fails and the task will be retried (default true). */
  onRetry?: boolean;
  /** Alert when a run succeeds (default false). */
  onSuccess?: boolean;
  /** A run not finished this long after it was queued misses its deadline. */
  deadlineMs?: number;
  /** A run not finished by this time of day ("HH:MM", the DAG's timezone) after it was queued misses its deadline. */
  deadlineAt?: string;
}

/** A task's own alert settings, over its DAG's. */
export interface TaskAlertSpec {
  notify?: string[];
  onFailure?: boolean;
  onRetry?: boolean;
}

export interface TaskSpec {
  id: string;
  kind: TaskKind;
  /** Direct upstream task ids, explicit or inferred from used inputs. */
  upstream: string[];
  retries: number;
  retryDelayMs: number;
  retryExponentialBackoff: boolean;
  maxRetryDelayMs: number;
  timeoutMs?: number;
  triggerRule: TriggerRule;
  pool: string;
  poolSlots: number;
  priorityWeight: number;
  queue: string;
  doc?: string;
  /** Shell tasks only. */
  command?: string;
  env?: Record<string, string>;
  cwd?: string;
  /**
   * Dataset URIs the task produces (normalised, deduplicated, in declaration
   * order): each successful attempt records one dataset event per outlet.
   * Always set by the SDK; absent in versions stored before datasets existed.
   */
  outlets?: string[];
  /** Dataset URIs the task reads (same form as outlets). */
  inlets?: string[];
  /** Set for a mapped task (see ExpandSpec). */
  expand?: ExpandSpec;
  /** DuckDB tasks only. */
  duckdb?: DuckdbTaskSpec;
  /** Spark tasks only. */
  spark?: SparkTaskSpec;
  /** --- Kubernetes executor: overrides of this task's pod (absent when not set) --- */
  pod?: TaskPodSpec;
  /** --- alerts: this task's notifiers and events over its DAG's (false: none); absent when not set --- */
  alerts?: TaskAlertSpec | false;
}

/** Fields of a DagSpec that define its structure (and so its version). */
function structuralView(spec: DagSpec): unknown {
  const { fileloc: _fileloc, ...rest } = spec;
  return rest;
}

/** Deterministic JSON: object keys sorted, so equal structures hash equally. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
}

/**
 * Version hash of a DAG: 16 hex chars of sha256 over its structure and, when
 * given, the text of the file that defines it. The parser always passes the
 * text, so editing a task's body (not only its dependencies or options) makes
 * a new version and a run's versionHash names the exact code it was created
 * with. Without a source (specs built in code, e.g. tests) it is the
 * structure alone. The file path is in neither: renaming a file keeps it.
 */
export function dagVersionHash(spec: DagSpec, source?: string): string {
  const hash = createHash("sha256").update(stableStringify(structuralView(spec)));
  // The separator keeps "structure + source" unambiguous: no JSON text contains a NUL.
  if (source !== undefined) hash.update("\u0000").update(source);
  return hash.digest("hex").slice(0, 16);
}

/** One declared link between a DAG and a dataset URI. */
export interface DatasetRef {
  uri: string;
  /** null for a whole DAG consuming a dataset: the DAG is scheduled on its updates (DagSpec.datasetSchedule). */
  taskId: string | null;
  kind: "producer" | "consumer";
}

/**
 * Every producer (task outlet) and consumer (task inlet) a DAG declares, and
 * one DAG-level consumer (taskId null) per URI of its dataset schedule,
 * without duplicates.
 */
export function datasetRefs(spec: DagSpec): DatasetRef[] {
  const out: DatasetRef[] = [];
  for (const t of spec.tasks) {
    for (const uri of new Set(t.outlets ?? [])) out.push({ uri, taskId: t.id, kind: "producer" });
    for (const uri of new Set(t.inlets ?? [])) out.push({ uri, taskId: t.id, kind: "consumer" });
  }
  if (spec.datasetSchedule) for (const uri of conditionUris(spec.datasetSchedule)) out.push({ uri, taskId: null, kind: "consumer" });
  return out;
}

export function taskById(spec: DagSpec): Map<string, TaskSpec> {
  return new Map(spec.tasks.map((t) => [t.id, t]));
}

/** downstream[taskId] = ids of the tasks that list it as upstream. */
export function downstreamMap(spec: DagSpec): Map<string, string[]> {
  const out = new Map<string, string[]>(spec.tasks.map((t) => [t.id, []]));
  for (const t of spec.tasks) for (const u of t.upstream) out.get(u)?.push(t.id);
  return out;
}
