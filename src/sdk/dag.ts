import type { z } from "zod";
import type { DagSpec, SparkTaskSpec, TaskKind, TaskPodSpec, TaskSpec } from "../core/dagSpec.js";
import { ErrorCode, SluiceError, type ErrorLocation } from "../core/errors.js";
import { parseDuration, parseSchedule } from "../core/schedule.js";
import { TRIGGER_RULES, type TriggerRule } from "../core/triggerRules.js";
import { checkDatasetUri, validateDagStructure } from "../core/validateDag.js";
import { suggestion } from "../core/didYouMean.js";
import type { TaskContext } from "./context.js";
import { callerLocation } from "./callerLocation.js";
import { datasetCondition, isDatasetScheduleValue, normaliseDatasets, type DatasetLike, type DatasetSchedule, type DatasetUris } from "./dataset.js";
import { paramsSpec, type ParamsInput, type ParamsOf } from "./params.js";
import { podSpec } from "./podOptions.js";
import { dagAlertSpec, taskAlertSpec, type DagAlertOptions, type TaskAlertOptions } from "./alertOptions.js";
import { duckdbTaskSpec, expandTaskSpec, sparkTaskSpec } from "./kindSpecs.js";
import type { DuckdbCode, DuckdbSource, DuckdbTaskResult, ExpandOptions, MapItem, MappedResult, PerRun, SparkCode, SparkTaskResult } from "./taskKinds.js";

/** A duration: milliseconds, or text like "30s", "5m", "1h30m". */
export type Duration = number | string;

/** Options every task accepts; DAG-level values are the defaults. */
export interface TaskOptions {
  /** Extra tries after the first failure (default 0, or the DAG's). */
  retries?: number;
  /** Delay before a retry (default "5m"). */
  retryDelay?: Duration;
  /** Double the delay after each failed try (default false). */
  retryExponentialBackoff?: boolean;
  /** Cap for the retry delay (default "1h"). */
  maxRetryDelay?: Duration;
  /** Kill the attempt after this long. */
  timeout?: Duration;
  /** When the task may run given its upstream states (default "all_success"). */
  triggerRule?: TriggerRule;
  /** Pool the task takes slots from (default "default_pool"). */
  pool?: string;
  poolSlots?: number;
  /** Higher runs first when slots are scarce (default 1). */
  priorityWeight?: number;
  /** Queue name for routing to workers (default "default"). */
  queue?: string;
  /** Markdown shown next to the task. */
  doc?: string;
  /** --- Kubernetes executor: overrides of the task's pod (image, resources, nodeSelector, …) --- */
  pod?: TaskPodSpec;
  /** --- alerts: this task's notifiers and events over its DAG's; false: no alerts for it (see docs/alerts.md) --- */
  alerts?: TaskAlertOptions | false;
}

/** A reference to a declared task; its type parameter carries the result type. */
export interface TaskHandle<Id extends string = string, R = unknown> {
  readonly id: Id;
  readonly kind: TaskKind;
  /** Phantom: never set at run time; only carries the result type. */
  readonly __result?: R;
}

type Upstream = TaskHandle<string, any> | string;
type HandleResults<U extends readonly Upstream[]> = {
  [H in Extract<U[number], TaskHandle<string, any>> as H["id"]]: NonNullable<H["__result"]>;
};
type InputResults<I extends Record<string, TaskHandle<string, any>>> = {
  [K in keyof I]: NonNullable<I[K]["__result"]>;
};
/** Second argument of a task function: results of upstream handles by task id, and of `inputs` by name. */
export type TaskInputs<U extends readonly Upstream[], I extends Record<string, TaskHandle<string, any>>> = HandleResults<U> & InputResults<I>;

/** Datasets a task produces and reads. Per task only: a DAG-level default would make every task a producer. */
export interface DatasetOptions<O extends readonly DatasetLike[] = readonly DatasetLike[]> {
  /** Datasets the task produces (URIs or dataset()): each success records one dataset event per outlet. */
  outlets?: O;
  /** Datasets the task reads (URIs or dataset()): shown as consumers on the Datasets page. */
  inlets?: readonly DatasetLike[];
}

/** A handle whose result is a list: what `expand` accepts. */
export type ListHandle = TaskHandle<string, readonly unknown[]>;

export interface FunctionTaskOptions<
  U extends readonly Upstream[],
  I extends Record<string, TaskHandle<string, any>>,
  O extends readonly DatasetLike[] = readonly DatasetLike[],
  E extends ListHandle | undefined = undefined,
> extends TaskOptions,
    DatasetOptions<O>,
    ExpandOptions<E> {
  /** Tasks that must finish first (handles, or ids). Their results arrive keyed by task id. */
  upstream?: U;
  /** Named upstream results; each one is also a dependency (inferred, no need to list it in `upstream`). */
  inputs?: I;
}

export interface ShellTaskOptions<E extends ListHandle | undefined = undefined> extends TaskOptions, DatasetOptions, ExpandOptions<E> {
  upstream?: readonly Upstream[];
  /**
   * Extra environment; SLUICE_DAG_ID, SLUICE_RUN_ID, SLUICE_TASK_ID, SLUICE_MAP_INDEX, SLUICE_TRY_NUMBER,
   * SLUICE_LOGICAL_DATE, SLUICE_DATA_INTERVAL_START/END are always set, and SLUICE_MAP_ITEM (JSON) in a mapped instance.
   */
  env?: Record<string, string>;
  /** Working directory (default: the DAG file's folder). */
  cwd?: string;
}

/** Options of a DuckDB task (see d.duckdb). */
export interface DuckdbTaskOptions<
  P,
  U extends readonly Upstream[],
  I extends Record<string, TaskHandle<string, any>>,
  E extends ListHandle | undefined = undefined,
> extends TaskOptions,
    DatasetOptions,
    ExpandOptions<E> {
  upstream?: U;
  inputs?: I;
  /** The query. Sources are views by their names; a mapped task over partitions reads its slice as the view `input`. */
  sql: PerRun<P, TaskInputs<U, I> & MapItem<E>, string>;
  /** Named sources registered as views before the query runs (default for a mapped task: { input: item }). */
  sources?: PerRun<P, TaskInputs<U, I> & MapItem<E>, Record<string, DuckdbSource>>;
  /** Parquet file to write the query's result to (a path or file:// URI); without it the rows are the result. */
  output?: PerRun<P, TaskInputs<U, I> & MapItem<E>, string>;
  /** DuckDB memory_limit, e.g. "512MB" (default: DuckDB's own, 80% of RAM). */
  memoryLimit?: string;
  /** DuckDB threads (default 1: parallelism comes from mapped instances). */
  threads?: number;
}

/** Options of a Spark task (see d.spark). */
export interface SparkTaskOptions<
  P,
  U extends readonly Upstream[],
  I extends Record<string, TaskHandle<string, any>>,
  E extends ListHandle | undefined = undefined,
> extends TaskOptions,
    DatasetOptions,
    ExpandOptions<E>,
    Omit<SparkTaskSpec, "args" | "connection"> {
  upstream?: U;
  inputs?: I;
  /** Connection id of the Spark master (default "spark_default"). */
  connection?: string;
  /** Application arguments, or a function computing them per run. */
  args?: PerRun<P, TaskInputs<U, I> & MapItem<E>, string[]>;
}

/** `O`: the URIs of the task's outlets, the ones ctx.outletExtra() accepts. */
export type TaskFn<P, In, R, O extends string = string> = (ctx: TaskContext<P, O>, inputs: In) => R | Promise<R>;

/** A task as declared in code: its spec plus (for function tasks) the function and input mapping. */
export interface TaskDef {
  spec: TaskSpec;
  fn?: TaskFn<any, any, unknown>;
  /** input name -> upstream task id, for building the function's second argument. */
  inputs: Record<string, string>;
  /** DuckDB tasks: the SQL, sources and output (values or per-run functions). */
  duckdb?: DuckdbCode;
  /** Spark tasks: arguments computed per run. */
  spark?: SparkCode;
}

interface TaskCode {
  fn?: TaskFn<any, any, unknown>;
  inputs: Record<string, string>;
  duckdb?: DuckdbCode;
  spark?: SparkCode;
}

export interface DagOptions<PS extends ParamsInput | undefined = undefined> extends TaskOptions {
  id: string;
  description?: string;
  /**
   * Cron ("0 2 * * *", 5 or 6 fields), preset ("@daily"), interval ("15m"), or null/omitted for manual runs only.
   * Or datasets: `[dataset("s3://lake/features")]` runs the DAG once every listed dataset has updated since its
   * last dataset-triggered run; anyOf()/allOf() (nestable) say "one of" / "all of". Not both a time and datasets.
   */
  schedule?: string | null | DatasetSchedule;
  /** IANA time zone of the schedule (default "UTC"). */
  timezone?: string;
  start?: string | Date;
  end?: string | Date;
  /** Create runs for every missed interval since start (default false: only the latest). */
  catchup?: boolean;
  maxActiveRuns?: number;
  maxActiveTasks?: number;
  /** Fail a run that takes longer than this. */
  runTimeout?: Duration;
  /** A zod object schema with defaults, or plain default values. Validated when a run is triggered. */
  params?: PS;
  tags?: string[];
  owner?: string;
  /** Markdown documentation. */
  docs?: string;
  /** Who hears about failures (notifiers from the config), which events, and a run deadline; false: no alerts (see docs/alerts.md). */
  alerts?: DagAlertOptions | false;
}

const DAG_BRAND = Symbol.for("sluice.dag");
const REGISTRY = Symbol.for("sluice.dagRegistry");
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}$/;

/** A declared DAG: its spec and the task code. Created by dag(). */
export class Dag {
  readonly [DAG_BRAND] = true;
  constructor(
    readonly id: string,
    private readonly base: Omit<DagSpec, "tasks" | "fileloc">,
    readonly tasks: ReadonlyMap<string, TaskDef>,
    readonly location: ErrorLocation | undefined,
    readonly paramsSchema: z.ZodType | undefined,
  ) {}

  toSpec(fileloc: string): DagSpec {
    return { ...this.base, fileloc, tasks: [...this.tasks.values()].map((t) => t.spec) };
  }

  static is(value: unknown): value is Dag {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DAG_BRAND] === true;
  }
}

function fail(dagId: string, message: string, location?: ErrorLocation): never {
  const file = location?.file ? ` (${location.file}${location.line ? `:${location.line}` : ""})` : "";
  throw new SluiceError(ErrorCode.DagInvalid, `DAG "${dagId}"${file}: ${message}`, { location });
}

function checkId(kind: string, id: unknown, dagId: string, location?: ErrorLocation): asserts id is string {
  if (typeof id !== "string" || !ID_RE.test(id)) {
    fail(dagId, `${kind} id ${JSON.stringify(id)} is invalid: use letters, digits, "_", "-" and "." (at most 250 characters).`, location);
  }
}

function toIso(value: string | Date | undefined, what: string, dagId: string, location?: ErrorLocation): string | undefined {
  if (value === undefined) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) fail(dagId, `${what} ${JSON.stringify(value)} is not a date; use ISO 8601 like "2026-01-01" or "2026-01-01T02:00:00Z".`, location);
  return d.toISOString();
}

function nonNegInt(value: number | undefined, what: string, dflt: number, dagId: string, location?: ErrorLocation, min = 0): number {
  if (value === undefined) return dflt;
  if (!Number.isInteger(value) || value < min) fail(dagId, `${what} must be an integer >= ${min}, got ${JSON.stringify(value)}.`, location);
  return value;
}

function duration(value: Duration | undefined, what: string, dagId: string, location?: ErrorLocation): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value, what);
  } catch (err) {
    fail(dagId, (err as Error).message, location);
  }
}

/** Builds the tasks of one DAG inside dag()'s callback. */
export class DagBuilder<P> {
  /** @internal */ readonly defs = new Map<string, TaskDef>();
  /** @internal */ readonly pendingUpstream = new Map<string, Upstream[]>();

  constructor(
    private readonly dagId: string,
    private readonly defaults: TaskOptions,
    private readonly location: ErrorLocation | undefined,
  ) {}

  /** This DAG's import error with `message`. */
  private readonly failure = (message: string): never => fail(this.dagId, message, this.location);

  /**
   * A function task. Its return value (JSON, bounded size) is stored and handed
   * to downstream tasks; return a reference (path, URI) for big data.
   */
  task<
    const Id extends string,
    R,
    const U extends readonly Upstream[] = [],
    I extends Record<string, TaskHandle<string, any>> = {},
    const O extends readonly DatasetLike[] = [],
    E extends ListHandle | undefined = undefined,
  >(
    id: Id,
    fn: TaskFn<P, TaskInputs<U, I> & MapItem<E>, R, DatasetUris<O>>,
    opts: FunctionTaskOptions<U, I, O, E> = {},
  ): TaskHandle<Id, MappedResult<E, Awaited<R>>> {
    if (typeof fn !== "function") fail(this.dagId, `task "${id}": the second argument must be an async function (ctx, inputs) => result.`, this.location);
    const inputs = this.inputIds(id, opts.inputs);
    const upstream: Upstream[] = [...(opts.upstream ?? []), ...Object.values(opts.inputs ?? {})];
    return this.add(id, "function", upstream, opts, { fn: fn as TaskFn<any, any, unknown>, inputs });
  }

  /**
   * A DuckDB task: runs `sql` in an embedded DuckDB (in the task's process)
   * over named sources, with its own memory limit and threads, and writes the
   * result to a Parquet `output` (or returns the rows). Its result records the
   * row count and schema. Mapped over partition descriptors, each instance
   * reads only its slice as the view `input`.
   */
  duckdb<const Id extends string, const U extends readonly Upstream[] = [], I extends Record<string, TaskHandle<string, any>> = {}, E extends ListHandle | undefined = undefined>(
    id: Id,
    opts: DuckdbTaskOptions<P, U, I, E>,
  ): TaskHandle<Id, MappedResult<E, DuckdbTaskResult>> {
    const o = (opts ?? {}) as DuckdbTaskOptions<P, U, I, E>;
    const duckdb = duckdbTaskSpec(id, o, this.failure);
    const inputs = this.inputIds(id, o.inputs);
    const upstream: Upstream[] = [...(o.upstream ?? []), ...Object.values(o.inputs ?? {})];
    return this.add(id, "duckdb", upstream, o, { inputs, duckdb: { sql: o.sql, sources: o.sources, output: o.output } as DuckdbCode }, { duckdb });
  }

  /**
   * A Spark task: submits an application (a PySpark .py file, or a JAR with
   * mainClass) to the master of a connection (Spark standalone in client or
   * cluster mode, or Kubernetes), streams the driver's output into the task
   * log, and ends with the application: FINISHED is success; cancelling or
   * timing out the task kills the application.
   */
  spark<const Id extends string, const U extends readonly Upstream[] = [], I extends Record<string, TaskHandle<string, any>> = {}, E extends ListHandle | undefined = undefined>(
    id: Id,
    opts: SparkTaskOptions<P, U, I, E>,
  ): TaskHandle<Id, MappedResult<E, SparkTaskResult>> {
    const o = (opts ?? {}) as SparkTaskOptions<P, U, I, E>;
    const spark = sparkTaskSpec(id, o, this.failure);
    const inputs = this.inputIds(id, o.inputs);
    const upstream: Upstream[] = [...(o.upstream ?? []), ...Object.values(o.inputs ?? {})];
    return this.add(id, "spark", upstream, o, { inputs, spark: { args: typeof o.args === "function" ? o.args : undefined } }, { spark });
  }

  private inputIds(id: string, given: Record<string, TaskHandle<string, any>> | undefined): Record<string, string> {
    const inputs: Record<string, string> = {};
    for (const [name, h] of Object.entries(given ?? {})) {
      if (!h || typeof h.id !== "string") fail(this.dagId, `task "${id}": input "${name}" must be a task handle returned by d.task()/d.shell().`, this.location);
      inputs[name] = h.id;
    }
    return inputs;
  }

  /** A shell task: the command runs in `sh -c`; exit code 0 is success; the last stdout line is its result. */
  shell<const Id extends string, E extends ListHandle | undefined = undefined>(id: Id, command: string, opts: ShellTaskOptions<E> = {}): TaskHandle<Id, MappedResult<E, string>> {
    if (typeof command !== "string" || command.trim() === "") fail(this.dagId, `shell task "${id}": the command must be a non-empty string.`, this.location);
    if (opts.env) {
      for (const [k, v] of Object.entries(opts.env)) {
        if (typeof v !== "string") fail(this.dagId, `shell task "${id}": env.${k} must be a string, got ${typeof v}.`, this.location);
      }
    }
    return this.add(id, "shell", [...(opts.upstream ?? [])], opts, { inputs: {} }, { command, env: opts.env, cwd: opts.cwd });
  }

  /** Sequential dependencies: chain(a, b, c) makes b depend on a and c on b. */
  chain(...handles: TaskHandle[]): void {
    for (let i = 1; i < handles.length; i++) {
      const def = this.defs.get(handles[i].id);
      if (!def) fail(this.dagId, `chain(): task "${handles[i].id}" is not declared in this DAG.`, this.location);
      if (!def.spec.upstream.includes(handles[i - 1].id)) def.spec.upstream.push(handles[i - 1].id);
    }
  }

  private add(
    id: string,
    kind: TaskKind,
    upstream: Upstream[],
    opts: TaskOptions & DatasetOptions & ExpandOptions<ListHandle | undefined>,
    code: TaskCode,
    extra: Pick<TaskSpec, "command" | "env" | "cwd" | "duckdb" | "spark"> = {},
  ): TaskHandle<any, any> {
    checkId("task", id, this.dagId, this.location);
    if (this.defs.has(id)) fail(this.dagId, `task id "${id}" is declared twice; task ids must be unique within a DAG.`, this.location);
    const o = { ...this.defaults, ...opts };
    const rule = o.triggerRule ?? "all_success";
    if (!TRIGGER_RULES.includes(rule)) {
      fail(this.dagId, `task "${id}": trigger rule "${rule}" is unknown${suggestion(rule, TRIGGER_RULES)} (one of ${TRIGGER_RULES.join(", ")}).`, this.location);
    }
    const expand = expandTaskSpec(id, opts, code.inputs, this.failure);
    if (expand) upstream = [...upstream, expand.from];
    const ups: string[] = [];
    for (const u of upstream) {
      const uid = typeof u === "string" ? u : u?.id;
      if (typeof uid !== "string") fail(this.dagId, `task "${id}": upstream entries must be task handles or task ids.`, this.location);
      if (!ups.includes(uid)) ups.push(uid);
    }
    const spec: TaskSpec = {
      id,
      kind,
      upstream: ups,
      retries: nonNegInt(o.retries, `task "${id}": retries`, 0, this.dagId, this.location),
      retryDelayMs: o.retryDelay === 0 ? 0 : duration(o.retryDelay, `task "${id}": retryDelay`, this.dagId, this.location) ?? 300_000,
      retryExponentialBackoff: o.retryExponentialBackoff ?? false,
      maxRetryDelayMs: duration(o.maxRetryDelay, `task "${id}": maxRetryDelay`, this.dagId, this.location) ?? 3_600_000,
      timeoutMs: duration(o.timeout, `task "${id}": timeout`, this.dagId, this.location),
      triggerRule: rule,
      pool: o.pool ?? "default_pool",
      poolSlots: nonNegInt(o.poolSlots, `task "${id}": poolSlots`, 1, this.dagId, this.location, 1),
      priorityWeight: o.priorityWeight ?? 1,
      queue: o.queue ?? "default",
      doc: o.doc,
      outlets: normaliseDatasets(opts.outlets, "outlets", id, (msg) => fail(this.dagId, msg, this.location)),
      inlets: normaliseDatasets(opts.inlets, "inlets", id, (msg) => fail(this.dagId, msg, this.location)),
      ...(expand ? { expand } : {}),
      // Only when set, so DAGs without it keep their version hash.
      ...(o.pod !== undefined ? { pod: podSpec(o.pod, id, (msg) => fail(this.dagId, msg, this.location)) } : {}),
      ...(opts.alerts !== undefined ? { alerts: taskAlertSpec(opts.alerts, id, this.failure) } : {}),
      ...extra,
    };
    if (!Number.isInteger(spec.priorityWeight)) fail(this.dagId, `task "${id}": priorityWeight must be an integer.`, this.location);
    this.defs.set(id, { spec, fn: code.fn, inputs: code.inputs, duckdb: code.duckdb, spark: code.spark });
    return { id, kind };
  }

}

/**
 * Declare a DAG. The callback declares its tasks; structure is checked here,
 * so a cycle or a misspelt dependency fails the import with a clear message.
 */
export function dag<const PS extends ParamsInput | undefined = undefined>(
  options: DagOptions<PS>,
  build: (d: DagBuilder<ParamsOf<PS>>) => void,
): Dag {
  const location = callerLocation();
  const dagId = (options as { id?: unknown })?.id;
  checkId("DAG", dagId, String(dagId), location);
  if (typeof build !== "function") fail(dagId, "dag() needs a function as its second argument: dag({ id, ... }, (d) => { d.task(...) }).", location);
  const known = new Set([
    "id", "description", "schedule", "timezone", "start", "end", "catchup", "maxActiveRuns", "maxActiveTasks", "runTimeout",
    "params", "tags", "owner", "docs", "retries", "retryDelay", "retryExponentialBackoff", "maxRetryDelay", "timeout",
    "triggerRule", "pool", "poolSlots", "priorityWeight", "queue", "doc", "alerts",
  ]);
  for (const key of Object.keys(options)) {
    if (key === "outlets" || key === "inlets") fail(dagId, `"${key}" is a task option, not a DAG option: declare it on the d.task()/d.shell() that produces or reads the dataset.`, location);
    if (!known.has(key)) fail(dagId, `unknown option "${key}"${suggestion(key, known)}`, location);
  }
  const timezone = options.timezone ?? "UTC";
  const given: unknown = options.schedule ?? null;
  // A list, a dataset() or anyOf()/allOf(): runs on dataset updates, stored as a condition beside schedule: null.
  const datasetSchedule = isDatasetScheduleValue(given) ? datasetCondition(given, (msg) => fail(dagId, msg, location)) : undefined;
  const schedule = datasetSchedule ? null : (given as string | null);
  if (typeof schedule === "string" && schedule.includes("://") && checkDatasetUri(schedule).ok) {
    fail(dagId, `schedule ${JSON.stringify(schedule)} is a dataset URI, not a time schedule: to run the DAG when it updates, write schedule: [dataset(${JSON.stringify(schedule)})].`, location);
  }
  try {
    parseSchedule(schedule, timezone);
  } catch (err) {
    fail(dagId, (err as Error).message, location);
  }
  const { id: _id, description, schedule: _s, timezone: _tz, start, end, catchup, maxActiveRuns, maxActiveTasks, runTimeout, params, tags, owner, docs, alerts, ...taskDefaults } = options;
  const alertSpec = dagAlertSpec(alerts, (msg) => fail(dagId, msg, location));
  const p = paramsSpec(params, (msg) => fail(dagId, msg, location));
  // Scheduled runs have no conf: their params must validate from the defaults alone.
  if (schedule !== null && parseSchedule(schedule, timezone).kind !== "manual" && p.schema && !p.schema.safeParse({}).success) {
    fail(dagId, "its params schema has fields without a default, but scheduled runs are created without conf. Give every param a default (.default(...)), or make the DAG manual-only (schedule: null).", location);
  }
  if (datasetSchedule && p.schema && !p.schema.safeParse({}).success) {
    fail(dagId, "its params schema has fields without a default, but runs triggered by dataset updates are created without conf. Give every param a default (.default(...)), or make the DAG manual-only (schedule: null).", location);
  }
  const builder = new DagBuilder<ParamsOf<PS>>(dagId, taskDefaults, location);
  build(builder);
  if (builder.defs.size === 0) fail(dagId, "it declares no tasks. Add at least one with d.task() or d.shell().", location);
  validateDagStructure(dagId, [...builder.defs.values()].map((t) => t.spec), location);
  const base: Omit<DagSpec, "tasks" | "fileloc"> = {
    id: dagId,
    description,
    schedule,
    ...(datasetSchedule ? { datasetSchedule } : {}),
    timezone,
    start: toIso(start, "start", dagId, location),
    end: toIso(end, "end", dagId, location),
    catchup: catchup ?? false,
    maxActiveRuns: nonNegInt(maxActiveRuns, "maxActiveRuns", 16, dagId, location, 1),
    maxActiveTasks: nonNegInt(maxActiveTasks, "maxActiveTasks", 16, dagId, location, 1),
    runTimeoutMs: duration(runTimeout, "runTimeout", dagId, location),
    params: p.defaults,
    paramsSchema: p.jsonSchema,
    tags: tags ?? [],
    owner,
    docs,
    // Only when set, so DAGs without it keep their version hash.
    ...(alertSpec !== undefined ? { alerts: alertSpec } : {}),
  };
  const result = new Dag(dagId, base, builder.defs, location, p.schema);
  const registry = (globalThis as Record<symbol, unknown>)[REGISTRY];
  if (Array.isArray(registry)) registry.push(result);
  return result;
}

/** Used by the DAG loader: collect every dag() call made while a file is imported. */
export function collectDags<T>(load: () => Promise<T>): Promise<{ value: T; dags: Dag[] }> {
  const g = globalThis as Record<symbol, unknown>;
  const list: Dag[] = [];
  g[REGISTRY] = list;
  return load().then(
    (value) => {
      delete g[REGISTRY];
      return { value, dags: list };
    },
    (err) => {
      delete g[REGISTRY];
      throw err;
    },
  );
}
