/**
 * Types of the data-processing task kinds (DuckDB, Spark) and of mapped
 * tasks, as DAG authors see them. The runtimes live in runner/ (duckdbTask.ts,
 * sparkTask.ts); these are only the shapes they accept and return.
 */
import type { PartitionDescriptor } from "../core/partitions.js";
import type { SparkKubernetesSpec } from "../core/dagSpec.js";
import type { TaskContext } from "./context.js";

/** Phantom-typed reference a task declaration returns (kept here to avoid an import cycle with dag.ts). */
export interface HandleLike<R = unknown> {
  readonly id: string;
  readonly __result?: R;
}

/** Element type of a handle whose result is a list; never for anything else. */
export type ListElement<H> = H extends HandleLike<infer L> ? (NonNullable<L> extends readonly (infer E)[] ? E : never) : never;

/** What a mapped instance adds to its inputs: the element of the list it was made for. */
export type MapItem<E> = [E] extends [undefined] ? {} : { item: ListElement<E> };

/** Result type of a task declaration: an array of results (in map index order) when it is mapped. */
export type MappedResult<E, R> = [E] extends [undefined] ? R : R[];

/** Options of any task kind that can be mapped. */
export interface ExpandOptions<E> {
  /**
   * Map the task over the list an upstream task returns: one instance per
   * element (map index 0..n-1), each receiving its element as `inputs.item`,
   * each retried on its own. Downstream tasks get the results as one array in
   * map index order. The upstream becomes a dependency automatically.
   */
  expand?: E;
  /** Most instances allowed (default: config scheduler.maxMapLength, 1024). A longer list fails the task. */
  maxMapLength?: number;
  /** Most instances of this task running at once in one run (default: only pools and maxActiveTasks limit it). */
  maxActiveMapped?: number;
}

/**
 * A DuckDB source: a path, glob or file:// URI (CSV, TSV, JSON Lines or
 * Parquet, by extension), a list of them, or a partition descriptor from
 * partition() (only that slice is read).
 */
export type DuckdbSource = string | readonly string[] | PartitionDescriptor;

/** Either a value, or a function computing it from the run (context and upstream inputs). */
export type PerRun<P, In, T> = T | ((ctx: TaskContext<P>, inputs: In) => T);

/** What a DuckDB task records as its result (shown in the UI, passed downstream). */
export interface DuckdbTaskResult {
  /** Rows the query produced (written to `output`, or returned in `data`). */
  rows: number;
  /** Column names and DuckDB types of the query's result. */
  schema: { name: string; type: string }[];
  /** The Parquet file written, when `output` was given. */
  output?: { path: string; bytes: number };
  /** The rows themselves, when there is no `output` (bounded by tasks.maxResultBytes). */
  data?: Record<string, unknown>[];
  /** Wall time of the query in milliseconds. */
  elapsedMs: number;
}

export interface DuckdbCode<P = any, In = any> {
  sql: PerRun<P, In, string>;
  sources?: PerRun<P, In, Record<string, DuckdbSource>>;
  output?: PerRun<P, In, string>;
}

/** What a Spark task records as its result. */
export interface SparkTaskResult {
  /** Spark application id (app-... on standalone, spark-... on Kubernetes), when known. */
  appId?: string;
  /** Driver id of a cluster-mode submission (driver-... on standalone), or the SparkApplication name. */
  driverId?: string;
  /** Final state as Spark reports it (FINISHED, FAILED, KILLED, COMPLETED, ...). */
  state: string;
  /** Where it ran: the master URL. */
  master: string;
  deployMode: "client" | "cluster";
  elapsedMs: number;
}

export interface SparkCode<P = any, In = any> {
  args?: PerRun<P, In, string[]>;
}

export type { SparkKubernetesSpec };
