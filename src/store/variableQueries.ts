import type { Kysely, Selectable, Updateable } from "kysely";
import type { Database, VariableTable } from "./schema.js";

export type VariableRow = Selectable<VariableTable>;

/**
 * Variables: key -> value settings admins manage for DAGs. The store keeps
 * exactly what it is given: secret values arrive already encrypted (the API
 * layer encrypts with secrets/secretBox.ts), so nothing here sees a secret.
 */
export class VariableQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** One page, ordered by key, and the total count. */
  async list(page: { limit: number; offset: number }): Promise<{ rows: VariableRow[]; total: number }> {
    const rows = await this.db.selectFrom("variable").selectAll().orderBy("key").limit(page.limit).offset(page.offset).execute();
    const count = await this.db.selectFrom("variable").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return { rows, total: Number(count.n) };
  }

  async get(key: string): Promise<VariableRow | undefined> {
    return this.db.selectFrom("variable").selectAll().where("key", "=", key).executeTakeFirst();
  }

  /** Insert; false (and nothing written) when the key exists. Conflict-safe when two callers race. */
  async create(row: VariableRow): Promise<boolean> {
    const r = await this.db
      .insertInto("variable")
      .values(row)
      .onConflict((oc) => oc.column("key").doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Change the given columns; false when there is no such key. */
  async update(key: string, patch: Omit<Updateable<VariableTable>, "key">): Promise<boolean> {
    const r = await this.db.updateTable("variable").set(patch).where("key", "=", key).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(key: string): Promise<boolean> {
    const r = await this.db.deleteFrom("variable").where("key", "=", key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
