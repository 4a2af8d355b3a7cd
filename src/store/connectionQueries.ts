import type { Kysely, Selectable, Updateable } from "kysely";
import type { ConnectionTable, Database } from "./schema.js";

export type ConnectionRow = Selectable<ConnectionTable>;

/**
 * Connections: how tasks reach external systems (host, port, login, password,
 * extra settings). The password and extra arrive already encrypted (the API
 * layer encrypts with secrets/secretBox.ts); the store stores what it is given.
 */
export class ConnectionQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** One page, ordered by conn_id, and the total count. */
  async list(page: { limit: number; offset: number }): Promise<{ rows: ConnectionRow[]; total: number }> {
    const rows = await this.db.selectFrom("connection").selectAll().orderBy("conn_id").limit(page.limit).offset(page.offset).execute();
    const count = await this.db.selectFrom("connection").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return { rows, total: Number(count.n) };
  }

  async get(connId: string): Promise<ConnectionRow | undefined> {
    return this.db.selectFrom("connection").selectAll().where("conn_id", "=", connId).executeTakeFirst();
  }

  /** Insert; false (and nothing written) when the id exists. Conflict-safe when two callers race. */
  async create(row: ConnectionRow): Promise<boolean> {
    const r = await this.db
      .insertInto("connection")
      .values(row)
      .onConflict((oc) => oc.column("conn_id").doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Change the given columns; false when there is no such connection. */
  async update(connId: string, patch: Omit<Updateable<ConnectionTable>, "conn_id">): Promise<boolean> {
    const r = await this.db.updateTable("connection").set(patch).where("conn_id", "=", connId).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async delete(connId: string): Promise<boolean> {
    const r = await this.db.deleteFrom("connection").where("conn_id", "=", connId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
