/**
 * Reads what changed in the store since the last read: runs and task
 * instances by updated_at (indexed), the pause flag of DAGs, the number of
 * import errors. Turns them into the compact events the SSE clients get.
 *
 * Watermarks, not clocks: each table's mark is the newest updated_at seen (so
 * a skewed API-server clock loses nothing), capped at this process's now (so
 * one writer with a clock in the future cannot push the mark past rows still
 * to come). Each read goes back `overlapMs` before the mark, because a row is
 * stamped before its transaction commits and may become visible after newer
 * ones; rows already sent are recognised by (id, updated_at, state, …) and
 * skipped.
 */
import type { Store } from "../../store/store.js";
import { iso } from "../schemas.js";
import type { LiveOptions } from "./liveOptions.js";

/** One event as the hub fans it out: its SSE name, the DAG it concerns (null: every client), its JSON data. */
export interface LiveEvent {
  event: "run" | "task" | "dag" | "import-errors" | "resync";
  dagId: string | null;
  data: Record<string, unknown>;
}

/** Queries one poll() makes: runs, task instances, DAG flags, import-error count. */
export const QUERIES_PER_POLL = 4;

export class ChangeFeed {
  private runMark = 0;
  private tiMark = 0;
  private dagMark = 0;
  /** Keys of rows already sent, with their updated_at (pruned once older than the re-read window). */
  private readonly sentRuns = new Map<string, number>();
  private readonly sentTis = new Map<string, number>();
  private readonly paused = new Map<string, number>();
  private importErrors = 0;
  private ready = false;
  /** Queries issued so far (stats for tests and health). */
  queries = 0;

  constructor(
    private readonly store: Store,
    private readonly options: () => Readonly<LiveOptions>,
    private readonly now: () => number,
  ) {}

  /** Start from the present: later polls report only what changes from here on. */
  private async init(): Promise<void> {
    this.ready = false;
    const now = this.now();
    // One after another: a poll is background work and should hold one pooled connection, not four.
    const runMax = await this.store.runs.maxUpdatedAt();
    const tiMax = await this.store.tasks.maxUpdatedAt();
    const dags = await this.store.dags.flagsSince(null);
    const importErrors = await this.store.dags.importErrorCount();
    this.queries += 4;
    this.runMark = Math.min(runMax ?? 0, now);
    this.tiMark = Math.min(tiMax ?? 0, now);
    this.sentRuns.clear();
    this.sentTis.clear();
    this.paused.clear();
    for (const d of dags) this.paused.set(d.dag_id, d.is_paused);
    this.dagMark = Math.min(Math.max(0, ...dags.map((d) => Number(d.updated_at))), now);
    this.importErrors = importErrors;
    this.ready = true;
  }

  /** What changed since the last poll. The first call (or the first after a failed one) only reads the starting point. */
  async poll(): Promise<LiveEvent[]> {
    if (!this.ready) {
      await this.init();
      return [];
    }
    const { overlapMs, maxRowsPerPoll } = this.options();
    const now = this.now();
    const runs = await this.store.runs.changedSince(this.runMark - overlapMs, maxRowsPerPoll + 1);
    const tis = await this.store.tasks.changedSince(this.tiMark - overlapMs, maxRowsPerPoll + 1);
    const dags = await this.store.dags.flagsSince(this.dagMark - overlapMs);
    const importErrors = await this.store.dags.importErrorCount();
    this.queries += QUERIES_PER_POLL;
    if (runs.length > maxRowsPerPoll || tis.length > maxRowsPerPoll) {
      // Too many to send one by one: clients reload what they show, and we start over from now.
      await this.init();
      return [{ event: "resync", dagId: null, data: { reason: `more than ${maxRowsPerPoll} changes at once` } }];
    }
    const events: LiveEvent[] = [];

    for (const r of tis) {
      const key = `${r.id}|${r.updated_at}|${r.state}|${r.try_number}|${r.start_date}|${r.end_date}`;
      if (this.sentTis.has(key)) continue;
      this.sentTis.set(key, Number(r.updated_at));
      events.push({
        event: "task",
        dagId: r.dag_id,
        data: { dagId: r.dag_id, runId: r.run_id, taskId: r.task_id, mapIndex: r.map_index, state: r.state, tryNumber: r.try_number, startDate: iso(r.start_date), endDate: iso(r.end_date) },
      });
    }
    // Runs after their tasks: a client that sees "run finished" already has the final task states.
    for (const r of runs) {
      const key = `${r.id}|${r.updated_at}|${r.state}|${r.start_date}|${r.end_date}`;
      if (this.sentRuns.has(key)) continue;
      this.sentRuns.set(key, Number(r.updated_at));
      events.push({ event: "run", dagId: r.dag_id, data: { dagId: r.dag_id, runId: r.run_id, state: r.state, startDate: iso(r.start_date), endDate: iso(r.end_date) } });
    }
    this.tiMark = advance(this.tiMark, tis, now, overlapMs, this.sentTis);
    this.runMark = advance(this.runMark, runs, now, overlapMs, this.sentRuns);

    for (const d of dags) {
      // The row changes on every parse of its file too: only a flipped flag (or a new DAG) is news.
      if (this.paused.get(d.dag_id) === d.is_paused) continue;
      this.paused.set(d.dag_id, d.is_paused);
      events.push({ event: "dag", dagId: d.dag_id, data: { dagId: d.dag_id, isPaused: d.is_paused === 1 } });
    }
    this.dagMark = Math.max(this.dagMark, Math.min(Math.max(0, ...dags.map((d) => Number(d.updated_at))), now));

    if (importErrors !== this.importErrors) {
      this.importErrors = importErrors;
      events.push({ event: "import-errors", dagId: null, data: { count: importErrors } });
    }
    return events;
  }
}

/** The new watermark after reading `rows`, and forget sent keys that can no longer be read again. */
function advance(mark: number, rows: readonly { updated_at: number }[], now: number, overlapMs: number, sent: Map<string, number>): number {
  let newest = mark;
  for (const r of rows) newest = Math.max(newest, Number(r.updated_at));
  const next = Math.max(mark, Math.min(newest, now));
  for (const [key, at] of sent) if (at <= next - overlapMs) sent.delete(key);
  return next;
}
