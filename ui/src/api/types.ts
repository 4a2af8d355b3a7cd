/**
 * Shapes of the /api/v1 answers the UI reads (see /api/v1/openapi.json).
 * Timestamps are ISO 8601 strings in UTC.
 */

export type Role = "viewer" | "operator" | "admin";

export interface User {
  id: number;
  username: string;
  role: Role;
  createdAt: string;
}

export interface Me {
  user: User;
  csrfToken: string | null;
}

export interface DagSummary {
  dagId: string;
  description: string | null;
  owner: string | null;
  tags: string[];
  fileloc: string;
  schedule: string | null;
  timezone: string;
  scheduleDescription: string;
  paused: boolean;
  active: boolean;
  versionHash: string;
  /** Git commit of the current version (null: the local DAG folder). */
  bundleVersion?: string | null;
  nextRun: { logicalDate: string; runAfter: string } | null;
  updatedAt: string;
  /** Present when the server includes the latest runs in the list (newest first). */
  recentRuns?: RunBrief[];
}

export interface RunBrief {
  runId: string;
  state: string;
  logicalDate: string;
  startDate: string | null;
  endDate: string | null;
  runType?: string;
}

export interface DagList {
  dags: DagSummary[];
  total: number;
  limit: number;
  offset: number;
}

export interface DagDetail extends DagSummary {
  start: string | null;
  end: string | null;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  runTimeoutMs: number | null;
  params: Record<string, unknown>;
  paramsSchema: JsonSchema | null;
  docs: string | null;
  taskCount: number;
  /** Set when the DAG runs on dataset updates instead of a time schedule. */
  datasetSchedule?: DatasetSchedule | null;
}

/** A DAG's dataset schedule: its condition in words, the URIs it names, the updates queued for its next run. */
export interface DatasetSchedule {
  condition: unknown;
  description: string;
  uris: string[];
  queued: { uri: string; since: string }[];
}

/** A dataset event a dataset-triggered run consumed. */
export interface ConsumedDatasetEvent {
  id: number;
  uri: string;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  createdAt: string;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [k: string]: unknown;
}

export interface TaskNode {
  taskId: string;
  kind: string;
  /** Declared with `expand`: one instance per element of `expandFrom`'s result. */
  mapped: boolean;
  expandFrom: string | null;
  upstream: string[];
  downstream: string[];
  triggerRule: string;
  retries: number;
  timeoutMs: number | null;
  pool: string;
  queue: string;
  priorityWeight: number;
  doc: string | null;
  command: string | null;
}

export interface Structure {
  dagId: string;
  versionHash: string;
  tasks: TaskNode[];
  edges: { from: string; to: string }[];
}

export interface Run {
  dagId: string;
  runId: string;
  runType: string;
  state: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  versionHash: string;
  /** Git commit every task of the run runs against (null: the local DAG folder); clear with onLatest moves it. */
  bundleVersion?: string | null;
  conf: unknown;
  params: unknown;
  queuedAt: string;
  startDate: string | null;
  endDate: string | null;
  note: string | null;
  taskStates?: Record<string, number>;
  /** Run detail of a dataset-triggered run: the events that triggered it (null for other runs). */
  consumedDatasetEvents?: { total: number; events: ConsumedDatasetEvent[] } | null;
}

export interface RunList {
  runs: Run[];
  total: number;
  limit: number;
  offset: number;
}

export interface GridTask {
  taskId: string;
  kind: string;
  upstream: string[];
  triggerRule: string;
  mapped: boolean;
}

export interface GridCell {
  state: string;
  tryNumber: number;
  mapCount?: number;
  mapStates?: Record<string, number>;
}

export interface GridRun {
  runId: string;
  runType: string;
  state: string;
  logicalDate: string;
  startDate: string | null;
  endDate: string | null;
  versionHash: string;
  durationMs: number | null;
  cells: (GridCell | null)[];
}

export interface Grid {
  dagId: string;
  totalRuns: number;
  offset: number;
  tasks: GridTask[];
  runs: GridRun[];
}

export interface TaskInstance {
  taskId: string;
  mapIndex: number;
  state: string;
  tryNumber: number;
  maxTries: number;
  pool: string;
  queue: string;
  priorityWeight: number;
  queuedAt: string | null;
  startDate: string | null;
  endDate: string | null;
  durationMs: number | null;
  nextTryAt: string | null;
  hostname: string | null;
  pid: number | null;
  result: unknown;
  error: string | null;
}

/** GET …/tasks/{taskId}/instances: one page of a task's instances, and counts over all of them. */
export interface TaskInstances {
  taskId: string;
  /** True once a mapped task has expanded (it has instances with map index >= 0). */
  mapped: boolean;
  total: number;
  counts: Record<string, number>;
  instances: TaskInstance[];
}

export interface TaskTry {
  tryNumber: number;
  state: string;
  startDate: string | null;
  endDate: string | null;
  durationMs: number | null;
  hostname: string | null;
  pid: number | null;
  error: string | null;
}

export interface TaskDetail extends TaskInstance {
  tries: TaskTry[];
}

export interface LogLine {
  id: number;
  ts: string | null;
  stream: string;
  line: string;
}

export interface LogPage {
  tryNumber: number;
  lines: LogLine[];
  nextAfter: number;
  more: boolean;
}

export interface ImportError {
  path: string;
  message: string;
  line: number | null;
  column: number | null;
  stack: string | null;
  createdAt: string;
}

// ---- Spark cluster view (GET /spark/clusters, /spark/clusters/{connId}) ----

/** A connection of type spark. kind, master and deployMode are null when its settings are invalid (see problem). */
export interface SparkCluster {
  connId: string;
  kind: "standalone" | "kubernetes" | null;
  master: string | null;
  deployMode: "client" | "cluster" | null;
  problem: string | null;
}

/** The task attempt that submitted an application or driver; null when Sluice did not launch it. */
export interface SparkTaskLink {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

export interface SparkApplication {
  id: string;
  name: string;
  state: string;
  cores: number;
  memoryPerExecutorMb: number | null;
  user: string | null;
  startedAt: string | null;
  durationMs: number | null;
  task: SparkTaskLink | null;
}

export interface SparkDriver {
  id: string;
  state: string;
  cores: number;
  memoryMb: number;
  workerId: string | null;
  mainClass: string | null;
  startedAt: string | null;
  task: SparkTaskLink | null;
}

export interface SparkWorker {
  id: string;
  host: string;
  port: number;
  webUiUrl: string;
  state: string;
  cores: number;
  coresUsed: number;
  memoryMb: number;
  memoryUsedMb: number;
  lastHeartbeat: string | null;
}

export interface SparkClusterStatus {
  connId: string;
  master: string;
  webUiUrl: string;
  status: string;
  aliveWorkers: number;
  cores: { total: number; used: number };
  memoryMb: { total: number; used: number };
  workers: SparkWorker[];
  applications: { running: SparkApplication[]; completed: SparkApplication[] };
  drivers: { running: SparkDriver[]; completed: SparkDriver[] };
}

/** One autoscaler tick for one queue (GET /autoscaler/decisions). */
export interface AutoscalerDecision {
  id: number;
  queue: string;
  at: string;
  queued: number;
  running: number;
  currentReplicas: number;
  proposedReplicas: number;
  desiredReplicas: number;
  /** Average CPU per worker in cores; null when not measured (e.g. pods). */
  cpu: number | null;
  memoryMb: number | null;
  networkBytesPerSec: number | null;
  proposals: Record<string, number>;
  reason: string;
  actuator: string;
}

// ---- alerts (GET /alerts, /alerts/notifiers) ----

export type AlertKind = "task_failed" | "task_retry" | "run_failed" | "run_succeeded" | "deadline_missed" | "import_error" | "git_sync_failed";
export type AlertState = "pending" | "delivered" | "failed" | "suppressed" | "no_notifiers";

/** One send of an alert to one notifier. */
export interface AlertAttempt {
  attempt: number;
  startedAt: string;
  durationMs: number;
  ok: boolean;
  error: string | null;
  response: string | null;
}

export interface AlertDelivery {
  id: number;
  notifier: string;
  state: "pending" | "sending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  deliveredAt: string | null;
  attemptLog: AlertAttempt[];
}

export interface Alert {
  id: number;
  kind: AlertKind;
  state: AlertState;
  title: string;
  message: string;
  dagId: string | null;
  taskId: string | null;
  runId: string | null;
  mapIndex: number | null;
  tryNumber: number | null;
  details: Record<string, unknown>;
  suppressedCount: number;
  createdAt: string;
  deliveries: AlertDelivery[];
}

export interface AlertList {
  alerts: Alert[];
  total: number;
  limit: number;
  offset: number;
}

/** A notifier's name and kind (never its settings) and how its deliveries went. */
export interface AlertNotifier {
  name: string;
  kind: string | null;
  configured: boolean;
  isDefault: boolean;
  last24h: { pending: number; sending: number; delivered: number; failed: number };
  lastDeliveredAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

// ---- git bundles: the commit of each DAG version, clear on the latest code ----

/** The git commit a DAG version first appeared in. */
export interface VersionCommit {
  bundle: string;
  sha: string;
  message: string | null;
  /** "Name <email>". */
  author: string | null;
  committedAt: string | null;
}

/** A stored version of a DAG (GET /dags/{dagId}/versions). */
export interface DagVersion {
  versionHash: string;
  createdAt: string;
  hasSource: boolean;
  isCurrent: boolean;
  /** Only when asked for with runCounts=true. */
  runCount?: number;
  /** Null for DAGs from the local DAG folder. */
  commit: VersionCommit | null;
}

/** POST /dags/{dagId}/runs/{runId}/clear: what was (with dryRun: would be) cleared, and the run's version and commit after it. */
export interface ClearResult {
  cleared: string[];
  dryRun: boolean;
  versionHash: string;
  bundleVersion: string | null;
}
