import type { Kysely } from "kysely";
import type { Database } from "./schema.js";
import type { TaskInstanceRow } from "./taskQueries.js";

export type ExpandOutcome =
  /** Instances 0..n-1 exist and are scheduled (n > 0). */
  | { kind: "expanded"; count: number }
  /** The list was empty: one -1 instance, skipped. */
  | { kind: "empty" }
  /** The list was bad: one -1 instance, failed with the error. */
  | { kind: "failed" }
  /** Someone else moved an instance meanwhile (another scheduler, a user): nothing done. */
  | { kind: "raced" };

/**
 * Mapped task instances: creating one per element when a mapped task expands
 * (and re-expanding after a clear), and counting running ones for the
 * per-task concurrency limit. Callers wrap expand() in a transaction.
 */
export class MappedQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Make task `taskId` of run `runPk` have exactly `count` instances
   * (0..count-1) in state scheduled; with count 0, one -1 instance skipped;
   * with an error, one -1 instance failed. Only when every current instance
   * is still "none" (the state decideRun saw): otherwise "raced", untouched.
   */
  async expand(runPk: number, taskId: string, result: { count: number } | { error: string }, now: number): Promise<ExpandOutcome> {
    // Write first: on SQLite a transaction that reads before writing can fail with SQLITE_BUSY.
    await this.db.updateTable("task_instance").set({ updated_at: now }).where("run_pk", "=", runPk).where("task_id", "=", taskId).execute();
    const rows = await this.db.selectFrom("task_instance").selectAll().where("run_pk", "=", runPk).where("task_id", "=", taskId).orderBy("map_index").execute();
    if (rows.length === 0 || rows.some((r) => r.state !== "none")) return { kind: "raced" };
    const template = rows[0];
    if ("error" in result || result.count === 0) {
      // One instance stands for the task: the grid and the trigger rules downstream see it.
      const keep = rows.find((r) => r.map_index === -1) ?? template;
      await this.deleteExcept(runPk, taskId, keep.id);
      const failed = "error" in result;
      await this.db
        .updateTable("task_instance")
        .set({ map_index: -1, state: failed ? "failed" : "skipped", error: failed ? result.error : "The mapped list was empty: no instances to run.", end_date: now, updated_at: now })
        .where("id", "=", keep.id)
        .execute();
      return failed ? { kind: "failed" } : { kind: "empty" };
    }
    const n = result.count;
    await this.db
      .deleteFrom("task_instance")
      .where("run_pk", "=", runPk)
      .where("task_id", "=", taskId)
      .where((eb) => eb.or([eb("map_index", "<", 0), eb("map_index", ">=", n)]))
      .execute();
    await this.db
      .updateTable("task_instance")
      .set({ state: "scheduled", error: null, end_date: null, updated_at: now })
      .where("run_pk", "=", runPk)
      .where("task_id", "=", taskId)
      .execute();
    const have = new Set(rows.filter((r) => r.map_index >= 0 && r.map_index < n).map((r) => r.map_index));
    const values = [];
    for (let i = 0; i < n; i++) if (!have.has(i)) values.push(this.fresh(template, i, now));
    // Batched: SQLite caps bound variables per statement.
    for (let i = 0; i < values.length; i += 200) await this.db.insertInto("task_instance").values(values.slice(i, i + 200)).execute();
    return { kind: "expanded", count: n };
  }

  private fresh(t: TaskInstanceRow, mapIndex: number, now: number) {
    return {
      run_pk: t.run_pk,
      dag_id: t.dag_id,
      run_id: t.run_id,
      task_id: t.task_id,
      map_index: mapIndex,
      state: "scheduled",
      try_number: 0,
      max_tries: t.max_tries,
      priority_weight: t.priority_weight,
      pool: t.pool,
      pool_slots: t.pool_slots,
      queue: t.queue,
      updated_at: now,
    };
  }

  private async deleteExcept(runPk: number, taskId: string, keepId: number): Promise<void> {
    await this.db.deleteFrom("task_instance").where("run_pk", "=", runPk).where("task_id", "=", taskId).where("id", "!=", keepId).execute();
  }

  /** Instances of one task of one run that hold a slot (queued or running). */
  async activeCount(runPk: number, taskId: string): Promise<number> {
    const row = await this.db
      .selectFrom("task_instance")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("run_pk", "=", runPk)
      .where("task_id", "=", taskId)
      .where("state", "in", ["queued", "running"])
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Instances of one task of one run by state: the counts the CLI, API and UI show for a mapped task. */
  async stateCounts(runPk: number, taskId: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom("task_instance")
      .select(["state", (eb) => eb.fn.countAll<number>().as("n")])
      .where("run_pk", "=", runPk)
      .where("task_id", "=", taskId)
      .where("map_index", ">=", 0)
      .groupBy("state")
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }
}
