import type { TaskSpec } from "../core/dagSpec.js";
import { collectResults } from "../core/mappedResults.js";
import type { Dag } from "../sdk/dag.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";

export type UpstreamInputs =
  | { ok: true; upstreamResults: Record<string, unknown>; item?: { value: unknown } }
  | { ok: false; error: string };

/**
 * What a task instance receives from upstream: each upstream task's result
 * (a mapped upstream's results as one array, in map index order, null where
 * an instance returned nothing or was skipped), and for a mapped instance the
 * element of its list at its map index.
 */
/** Where upstream results are read: the store, or an attempt backend. */
export interface ResultReader {
  tasks: Pick<Store["tasks"], "results">;
}

export async function upstreamInputs(store: ResultReader, d: Dag, spec: TaskSpec, ti: Pick<TaskInstanceRow, "run_pk" | "map_index">): Promise<UpstreamInputs> {
  const upstreamResults: Record<string, unknown> = {};
  if (spec.upstream.length === 0) return { ok: true, upstreamResults };
  const rows = await store.tasks.results(ti.run_pk, spec.upstream);
  Object.assign(upstreamResults, collectResults(rows, spec.upstream, (id) => d.tasks.get(id)?.spec.expand !== undefined));
  if (!spec.expand) return { ok: true, upstreamResults };
  const list = upstreamResults[spec.expand.from];
  if (!Array.isArray(list)) {
    return { ok: false, error: `Mapped task "${spec.id}": the result of "${spec.expand.from}" is no longer a list (it changed after the task was expanded). Clear "${spec.expand.from}" with its downstream tasks to expand again.` };
  }
  if (ti.map_index < 0 || ti.map_index >= list.length) {
    return {
      ok: false,
      error: `Mapped task "${spec.id}": map index ${ti.map_index} is outside the ${list.length} elements of "${spec.expand.from}"'s result (it changed after the task was expanded). Clear "${spec.expand.from}" with its downstream tasks to expand again.`,
    };
  }
  return { ok: true, upstreamResults, item: { value: list[ti.map_index] } };
}
