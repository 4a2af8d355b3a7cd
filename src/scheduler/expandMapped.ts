import type { DagSpec } from "../core/dagSpec.js";
import { collectResults } from "../core/mappedResults.js";
import { checkMapList } from "../core/runDecisions.js";
import type { ExpandOutcome } from "../store/mappedQueries.js";
import type { Store } from "../store/store.js";

/**
 * Expand a mapped task of a run: read the list its `expand.from` task
 * returned, check it (a list, not longer than the maximum), and create one
 * scheduled instance per element in one transaction. A bad list fails the
 * task with the reason; an empty one skips it (as Airflow does).
 */
export async function expandMappedTask(store: Store, spec: Pick<DagSpec, "tasks">, runPk: number, taskId: string, defaultMax: number, now: number): Promise<ExpandOutcome> {
  const task = spec.tasks.find((t) => t.id === taskId);
  if (!task?.expand) return { kind: "raced" };
  const from = task.expand.from;
  const fromMapped = spec.tasks.find((t) => t.id === from)?.expand !== undefined;
  const rows = await store.tasks.results(runPk, [from]);
  let list: unknown;
  let parseError: string | undefined;
  try {
    list = collectResults(rows, [from], () => fromMapped)[from];
  } catch (err) {
    parseError = `Mapped task "${taskId}" cannot expand: the stored result of "${from}" is not valid JSON (${(err as Error).message}).`;
  }
  const check = parseError ? { ok: false as const, error: parseError } : checkMapList(taskId, from, list, task.expand.maxLength ?? defaultMax);
  return store.transaction((tx) => tx.mapped.expand(runPk, taskId, check.ok ? { count: check.length } : { error: check.error }, now));
}
