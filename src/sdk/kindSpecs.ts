/**
 * The checks and stored settings of the task options that DuckDB, Spark and
 * mapped tasks add (the code parts — SQL, per-run functions — stay in the DAG
 * file; these are the JSON parts of the TaskSpec). `fail` throws the DAG's
 * import error with the message.
 */
import type { DuckdbTaskSpec, ExpandSpec, SparkTaskSpec } from "../core/dagSpec.js";
import type { ExpandOptions } from "./taskKinds.js";

type Fail = (message: string) => never;

function positiveInt(value: number | undefined, what: string, fail: Fail): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) fail(`${what} must be an integer >= 1, got ${JSON.stringify(value)}.`);
  return value;
}

export function duckdbTaskSpec(id: string, o: { sql?: unknown; memoryLimit?: string; threads?: number }, fail: Fail): DuckdbTaskSpec {
  if (typeof o.sql !== "string" && typeof o.sql !== "function") fail(`duckdb task "${id}": sql must be a string or a function (ctx, inputs) => string.`);
  if (typeof o.sql === "string" && o.sql.trim() === "") fail(`duckdb task "${id}": sql is empty.`);
  if (o.memoryLimit !== undefined && !/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i.test(o.memoryLimit)) {
    fail(`duckdb task "${id}": memoryLimit ${JSON.stringify(o.memoryLimit)} is not a size; write it like "512MB" or "2GB".`);
  }
  return { memoryLimit: o.memoryLimit, threads: positiveInt(o.threads, `duckdb task "${id}": threads`, fail) };
}

export function sparkTaskSpec(id: string, o: Omit<SparkTaskSpec, "args" | "connection"> & { connection?: string; args?: unknown }, fail: Fail): SparkTaskSpec {
  if (typeof o.application !== "string" || o.application.trim() === "") {
    fail(`spark task "${id}": application must name a PySpark .py file or a .jar (relative to the DAG file's folder, absolute, or a URL).`);
  }
  if (/\.jar$/i.test(o.application) && !o.mainClass) fail(`spark task "${id}": a JAR application needs mainClass (the class with main()).`);
  if (o.deployMode !== undefined && o.deployMode !== "client" && o.deployMode !== "cluster") fail(`spark task "${id}": deployMode must be "client" or "cluster".`);
  if (o.args !== undefined && typeof o.args !== "function" && !(Array.isArray(o.args) && o.args.every((a) => typeof a === "string"))) {
    fail(`spark task "${id}": args must be an array of strings or a function (ctx, inputs) => string[].`);
  }
  for (const [k, v] of Object.entries(o.conf ?? {})) {
    if (typeof v !== "string") fail(`spark task "${id}": conf["${k}"] must be a string (Spark reads every setting as text).`);
  }
  return {
    connection: o.connection ?? "spark_default",
    application: o.application,
    mainClass: o.mainClass,
    args: Array.isArray(o.args) ? [...(o.args as string[])] : undefined,
    conf: o.conf,
    deployMode: o.deployMode,
    executorCores: positiveInt(o.executorCores, `spark task "${id}": executorCores`, fail),
    executorMemory: o.executorMemory,
    driverMemory: o.driverMemory,
    numExecutors: positiveInt(o.numExecutors, `spark task "${id}": numExecutors`, fail),
    name: o.name,
    pyFiles: o.pyFiles,
    kubernetes: o.kubernetes,
  };
}

/** The `expand` options of a task, checked; undefined for an unmapped task. `inputs`: its named inputs. */
export function expandTaskSpec(id: string, opts: ExpandOptions<unknown>, inputs: Record<string, string>, fail: Fail): ExpandSpec | undefined {
  if (opts.expand === undefined) {
    if (opts.maxMapLength !== undefined || opts.maxActiveMapped !== undefined) {
      fail(`task "${id}": maxMapLength and maxActiveMapped only apply to a mapped task; add expand: <handle of the task returning the list>.`);
    }
    return undefined;
  }
  const from = (opts.expand as { id?: unknown } | null)?.id;
  if (typeof from !== "string") fail(`task "${id}": expand must be the handle of an upstream task whose result is a list (returned by d.task()).`);
  // The element arrives as inputs.item: a task or input of that name would be shadowed.
  if ("item" in inputs) fail(`task "${id}": an input named "item" clashes with the mapped element (inputs.item); rename the input.`);
  return {
    from,
    maxLength: positiveInt(opts.maxMapLength, `task "${id}": maxMapLength`, fail),
    maxActive: positiveInt(opts.maxActiveMapped, `task "${id}": maxActiveMapped`, fail),
  };
}
