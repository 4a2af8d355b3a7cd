import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Variables (filled in by the variable work; see migration 0003_ui). */
export class VariableQueries {
  constructor(private readonly db: Kysely<Database>) {}
}
