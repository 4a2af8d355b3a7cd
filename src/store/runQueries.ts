import { sql, type Kysely, type Selectable, type Updateable } from "kysely";
import type { TaskSpec } from "../core/dagSpec.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import type { RunState, RunType } from "../core/states.js";
import { inTransaction } from "./inTransaction.js";
import type { Database, DagRunTable } from "./schema.js";

export type DagRunRow = Selectable<DagRunTable>;

export interface NewRun {
  dagId: string;
  runId: string;
  runType: RunType;
  state: RunState;
  logicalDate: number;
  intervalStart: number;
  intervalEnd: number;
  versionHash: string;
  conf: Record<string, unknown>;
  params: Record<string, unknown>;
  tasks: readonly TaskSpec[];
  now: number;
}

export interface RunFilter {
  dagId?: string;
  states?: RunState[];
  /** Logical date range, inclusive, in ms. */
  logicalFrom?: number;
  logicalTo?: number;
  limit?: number;
  offset?: number;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "23505" || e?.code === "SQLITE_CONSTRAINT_UNIQUE" || /UNIQUE constraint/.test(e?.message ?? "");
}

/** DAG runs: creation (with their task instances, atomically), lookups, state changes. */
export class RunQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Create a run and one task instance per task, in one transaction. A second
   * creation of the same (dag, run id) — two schedulers racing, or a repeated
   * trigger — fails with RunExists and leaves the first untouched.
   */
  async create(run: NewRun): Promise<DagRunRow> {
    try {
      return await inTransaction(this.db, async (tx) => {
        const row = await tx
          .insertInto("dag_run")
          .values({
            dag_id: run.dagId,
            run_id: run.runId,
            run_type: run.runType,
            state: run.state,
            logical_date: run.logicalDate,
            interval_start: run.intervalStart,
            interval_end: run.intervalEnd,
            version_hash: run.versionHash,
            conf: JSON.stringify(run.conf),
            params: JSON.stringify(run.params),
            queued_at: run.now,
            start_date: run.state === "running" ? run.now : null,
            end_date: null,
            updated_at: run.now,
            note: null,
            // The run's code is the bundle commit its version is published from: the DAG's current
            // commit while that is still this version, else the commit that introduced the version.
            // Null for the local DAG folder.
            bundle_version: sql<string | null>`coalesce(
              (select bundle_version from dag where dag_id = ${run.dagId} and version_hash = ${run.versionHash}),
              (select bundle_version from dag_version where dag_id = ${run.dagId} and version_hash = ${run.versionHash}))`,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        // Batched so a 1,000-task DAG is a handful of statements (SQLite caps bound variables).
        const values = run.tasks.map((t) => ({
          run_pk: row.id,
          dag_id: run.dagId,
          run_id: run.runId,
          task_id: t.id,
          map_index: -1,
          state: "none",
          try_number: 0,
          max_tries: t.retries + 1,
          priority_weight: t.priorityWeight,
          pool: t.pool,
          pool_slots: t.poolSlots,
          queue: t.queue,
          updated_at: run.now,
        }));
        for (let i = 0; i < values.length; i += 200) {
          await tx.insertInto("task_instance").values(values.slice(i, i + 200)).execute();
        }
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new SluiceError(ErrorCode.RunExists, `DAG "${run.dagId}" already has a run "${run.runId}".`, { cause: err });
      }
      throw err;
    }
  }

  async get(dagId: string, runId: string): Promise<DagRunRow | undefined> {
    return this.db.selectFrom("dag_run").selectAll().where("dag_id", "=", dagId).where("run_id", "=", runId).executeTakeFirst();
  }

  async byPk(pk: number): Promise<DagRunRow | undefined> {
    return this.db.selectFrom("dag_run").selectAll().where("id", "=", pk).executeTakeFirst();
  }

  private filtered(f: RunFilter) {
    let q = this.db.selectFrom("dag_run");
    if (f.dagId) q = q.where("dag_id", "=", f.dagId);
    if (f.states?.length) q = q.where("state", "in", f.states);
    if (f.logicalFrom !== undefined) q = q.where("logical_date", ">=", f.logicalFrom);
    if (f.logicalTo !== undefined) q = q.where("logical_date", "<=", f.logicalTo);
    return q;
  }

  /** Newest logical date first. */
  async list(f: RunFilter = {}): Promise<DagRunRow[]> {
    let q = this.filtered(f).selectAll().orderBy("logical_date", "desc").orderBy("id", "desc");
    if (f.limit) q = q.limit(f.limit);
    // SQLite accepts OFFSET only after a LIMIT.
    if (f.offset) q = q.limit(f.limit ?? Number.MAX_SAFE_INTEGER).offset(f.offset);
    return q.execute();
  }

  /** How many runs match the filter (limit/offset ignored): the total for pagination. */
  async count(f: RunFilter = {}): Promise<number> {
    const row = await this.filtered(f).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async inStates(states: RunState[]): Promise<DagRunRow[]> {
    return this.db.selectFrom("dag_run").selectAll().where("state", "in", states).orderBy("logical_date").orderBy("id").execute();
  }

  /** Number of runs per DAG in the given states. */
  async countByDag(states: RunState[]): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom("dag_run")
      .select(["dag_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("state", "in", states)
      .groupBy("dag_id")
      .execute();
    return new Map(rows.map((r) => [r.dag_id, Number(r.n)]));
  }

  /** The scheduled run with the latest data interval: where the schedule continues from. */
  async latestScheduled(dagId: string): Promise<DagRunRow | undefined> {
    return this.db
      .selectFrom("dag_run")
      .selectAll()
      .where("dag_id", "=", dagId)
      .where("run_type", "=", "scheduled")
      .orderBy("interval_end", "desc")
      .limit(1)
      .executeTakeFirst();
  }

  /** Whether a scheduled or backfill run already covers this logical date (manual runs do not count, as in Airflow). */
  async existsAt(dagId: string, logicalDate: number): Promise<boolean> {
    const row = await this.db
      .selectFrom("dag_run")
      .select("id")
      .where("dag_id", "=", dagId)
      .where("logical_date", "=", logicalDate)
      .where("run_type", "!=", "manual")
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Compare-and-set the run state. Returns false when another process changed it first. */
  async setState(pk: number, from: readonly RunState[], patch: Updateable<DagRunTable> & { state: RunState }): Promise<boolean> {
    const r = await this.db.updateTable("dag_run").set(patch).where("id", "=", pk).where("state", "in", from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteForDag(dagId: string): Promise<number> {
    const r = await this.db.deleteFrom("dag_run").where("dag_id", "=", dagId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // --- web UI: grid, duration chart, history deletion, live updates ---

  /**
   * One page of a DAG's runs for the grid, newest logical date first, with
   * only the columns the grid shows (conf and params can be large). Reads the
   * dag_run (dag_id, logical_date) index; cost grows with the page, not the history.
   */
  async gridPage(dagId: string, offset: number, limit: number): Promise<GridRunRow[]> {
    return this.db
      .selectFrom("dag_run")
      .select(["id", "run_id", "run_type", "state", "logical_date", "start_date", "end_date", "version_hash"])
      .where("dag_id", "=", dagId)
      .orderBy("logical_date", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  /** The newest `limit` runs' timings, newest logical date first (run-duration chart). */
  async timings(dagId: string, limit: number): Promise<RunTimingRow[]> {
    return this.db
      .selectFrom("dag_run")
      .select(["run_id", "logical_date", "state", "queued_at", "start_date", "end_date"])
      .where("dag_id", "=", dagId)
      .orderBy("logical_date", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .execute();
  }

  /**
   * Delete one finished run; its task instances, tries and log lines go with
   * it (ON DELETE CASCADE). The state condition makes it a compare-and-set:
   * a run that was cleared (reopened) meanwhile is not deleted.
   */
  async deleteFinished(pk: number): Promise<boolean> {
    const r = await this.db.deleteFrom("dag_run").where("id", "=", pk).where("state", "in", ["success", "failed"]).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  /**
   * Delete up to `batch` finished runs of a DAG (with their task instances,
   * tries and logs, by cascade) in one statement, oldest first. Callers loop
   * until it returns 0, so a history of 10,000 runs is many short
   * transactions instead of one that locks the tables for seconds.
   */
  async deleteFinishedBatch(dagId: string, batch: number): Promise<number> {
    const r = await this.db
      .deleteFrom("dag_run")
      .where("id", "in", (eb) =>
        eb.selectFrom("dag_run").select("id").where("dag_id", "=", dagId).where("state", "in", ["success", "failed"]).orderBy("id").limit(batch),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Runs whose updated_at is after `since`, oldest change first, at most
   * `limit`: what the live-update poller sends. Reads dag_run_updated_idx.
   */
  async changedSince(since: number, limit: number): Promise<RunChangeRow[]> {
    return this.db
      .selectFrom("dag_run")
      .select(["id", "dag_id", "run_id", "state", "start_date", "end_date", "updated_at"])
      .where("updated_at", ">", since)
      .orderBy("updated_at")
      .limit(limit)
      .execute();
  }

  /** Latest updated_at of any run (null: no runs): where the live-update poller starts reading. */
  async maxUpdatedAt(): Promise<number | null> {
    const row = await this.db.selectFrom("dag_run").select((eb) => eb.fn.max("updated_at").as("t")).executeTakeFirst();
    return row?.t == null ? null : Number(row.t);
  }
}

export type GridRunRow = Pick<DagRunRow, "id" | "run_id" | "run_type" | "state" | "logical_date" | "start_date" | "end_date" | "version_hash">;
export type RunTimingRow = Pick<DagRunRow, "run_id" | "logical_date" | "state" | "queued_at" | "start_date" | "end_date">;
export type RunChangeRow = Pick<DagRunRow, "id" | "dag_id" | "run_id" | "state" | "start_date" | "end_date" | "updated_at">;
