import { checkDatasetUri } from "../core/validateDag.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
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
