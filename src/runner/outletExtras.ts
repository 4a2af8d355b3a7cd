import { Unrecoverable } from "../core/errors.js";
import { checkDatasetUri, MAX_DATASET_EXTRA_BYTES } from "../core/validateDag.js";
import { isDataset } from "../sdk/dataset.js";
import type { DatasetEventInput } from "./finishAttempt.js";

/**
 * Collects what one attempt attaches to its outlets with ctx.outletExtra(),
 * and turns it into the dataset events its success records. Bad calls throw
 * Unrecoverable: a misspelt outlet or an oversized value fails the same way
 * on every retry, so retrying would only waste the tries.
 */
export class OutletExtras {
  private extras = new Map<string, string>();

  constructor(
    private readonly taskId: string,
    private readonly outlets: readonly string[],
  ) {}

  /** ctx.outletExtra(). */
  set(outlet: unknown, extra: unknown): void {
    const raw = isDataset(outlet) ? outlet.uri : outlet;
    const checked = checkDatasetUri(raw);
    const uri = checked.ok ? checked.uri : String(raw);
    if (!this.outlets.includes(uri)) {
      const declared = this.outlets.length ? `its outlets are ${this.outlets.map((u) => JSON.stringify(u)).join(", ")}` : "it declares no outlets";
      throw new Unrecoverable(`ctx.outletExtra(${JSON.stringify(raw)}): task "${this.taskId}" has no such outlet (${declared}). Add the URI to the task's outlets, or fix the URI.`);
    }
    if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
      throw new Unrecoverable(`ctx.outletExtra(${JSON.stringify(uri)}, ...): the metadata must be a plain object like { rows: 123 }, got ${Array.isArray(extra) ? "an array" : extra === null ? "null" : typeof extra}.`);
    }
    let json: string;
    try {
      json = JSON.stringify(extra);
    } catch (err) {
      throw new Unrecoverable(`ctx.outletExtra(${JSON.stringify(uri)}, ...): the metadata is not JSON (${(err as Error).message}). Pass plain data: objects, arrays, strings, numbers, booleans, null.`);
    }
    const size = Buffer.byteLength(json);
    if (size > MAX_DATASET_EXTRA_BYTES) {
      throw new Unrecoverable(
        `ctx.outletExtra(${JSON.stringify(uri)}, ...): the metadata is ${size} bytes of JSON; at most ${MAX_DATASET_EXTRA_BYTES} are stored per dataset event. Keep it to a summary (counts, paths, versions).`,
      );
    }
    // Serialised now: the task may change the object after the call.
    this.extras.set(uri, json);
  }

  /** One event per outlet, with the metadata attached to it (or null). */
  events(at: { dagId: string; runId: string; taskId: string; mapIndex: number }): DatasetEventInput[] {
    return this.outlets.map((uri) => ({ uri, dag_id: at.dagId, run_id: at.runId, task_id: at.taskId, map_index: at.mapIndex, extra: this.extras.get(uri) ?? null }));
  }
}
