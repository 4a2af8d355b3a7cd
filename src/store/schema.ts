import type { Generated } from "kysely";

/**
 * The metadata database, as Kysely sees it. One schema for SQLite and
 * PostgreSQL: times are integer milliseconds since the epoch, booleans are
 * 0/1 integers, structured values are JSON text. That keeps every query
 * dialect-free; the only dialect branches live in migrations and db.ts.
 */
export interface Database {
  sluice_schema: SchemaTable;
  dag: DagTable;
  dag_version: DagVersionTable;
  dag_file: DagFileTable;
  import_error: ImportErrorTable;
  dag_run: DagRunTable;
  task_instance: TaskInstanceTable;
  task_try: TaskTryTable;
  task_log: TaskLogTable;
  pool: PoolTable;
  scheduler_job: SchedulerJobTable;
  app_user: AppUserTable;
  api_token: ApiTokenTable;
  app_session: AppSessionTable;
  variable: VariableTable;
  connection: ConnectionTable;
  dataset_ref: DatasetRefTable;
  dataset_event: DatasetEventTable;
  spark_app: SparkAppTable;
  dataset_dag_queue: DatasetDagQueueTable;
  dataset_run_event: DatasetRunEventTable;
}

export interface SchemaTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface DagTable {
  dag_id: string;
  fileloc: string;
  version_hash: string;
  /** JSON DagSpec of the current version. */
  spec: string;
  is_paused: number;
  /** 0 once its file is gone or no longer defines it. */
  is_active: number;
  schedule: string | null;
  timezone: string;
  owner: string | null;
  tags: string;
  description: string | null;
  /** Data interval of the next scheduled run to create (null: none). */
  next_interval_start: number | null;
  next_interval_end: number | null;
  updated_at: number;
  /** Commit of a git bundle the DAG's current version comes from (null: the local DAG folder). Migration 7. */
  bundle_version: string | null;
}

export interface DagVersionTable {
  dag_id: string;
  version_hash: string;
  spec: string;
  /** Text of the DAG file at this version (null for versions stored before migration 3). */
  source: string | null;
  created_at: number;
  /** The bundle commit this version was first published from (null: the local DAG folder). Migration 7. */
  bundle_version: string | null;
  /** The DAG file's path at this version (null before migration 7: use dag.fileloc). */
  fileloc: string | null;
}

export interface DagFileTable {
  path: string;
  content_hash: string;
  /** JSON array of the dag ids the file defined at its last good parse. */
  dag_ids: string;
  parsed_at: number;
  parse_ms: number;
}

export interface ImportErrorTable {
  path: string;
  message: string;
  line: number | null;
  col: number | null;
  stack: string | null;
  created_at: number;
}

export interface DagRunTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  run_type: string;
  state: string;
  logical_date: number;
  interval_start: number;
  interval_end: number;
  version_hash: string;
  conf: string;
  params: string;
  queued_at: number;
  start_date: number | null;
  end_date: number | null;
  /** Bumped when something changed that the scheduler must re-evaluate. */
  updated_at: number;
  note: string | null;
  /** The bundle commit all of the run's tasks run against (null: the local DAG folder). Migration 7. */
  bundle_version: string | null;
}

export interface TaskInstanceTable {
  id: Generated<number>;
  run_pk: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: string;
  try_number: number;
  max_tries: number;
  priority_weight: number;
  pool: string;
  pool_slots: number;
  queue: string;
  /** When an up_for_retry instance may be scheduled again. */
  next_try_at: number | null;
  queued_at: number | null;
  start_date: number | null;
  end_date: number | null;
  duration_ms: number | null;
  hostname: string | null;
  pid: number | null;
  /** Id of the scheduler job whose executor launched the attempt. */
  owner_job: number | null;
  heartbeat_at: number | null;
  /** JSON result of the latest successful try. */
  result: string | null;
  error: string | null;
  updated_at: number;
}

export interface TaskTryTable {
  id: Generated<number>;
  ti_id: number;
  try_number: number;
  state: string;
  start_date: number | null;
  end_date: number | null;
  duration_ms: number | null;
  hostname: string | null;
  pid: number | null;
  error: string | null;
}

export interface TaskLogTable {
  id: Generated<number>;
  ti_id: number;
  try_number: number;
  ts: number;
  stream: string;
  line: string;
}

export interface PoolTable {
  name: string;
  slots: number;
  description: string | null;
}

export interface SchedulerJobTable {
  id: Generated<number>;
  kind: string;
  hostname: string;
  pid: number;
  state: string;
  started_at: number;
  heartbeat_at: number;
  ended_at: number | null;
}

export interface AppUserTable {
  id: Generated<number>;
  username: string;
  /** "scrypt$N$r$p$salt$hash" (see auth/password.ts); never the password. */
  password_hash: string;
  /** "viewer" | "operator" | "admin". */
  role: string;
  created_at: number;
}

export interface ApiTokenTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** SHA-256 (hex) of the token; the token itself is shown once and never stored. */
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface AppSessionTable {
  /** SHA-256 (hex) of the session secret held in the browser's cookie. */
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

export interface VariableTable {
  key: string;
  /** Encrypted (secrets/secretBox.ts) when is_secret is 1, plain text otherwise. */
  value: string;
  is_secret: number;
  description: string | null;
  updated_at: number;
}

export interface ConnectionTable {
  conn_id: string;
  conn_type: string;
  host: string | null;
  port: number | null;
  login: string | null;
  /** Encrypted (secrets/secretBox.ts); never returned by the API. */
  password: string | null;
  schema_name: string | null;
  /** Encrypted JSON object of extra settings (may hold secrets). */
  extra: string | null;
  description: string | null;
  updated_at: number;
}

export interface DatasetRefTable {
  uri: string;
  dag_id: string;
  /** "" when a whole DAG consumes the dataset (scheduled on it). */
  task_id: string;
  /** "producer" | "consumer". */
  kind: string;
}

export interface DatasetEventTable {
  id: Generated<number>;
  uri: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  /** JSON metadata the producing task attached, or null. */
  extra: string | null;
  created_at: number;
}

export interface SparkAppTable {
  id: Generated<number>;
  /** The Spark connection it was submitted through. */
  connection_id: string;
  /** Master URL (spark://..., k8s://...). */
  master: string;
  /** "client" | "cluster". */
  deploy_mode: string;
  /** Spark application id, once known (app-..., spark-...). */
  app_id: string | null;
  /** Cluster mode: driver id (driver-...) or the SparkApplication's name. */
  driver_id: string | null;
  ti_id: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  /** Last known state as Spark reports it (SUBMITTED, RUNNING, FINISHED, FAILED, KILLED, ...). */
  state: string;
  created_at: number;
  updated_at: number;
}

export interface DatasetDagQueueTable {
  dag_id: string;
  uri: string;
  first_event_id: number;
  last_event_id: number;
  created_at: number;
}

export interface DatasetRunEventTable {
  run_pk: number;
  event_id: number;
}
