import type { Kysely, Selectable } from "kysely";
import type { Database, PoolTable } from "./schema.js";

export type PoolRow = Selectable<PoolTable>;
export const DEFAULT_POOL = "default_pool";

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
}
