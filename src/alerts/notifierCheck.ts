/**
 * A DAG that names a notifier the config does not have is an import error of
 * its file, naming the configured notifiers, like any other mistake in a DAG
 * file: shown in the UI's import-error list, by the API and the CLI, and sent
 * as an import_error alert (to alerts.default).
 *
 * Checked here, in the scheduler, and not when the file is parsed: parsing
 * happens in child processes without the config, and a parse result is
 * reused for as long as the file's content is unchanged, so it must not
 * depend on the config of whichever process parsed it. The DAG stays active
 * (its structure is fine); its alerts for the unknown name are recorded as
 * failed deliveries until the name or the config is fixed.
 *
 * Only errors this check wrote are ever cleared by it (they carry MARK), and
 * it never overwrites a real import error of the file.
 */
import type { Logger } from "pino";
import { dagSpecOf } from "../store/dagQueries.js";
import type { DagSpec } from "../core/dagSpec.js";
import { suggestion } from "../core/didYouMean.js";
import type { Store } from "../store/store.js";
import { configuredList } from "./notifierConfig.js";

export const UNKNOWN_NOTIFIER_MARK = "which is not a configured notifier";

/** The problems of one DAG, one sentence each; empty when every name is configured. */
export function unknownNotifierProblems(spec: DagSpec, configured: readonly string[]): string[] {
  const out: string[] = [];
  const check = (where: string, names: readonly string[] | undefined) => {
    for (const name of names ?? []) {
      if (configured.includes(name)) continue;
      out.push(
        `DAG "${spec.id}" (${spec.fileloc}): ${where}alerts.notify names "${name}", ${UNKNOWN_NOTIFIER_MARK}${suggestion(name, configured) || "."} Configured notifiers: ${configuredList(configured)} (config alerts.notifiers).`,
      );
    }
  };
  if (spec.alerts) check("", spec.alerts.notify);
  for (const t of spec.tasks) if (t.alerts) check(`task "${t.id}": `, t.alerts.notify);
  return out;
}

export class NotifierNameCheck {
  /** updated_at of the DAG rows last looked at (null: look at every DAG). */
  private since: number | null = null;
  /** DAG id -> the updated_at it was checked at: a row seen again in the overlap is not checked twice. */
  private readonly checked = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly configured: readonly string[],
    private readonly log: Logger,
  ) {}

  /** Look at the DAGs changed since the last call (all on the first) and update their files' import errors. */
  async run(now: number, overlapMs: number): Promise<void> {
    const changed = (await this.store.dags.flagsSince(this.since === null ? null : this.since - overlapMs)).filter((d) => this.checked.get(d.dag_id) !== Number(d.updated_at));
    if (changed.length === 0) return;
    this.since = Math.max(this.since ?? 0, ...changed.map((d) => Number(d.updated_at)));
    const files = new Set<string>();
    for (const d of changed) {
      this.checked.set(d.dag_id, Number(d.updated_at));
      const row = await this.store.dags.get(d.dag_id);
      if (row?.is_active) files.add(row.fileloc);
    }
    if (files.size === 0) return;
    const dagIdsOf = new Map((await this.store.dags.files()).map((f) => [f.path, JSON.parse(f.dag_ids) as string[]]));
    const current = new Map((await this.store.dags.importErrors()).map((e) => [e.path, e]));
    for (const file of files) {
      const existing = current.get(file);
      // A real import error (a newer version that does not load) wins: the stored specs are not what the file says now.
      if (existing && !existing.message.includes(UNKNOWN_NOTIFIER_MARK)) continue;
      const problems: string[] = [];
      for (const id of dagIdsOf.get(file) ?? []) {
        const row = await this.store.dags.get(id);
        if (row?.is_active && row.fileloc === file) problems.push(...unknownNotifierProblems(dagSpecOf(row), this.configured));
      }
      if (problems.length > 0) {
        const message = `${problems.join("\n")}\nThe DAG still runs; alerts meant for an unknown notifier are recorded as failed deliveries until the name or the config is fixed.`;
        if (existing?.message === message) continue;
        await this.store.dags.setImportError({ path: file, message, line: null, col: null, stack: null, created_at: now });
        this.log.warn({ file, problems }, "a DAG names notifiers that are not configured");
      } else if (existing) {
        await this.store.dags.clearImportError(file);
      }
    }
  }
}
