/** What a running task sees. Typed by the DAG's params. */
export interface TaskContext<P = Record<string, unknown>> {
  dagId: string;
  runId: string;
  taskId: string;
  /** -1 for an unmapped task. */
  mapIndex: number;
  /** 1 for the first attempt, 2 for the first retry, ... */
  tryNumber: number;
  maxTries: number;
  /** Start of the data interval (Airflow's logical date). */
  logicalDate: Date;
  dataInterval: { start: Date; end: Date };
  /** DAG params: defaults merged with the run's conf, validated against the params schema. */
  params: P;
  /** The conf the run was triggered with, as given. */
  conf: Record<string, unknown>;
  /** Lines go to this try's log in the metadata database. */
  log: TaskLogger;
  /** Aborted when the attempt is cancelled or times out: pass it to fetch(), child processes, ... */
  signal: AbortSignal;
}

export interface TaskLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
