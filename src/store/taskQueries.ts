import { sql, type Kysely, type Selectable, type Updateable } from "kysely";
import type { TaskState } from "../core/states.js";
import type { Database, TaskInstanceTable, TaskTryTable } from "./schema.js";

export type TaskInstanceRow = Selectable<TaskInstanceTable>;
export type TaskTryRow = Selectable<TaskTryTable>;
export type TiPatch = Updateable<TaskInstanceTable>;

/** The columns the scheduler needs to evaluate a run: small, so a 1,000-task run loads in a millisecond. */
export interface TiBrief {
  id: number;
  task_id: string;
  map_index: number;
  state: string;
  try_number: number;
  max_tries: number;
  next_try_at: number | null;
}

export interface AttemptContext {
  ti: TaskInstanceRow;
  run: { logical_date: number; interval_start: number; interval_end: number; params: string; conf: string };
  /** The DAG file at the run's version (relative to the DAG folder, or "@<bundle>/<path>" in a git bundle). */
  fileloc: string;
  /** The bundle commit the run's code comes from; null for the local DAG folder. */
  bundleVersion: string | null;
}

export interface ActiveCounts {
  total: number;
  byDag: Map<string, number>;
  byPool: Map<string, number>;
}

/** Task instances and their tries. Every state change is a compare-and-set. */
export class TaskQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async get(id: number): Promise<TaskInstanceRow | undefined> {
    return this.db.selectFrom("task_instance").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /**
   * Everything a task process needs to start an attempt, in one round trip:
   * the instance, its run's dates/params/conf, and the DAG's file.
   */
  async attemptContext(id: number): Promise<AttemptContext | undefined> {
    const row = await this.db
      .selectFrom("task_instance as ti")
      .innerJoin("dag_run as r", "r.id", "ti.run_pk")
      .innerJoin("dag as d", "d.dag_id", "ti.dag_id")
      // Where the file was at the run's version: a file renamed since must still be found in the run's commit.
      .leftJoin("dag_version as v", (j) => j.onRef("v.dag_id", "=", "ti.dag_id").onRef("v.version_hash", "=", "r.version_hash"))
      .selectAll("ti")
      .select([
        "r.logical_date as r_logical_date",
        "r.interval_start as r_interval_start",
        "r.interval_end as r_interval_end",
        "r.params as r_params",
        "r.conf as r_conf",
        "r.bundle_version as r_bundle_version",
        "d.fileloc as d_fileloc",
        "v.fileloc as v_fileloc",
      ])
      .where("ti.id", "=", id)
      .executeTakeFirst();
    if (!row) return undefined;
    const { r_logical_date, r_interval_start, r_interval_end, r_params, r_conf, r_bundle_version, d_fileloc, v_fileloc, ...ti } = row;
    return {
      ti,
      run: { logical_date: r_logical_date, interval_start: r_interval_start, interval_end: r_interval_end, params: r_params, conf: r_conf },
      // A run on a bundle commit reads the file where it was at its version; a local-folder run reads the DAG's file now.
      fileloc: r_bundle_version ? (v_fileloc ?? d_fileloc) : d_fileloc,
      bundleVersion: r_bundle_version,
    };
  }

  async byKey(dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<TaskInstanceRow | undefined> {
    return this.db
      .selectFrom("task_instance")
      .selectAll()
      .where("dag_id", "=", dagId)
      .where("run_id", "=", runId)
      .where("task_id", "=", taskId)
      .where("map_index", "=", mapIndex)
      .executeTakeFirst();
  }

  /**
   * Results (JSON text) of some tasks of a run: what a task receives from its
   * upstream. Every instance, ordered by task and map index, so a mapped
   * task's results come out as one list in index order.
   */
  async results(runPk: number, taskIds: readonly string[]): Promise<{ task_id: string; map_index: number; result: string | null }[]> {
    if (taskIds.length === 0) return [];
    return this.db
      .selectFrom("task_instance")
      .select(["task_id", "map_index", "result"])
      .where("run_pk", "=", runPk)
      .where("task_id", "in", taskIds)
      .orderBy("task_id")
      .orderBy("map_index")
      .execute();
  }

  /** How many task instances of a run are not finished yet (cheap "is the run done?" check). */
  async countUnfinished(runPk: number): Promise<number> {
    const row = await this.db
      .selectFrom("task_instance")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("run_pk", "=", runPk)
      .where("state", "not in", ["success", "failed", "skipped", "upstream_failed"])
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async forRun(runPk: number): Promise<TaskInstanceRow[]> {
    return this.db.selectFrom("task_instance").selectAll().where("run_pk", "=", runPk).orderBy("id").execute();
  }

  async briefForRun(runPk: number): Promise<TiBrief[]> {
    return this.db
      .selectFrom("task_instance")
      .select(["id", "task_id", "map_index", "state", "try_number", "max_tries", "next_try_at"])
      .where("run_pk", "=", runPk)
      .execute();
  }

  /**
   * Compare-and-set: apply `patch` only if the instance is still in one of
   * `from` (and, when given, still on try `tryNumber`). This is what makes a
   * double dispatch or a double finish impossible: the loser sees false.
   */
  async cas(id: number, from: readonly TaskState[], patch: TiPatch, tryNumber?: number): Promise<boolean> {
    let q = this.db.updateTable("task_instance").set(patch).where("id", "=", id).where("state", "in", from);
    if (tryNumber !== undefined) q = q.where("try_number", "=", tryNumber);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * scheduled -> queued for a batch, bumping each try number, in one
   * statement. Returns the instances this call won (with their new try); rows
   * no longer scheduled are left alone.
   */
  async queueMany(ids: readonly number[], now: number, ownerJob: number | null): Promise<{ id: number; try_number: number }[]> {
    if (ids.length === 0) return [];
    return this.db
      .updateTable("task_instance")
      .set((eb) => ({
        state: "queued",
        try_number: eb("try_number", "+", 1),
        queued_at: now,
        owner_job: ownerJob,
        hostname: null,
        pid: null,
        heartbeat_at: null,
        updated_at: now,
      }))
      .where("id", "in", ids)
      .where("state", "=", "scheduled")
      .returning(["id", "try_number"])
      .execute();
  }

  /** Set many instances of one run from `from` to a new state (scheduler decisions). */
  async casMany(ids: readonly number[], from: readonly TaskState[], patch: TiPatch): Promise<number> {
    let n = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const r = await this.db
        .updateTable("task_instance")
        .set(patch)
        .where("id", "in", ids.slice(i, i + 500))
        .where("state", "in", from)
        .executeTakeFirst();
      n += Number(r.numUpdatedRows);
    }
    return n;
  }

  /**
   * Scheduled instances, highest priority first, oldest first within a
   * priority. Keyset-paged (`after` = the last row of the previous page) so the
   * dispatcher can look past instances it cannot start now (DAG or pool at its
   * limit) without skipping or repeating rows while states change under it.
   */
  async dispatchable(limit: number, after?: { priority_weight: number; id: number }): Promise<TaskInstanceRow[]> {
    let q = this.db.selectFrom("task_instance").selectAll().where("state", "=", "scheduled");
    if (after) {
      q = q.where((eb) =>
        eb.or([eb("priority_weight", "<", after.priority_weight), eb.and([eb("priority_weight", "=", after.priority_weight), eb("id", ">", after.id)])]),
      );
    }
    return q.orderBy("priority_weight", "desc").orderBy("id").limit(limit).execute();
  }

  /** up_for_retry instances whose backoff has passed. */
  async retryDue(now: number): Promise<Pick<TaskInstanceRow, "id" | "run_pk">[]> {
    return this.db
      .selectFrom("task_instance")
      .select(["id", "run_pk"])
      .where("state", "=", "up_for_retry")
      .where("next_try_at", "<=", now)
      .execute();
  }

  async nextRetryAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom("task_instance")
      .select((eb) => eb.fn.min("next_try_at").as("t"))
      .where("state", "=", "up_for_retry")
      .executeTakeFirst();
    return row?.t == null ? null : Number(row.t);
  }

  /** Queued and running instances: what holds slots, and what the executor may have to adopt. */
  async active(): Promise<TaskInstanceRow[]> {
    return this.db.selectFrom("task_instance").selectAll().where("state", "in", ["queued", "running"]).execute();
  }

  async activeCounts(): Promise<ActiveCounts> {
    const rows = await this.db
      .selectFrom("task_instance")
      .select(["dag_id", "pool", (eb) => eb.fn.countAll<number>().as("n"), (eb) => eb.fn.sum<number>("pool_slots").as("slots")])
      .where("state", "in", ["queued", "running"])
      .groupBy(["dag_id", "pool"])
      .execute();
    const c: ActiveCounts = { total: 0, byDag: new Map(), byPool: new Map() };
    for (const r of rows) {
      const n = Number(r.n);
      c.total += n;
      c.byDag.set(r.dag_id, (c.byDag.get(r.dag_id) ?? 0) + n);
      c.byPool.set(r.pool, (c.byPool.get(r.pool) ?? 0) + Number(r.slots));
    }
    return c;
  }

  async heartbeat(id: number, tryNumber: number, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable("task_instance")
      .set({ heartbeat_at: now })
      .where("id", "=", id)
      .where("try_number", "=", tryNumber)
      .where("state", "=", "running")
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // --- tries ---

  /**
   * Write a try's whole record at once (insert, or complete the row if one was
   * opened). Attempts record their try when they end, so starting one costs a
   * single compare-and-set; the running try is the task instance itself.
   */
  async recordTry(row: Omit<TaskTryRow, "id">): Promise<void> {
    const { ti_id: _t, try_number: _n, ...rest } = row;
    await this.db
      .insertInto("task_try")
      .values(row)
      .onConflict((oc) => oc.columns(["ti_id", "try_number"]).doUpdateSet(rest))
      .execute();
  }

  async tries(tiId: number): Promise<TaskTryRow[]> {
    return this.db.selectFrom("task_try").selectAll().where("ti_id", "=", tiId).orderBy("try_number").execute();
  }

  /** Counts of instances per state for one run (CLI summaries). */
  async stateCounts(runPk: number): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom("task_instance")
      .select(["state", sql<number>`count(*)`.as("n")])
      .where("run_pk", "=", runPk)
      .groupBy("state")
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  // --- web UI: grid, cancel and mark of whole runs, live updates ---

  /**
   * The grid's cells for a page of runs: five narrow columns of every task
   * instance of those runs, found through the (run_pk, task_id, map_index)
   * unique index. 100 runs × 50 tasks is 5,000 small rows in one query.
   */
  async gridCells(runPks: readonly number[]): Promise<GridCellRow[]> {
    if (runPks.length === 0) return [];
    return this.db.selectFrom("task_instance").select(["run_pk", "task_id", "map_index", "state", "try_number"]).where("run_pk", "in", runPks).execute();
  }

  /**
   * Move every instance of a run that is in one of `from` to the state in
   * `patch`, in one statement: a compare-and-set per row, so a row that left
   * `from` meanwhile is not touched. With `durationUntil`, duration_ms becomes
   * `durationUntil - start_date` (the attempt's length so far). Returns the
   * rows it changed, for the caller's try records.
   */
  async setForRun(runPk: number, from: readonly TaskState[], patch: TiPatch & { state: TaskState }, durationUntil?: number): Promise<ForcedRow[]> {
    return this.db
      .updateTable("task_instance")
      .set(durationUntil === undefined ? patch : { ...patch, duration_ms: sql<number>`${durationUntil} - start_date` })
      .where("run_pk", "=", runPk)
      .where("state", "in", from)
      .returning(["id", "task_id", "map_index", "try_number", "start_date", "hostname", "pid"])
      .execute();
  }

  /** Task instances whose updated_at is after `since`, oldest change first, at most `limit` (live updates; reads task_instance_updated_idx). */
  async changedSince(since: number, limit: number): Promise<TiChangeRow[]> {
    return this.db
      .selectFrom("task_instance")
      .select(["id", "dag_id", "run_id", "task_id", "map_index", "state", "try_number", "start_date", "end_date", "updated_at"])
      .where("updated_at", ">", since)
      .orderBy("updated_at")
      .limit(limit)
      .execute();
  }

  /** Latest updated_at of any task instance (null: none). */
  async maxUpdatedAt(): Promise<number | null> {
    const row = await this.db.selectFrom("task_instance").select((eb) => eb.fn.max("updated_at").as("t")).executeTakeFirst();
    return row?.t == null ? null : Number(row.t);
  }
}

export type GridCellRow = Pick<TaskInstanceRow, "run_pk" | "task_id" | "map_index" | "state" | "try_number">;
export type ForcedRow = Pick<TaskInstanceRow, "id" | "task_id" | "map_index" | "try_number" | "start_date" | "hostname" | "pid">;
export type TiChangeRow = Pick<TaskInstanceRow, "id" | "dag_id" | "run_id" | "task_id" | "map_index" | "state" | "try_number" | "start_date" | "end_date" | "updated_at">;
