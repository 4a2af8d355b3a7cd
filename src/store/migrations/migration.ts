import type { Kysely } from "kysely";

export type Dialect = "sqlite" | "postgres";

/** A numbered, append-only schema change. Never edit one that has shipped: add a new one. */
export interface Migration {
  version: number;
  name: string;
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}
