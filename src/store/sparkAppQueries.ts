import type { Insertable, Kysely, Selectable } from "kysely";
import type { Database, SparkAppTable } from "./schema.js";

export type SparkAppRow = Selectable<SparkAppTable>;
export type SparkAppInput = Omit<Insertable<SparkAppTable>, "id" | "created_at" | "updated_at">;

/** Spark applications launched by task attempts (see migration 0004). */
export class SparkAppQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Record a submission; returns its id for later updates (app id learned, state changes). */
  async record(app: SparkAppInput, now: number): Promise<number> {
    const row = await this.db
      .insertInto("spark_app")
      .values({ ...app, created_at: now, updated_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async update(id: number, patch: Partial<Pick<SparkAppRow, "app_id" | "driver_id" | "state">>, now: number): Promise<void> {
    await this.db.updateTable("spark_app").set({ ...patch, updated_at: now }).where("id", "=", id).execute();
  }

  /** The records of these application ids (the cluster view's link from an application to its task instance). */
  async byAppIds(appIds: readonly string[]): Promise<SparkAppRow[]> {
    if (appIds.length === 0) return [];
    return this.db.selectFrom("spark_app").selectAll().where("app_id", "in", appIds).execute();
  }

  /** Same, by cluster-mode driver id. */
  async byDriverIds(driverIds: readonly string[]): Promise<SparkAppRow[]> {
    if (driverIds.length === 0) return [];
    return this.db.selectFrom("spark_app").selectAll().where("driver_id", "in", driverIds).execute();
  }

  async forTaskInstance(tiId: number): Promise<SparkAppRow[]> {
    return this.db.selectFrom("spark_app").selectAll().where("ti_id", "=", tiId).orderBy("id").execute();
  }
}
