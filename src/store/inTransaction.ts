import type { Kysely, Transaction } from "kysely";
import type { Database } from "./schema.js";

/** Run `fn` in a transaction, or in the caller's when `db` already is one (Kysely cannot nest them). */
export function inTransaction<T>(db: Kysely<Database>, fn: (tx: Kysely<Database> | Transaction<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}
