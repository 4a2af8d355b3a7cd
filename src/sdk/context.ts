import type { Dataset } from "./dataset.js";

/** What a running task sees. Typed by the DAG's params and (function tasks) the URIs of its outlets. */
export interface TaskContext<P = Record<string, unknown>, O extends string = string> {
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
  /**
   * Attach metadata to the dataset event this attempt records for one of its
   * outlets when it succeeds, e.g. `ctx.outletExtra(FEATURES, { rows: 5000 })`.
   * A plain JSON object of at most 16 KiB; calling it again for the same
   * outlet replaces the earlier value. Throws (failing the attempt, without
   * retries) for a URI that is not one of the task's outlets, or for a value
   * that is not JSON or too large. Nothing is recorded if the attempt fails.
   */
  outletExtra(outlet: O | Dataset<O>, extra: Record<string, unknown>): void;
}

export interface TaskLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
