import { simplifyCondition, type DatasetCondition } from "../core/datasetSchedule.js";
import { checkDatasetUri } from "../core/validateDag.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { parseSchedule } from "../core/schedule.js";
import { callerLocation } from "./callerLocation.js";

/**
 * A dataset: data a task produces (`outlets`) or reads (`inlets`), named by a
 * URI. Sluice does not read or write it; it records which tasks produce and
 * consume each URI and an event each time a producing task succeeds.
 */
export interface Dataset<U extends string = string> {
  readonly kind: "dataset";
  /** Normalised URI (scheme lower-cased). */
  readonly uri: string;
  /** Phantom: never set at run time; carries the URI as written, for typing ctx.outletExtra(). */
  readonly __uri?: U;
}

/** What `outlets` and `inlets` accept: a URI string or a dataset(). */
export type DatasetLike = string | Dataset<string>;

/** The URI literals of a list of outlets (string or dataset()), as a union. */
export type DatasetUris<L extends readonly DatasetLike[]> = L[number] extends infer X ? (X extends Dataset<infer U> ? U : X extends string ? X : never) : never;

/**
 * Declare a dataset by URI, e.g. `dataset("s3://lake/features/daily")`. The
 * URI needs a scheme (s3://, gs://, file://, postgres://, sluice://, ...), no
 * whitespace, no password, at most 1,000 characters; a bad one fails the DAG
 * file's import here. Plain strings work too in outlets/inlets; a shared
 * dataset() constant keeps producer and consumer from drifting apart.
 */
export function dataset<const U extends string>(uri: U): Dataset<U> {
  const r = checkDatasetUri(uri);
  if (!r.ok) {
    const location = callerLocation();
    const where = location?.file ? ` (${location.file}${location.line ? `:${location.line}` : ""})` : "";
    throw new SluiceError(ErrorCode.DagInvalid, `dataset(${JSON.stringify(uri)})${where}: the URI ${r.problem}.`, { location, details: { uri } });
  }
  return Object.freeze({ kind: "dataset" as const, uri: r.uri });
}

export function isDataset(value: unknown): value is Dataset {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "dataset" && typeof (value as { uri?: unknown }).uri === "string";
}

/**
 * Normalise a task's outlets or inlets: each entry checked (the error names
 * the task and the bad URI), URIs normalised, duplicates dropped, order kept.
 * `fail` throws the DAG's import error.
 */
export function normaliseDatasets(list: unknown, what: "outlets" | "inlets", taskId: string, fail: (message: string) => never): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) fail(`task "${taskId}": ${what} must be an array of dataset URIs or dataset() values, got ${typeof list}.`);
  const out: string[] = [];
  for (const entry of list as unknown[]) {
    const raw = isDataset(entry) ? entry.uri : entry;
    const r = checkDatasetUri(raw);
    if (!r.ok) fail(`task "${taskId}": ${what} entry ${shown(raw)} ${r.problem}.`);
    if (!out.includes(r.uri)) out.push(r.uri);
  }
  return out;
}

/** A bad entry as it appears in an error: long values cut, so the message stays readable. */
function shown(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value === "object" ? JSON.stringify(value) ?? String(value) : String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** anyOf(a, b): the DAG runs when any one of them has updated. */
export interface DatasetAnyOf {
  readonly kind: "dataset_any";
  readonly of: readonly DatasetScheduleItem[];
}

/** allOf(a, b): the DAG runs once every one of them has updated (what a plain list means too). */
export interface DatasetAllOf {
  readonly kind: "dataset_all";
  readonly of: readonly DatasetScheduleItem[];
}

export type DatasetScheduleItem = Dataset | DatasetAnyOf | DatasetAllOf;

/**
 * What a DAG's `schedule` accepts to run on dataset updates instead of a
 * clock: one dataset(), a list (all of them must update), or anyOf()/allOf(),
 * nested as deep as needed.
 */
export type DatasetSchedule = DatasetScheduleItem | readonly DatasetScheduleItem[];

/**
 * Any of these datasets: the DAG runs when one of them has updated since its
 * last dataset-triggered run. Entries are dataset() values or nested
 * anyOf()/allOf(): `allOf(RAW, anyOf(FEATURES_EU, FEATURES_US))`.
 */
export function anyOf(...items: DatasetScheduleItem[]): DatasetAnyOf {
  return group("anyOf", "dataset_any", items);
}

/** All of these datasets: the DAG runs once every one has updated since its last dataset-triggered run. */
export function allOf(...items: DatasetScheduleItem[]): DatasetAllOf {
  return group("allOf", "dataset_all", items);
}

function group<K extends "dataset_any" | "dataset_all">(name: string, kind: K, items: unknown[]): { readonly kind: K; readonly of: readonly DatasetScheduleItem[] } {
  const fail = (message: string): never => {
    const location = callerLocation();
    const where = location?.file ? ` (${location.file}${location.line ? `:${location.line}` : ""})` : "";
    throw new SluiceError(ErrorCode.DagInvalid, `${name}()${where}: ${message}`, { location });
  };
  if (items.length === 0) fail(`needs at least one dataset, e.g. ${name}(dataset("s3://lake/a"), dataset("s3://lake/b")).`);
  items.forEach((item, i) => {
    const problem = entryProblem(item);
    if (problem) fail(`argument ${i + 1} ${problem}.`);
  });
  return Object.freeze({ kind, of: Object.freeze([...items] as DatasetScheduleItem[]) });
}

function isGroup(value: unknown): value is DatasetAnyOf | DatasetAllOf {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return typeof value === "object" && value !== null && (kind === "dataset_any" || kind === "dataset_all");
}

/** Whether a DAG's `schedule` value asks for a dataset schedule (as opposed to a cron, an interval or null). */
export function isDatasetScheduleValue(value: unknown): boolean {
  return Array.isArray(value) || isDataset(value) || isGroup(value);
}

/** Why a schedule entry is not a dataset, anyOf() or allOf(); undefined when it is one. */
function entryProblem(value: unknown): string | undefined {
  if (isDataset(value) || isGroup(value)) return undefined;
  if (typeof value === "string") {
    if (value.includes("://") && checkDatasetUri(value).ok) return `is the string ${shown(value)}: wrap it as dataset(${shown(value)})`;
    let cron = false;
    try {
      cron = parseSchedule(value).kind !== "manual";
    } catch {
      // not a time schedule either
    }
    if (cron) {
      return `is the time schedule ${shown(value)}: a DAG runs either on a time schedule or on dataset updates, not both. Keep one of them, or split the work into two DAGs`;
    }
  }
  return `is ${shown(value)}, not a dataset: use dataset("scheme://location"), anyOf(...) or allOf(...)`;
}

/**
 * The dataset condition a DAG's `schedule` describes (see DatasetSchedule),
 * checked, normalised and simplified. `fail` throws the DAG's import error;
 * messages name the bad entry by its place (schedule[1], schedule[0].of[2]).
 */
export function datasetCondition(value: unknown, fail: (message: string) => never): DatasetCondition {
  const convert = (v: unknown, where: string, depth: number): DatasetCondition => {
    if (depth > 32) fail(`${where}: dataset conditions nest at most 32 levels deep.`);
    const problem = entryProblem(v);
    if (problem) fail(`${where} ${problem}.`);
    if (isDataset(v)) {
      const r = checkDatasetUri(v.uri);
      if (!r.ok) fail(`${where}: the dataset URI ${shown(v.uri)} ${r.problem}.`);
      return { uri: r.uri };
    }
    const g = v as DatasetAnyOf | DatasetAllOf;
    const name = g.kind === "dataset_any" ? "anyOf" : "allOf";
    if (!Array.isArray(g.of) || g.of.length === 0) fail(`${where}: ${name}() needs at least one dataset.`);
    const members = g.of.map((m, i) => convert(m, `${where}.of[${i}]`, depth + 1));
    return g.kind === "dataset_any" ? { any: members } : { all: members };
  };
  if (Array.isArray(value)) {
    if (value.length === 0) fail("schedule is an empty list of datasets, so the DAG would never run: list at least one dataset(...), or use schedule: null for manual runs only.");
    return simplifyCondition({ all: value.map((v, i) => convert(v, `schedule[${i}]`, 1)) });
  }
  return simplifyCondition(convert(value, "schedule", 0));
}
