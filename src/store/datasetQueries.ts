import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Datasets (filled in by the dataset work; see migration 0003_ui). */
export class DatasetQueries {
  constructor(private readonly db: Kysely<Database>) {}
}
