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

  async startTry(row: Omit<TaskTryRow, "id">): Promise<void> {
    await this.db
      .insertInto("task_try")
      .values(row)
      .onConflict((oc) => oc.columns(["ti_id", "try_number"]).doUpdateSet({ state: row.state, start_date: row.start_date, hostname: row.hostname, pid: row.pid }))
      .execute();
  }

  async finishTry(tiId: number, tryNumber: number, patch: Updateable<TaskTryTable>): Promise<void> {
    await this.db.updateTable("task_try").set(patch).where("ti_id", "=", tiId).where("try_number", "=", tryNumber).execute();
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
}
