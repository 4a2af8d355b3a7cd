import type { Kysely, Selectable, Updateable } from "kysely";
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
}
