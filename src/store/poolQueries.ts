import type { Kysely, Selectable } from "kysely";
import { ACTIVE_TASK_STATES, TaskState } from "../core/states.js";
import type { Database, PoolTable } from "./schema.js";

export type PoolRow = Selectable<PoolTable>;
export const DEFAULT_POOL = "default_pool";

/** Slots of a pool's task instances per unfinished state. */
export interface PoolUsage {
  scheduled: number;
  queued: number;
  running: number;
}

/** Pools cap how many task slots a group of tasks may hold at once, across all DAGs. */
export class PoolQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Create the default pool if missing; its size follows the config when it was created by us. */
  async ensureDefault(slots: number): Promise<void> {
    await this.db
      .insertInto("pool")
      .values({ name: DEFAULT_POOL, slots, description: "Default pool (scheduler.defaultPoolSlots)" })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
  }

  async list(): Promise<PoolRow[]> {
    return this.db.selectFrom("pool").selectAll().orderBy("name").execute();
  }

  async upsert(name: string, slots: number, description: string | null = null): Promise<void> {
    await this.db
      .insertInto("pool")
      .values({ name, slots, description })
      .onConflict((oc) => oc.column("name").doUpdateSet({ slots, description }))
      .execute();
  }

  // ---- admin API (api/routes/pools.ts) ----

  async get(name: string): Promise<PoolRow | undefined> {
    return this.db.selectFrom("pool").selectAll().where("name", "=", name).executeTakeFirst();
  }

  /** Insert; false (and nothing written) when the name exists. */
  async create(row: PoolRow): Promise<boolean> {
    const r = await this.db
      .insertInto("pool")
      .values(row)
      .onConflict((oc) => oc.column("name").doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Change slots and/or description; false when there is no such pool. */
  async update(name: string, patch: { slots?: number; description?: string | null }): Promise<boolean> {
    if (patch.slots === undefined && patch.description === undefined) return (await this.get(name)) !== undefined;
    const r = await this.db.updateTable("pool").set(patch).where("name", "=", name).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(name: string): Promise<boolean> {
    const r = await this.db.deleteFrom("pool").where("name", "=", name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Slots held (queued, running) or about to be asked for (scheduled) per
   * pool and state; `pool` narrows to one. Reads the (state, …) index: only
   * unfinished instances are touched, however long the history.
   */
  async usage(pool?: string): Promise<Map<string, PoolUsage>> {
    let q = this.db
      .selectFrom("task_instance")
      .select(["pool", "state", (eb) => eb.fn.sum<number>("pool_slots").as("slots")])
      .where("state", "in", [TaskState.Scheduled, ...ACTIVE_TASK_STATES]);
    if (pool !== undefined) q = q.where("pool", "=", pool);
    const rows = await q.groupBy(["pool", "state"]).execute();
    const out = new Map<string, PoolUsage>();
    for (const r of rows) {
      const u = out.get(r.pool) ?? { scheduled: 0, queued: 0, running: 0 };
      u[r.state as keyof PoolUsage] = Number(r.slots);
      out.set(r.pool, u);
    }
    return out;
  }
}
