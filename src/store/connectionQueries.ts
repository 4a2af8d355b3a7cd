import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Connections (filled in by the connection work; see migration 0003_ui). */
export class ConnectionQueries {
  constructor(private readonly db: Kysely<Database>) {}
}
