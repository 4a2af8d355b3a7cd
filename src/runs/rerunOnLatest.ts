/**
 * "Rerun on latest": move a run to its DAG's current version (and, for a git
 * bundle, the current commit) and clear its tasks there. A run is pinned to
 * the code it was created with (every task runs that commit); this is the
 * explicit way out, for the usual case of a task that failed on a bug fixed
 * by a later push.
 */
import type { DagSpec } from "../core/dagSpec.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";
import { clearTaskInstances, type ClearedInstance, type ClearOptions } from "./clearTasks.js";

export interface RerunOnLatest {
  cleared: ClearedInstance[];
  /** The version (and commit) the run is on after the move (with dryRun: would be). */
  versionHash: string;
  bundleVersion: string | null;
  /** False when the run already was on the latest version. */
  moved: boolean;
}

/**
 * Refused (StateConflict) while any of the run's tasks is queued or running
 * (their attempts run the old code), and when the latest version has other
 * tasks than the run's version: the run's task instances are fixed at
 * creation, so such a change needs a new run.
 */
export async function rerunOnLatest(store: Store, run: DagRunRow, opts: ClearOptions = {}): Promise<RerunOnLatest> {
  const dag = await store.dags.get(run.dag_id);
  const latest = dag && dag.is_active ? await store.dags.versionSpec(run.dag_id, dag.version_hash) : undefined;
  if (!dag || !latest) throw new SluiceError(ErrorCode.DagNotFound, `DAG "${run.dag_id}" has no current version (it was deleted or its file is gone); there is no latest code to rerun on.`);
  const moved = run.version_hash !== dag.version_hash || run.bundle_version !== dag.bundle_version;
  if (moved) {
    const old = await store.dags.versionSpec(run.dag_id, run.version_hash);
    if (old) refuseChangedTasks(run, old, latest);
    const active = (await store.tasks.briefForRun(run.id)).filter((t) => t.state === "queued" || t.state === "running");
    if (active.length > 0) {
      throw new SluiceError(
        ErrorCode.StateConflict,
        `Run "${run.run_id}" of DAG "${run.dag_id}" has ${active.length} task(s) queued or running on its commit (${[...new Set(active.map((t) => t.task_id))].slice(0, 5).join(", ")}); wait for them to finish or cancel the run, then rerun it on the latest code.`,
      );
    }
    if (!opts.dryRun) await store.bundles.repinRun(run.id);
  }
  const target = moved && !opts.dryRun ? ((await store.runs.byPk(run.id)) ?? run) : run;
  const cleared = await clearTaskInstances(store, target, latest, opts);
  return { cleared, versionHash: dag.version_hash, bundleVersion: dag.bundle_version ?? null, moved };
}

function refuseChangedTasks(run: DagRunRow, old: DagSpec, latest: DagSpec): void {
  const before = new Set(old.tasks.map((t) => t.id));
  const after = new Set(latest.tasks.map((t) => t.id));
  const added = [...after].filter((t) => !before.has(t));
  const removed = [...before].filter((t) => !after.has(t));
  if (added.length === 0 && removed.length === 0) return;
  const list = (xs: string[]) => xs.slice(0, 10).join(", ") + (xs.length > 10 ? ", …" : "");
  throw new SluiceError(
    ErrorCode.StateConflict,
    `The latest version of DAG "${run.dag_id}" has other tasks than run "${run.run_id}"` +
      `${added.length ? ` (added: ${list(added)})` : ""}${removed.length ? ` (removed: ${list(removed)})` : ""}; ` +
      `a run keeps the tasks it was created with, so trigger a new run to use the new structure.`,
  );
}
