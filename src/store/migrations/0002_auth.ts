import { sql, type Kysely } from "kysely";
import type { Migration } from "./migration.js";

/**
 * Users, API tokens and browser sessions. Secrets are never stored: a token
 * and a session secret are kept only as their SHA-256 (hex), a password only
 * as a salted scrypt hash. Deleting a user deletes its tokens and sessions
 * (ON DELETE CASCADE), so its credentials stop working at once.
 */
// The roles are fixed here; a new role needs a new migration.
const ROLE_CHECK = sql`role in ('viewer', 'operator', 'admin')`;

export const m0002_auth: Migration = {
  version: 2,
  name: "auth",
  async up(db: Kysely<any>, dialect) {
    const id = (t: any) =>
      dialect === "sqlite"
        ? t.addColumn("id", "integer", (c: any) => c.primaryKey().autoIncrement())
        : t.addColumn("id", "serial", (c: any) => c.primaryKey());

    await id(db.schema.createTable("app_user"))
      .addColumn("username", "text", (c: any) => c.notNull().unique())
      .addColumn("password_hash", "text", (c: any) => c.notNull())
      .addColumn("role", "text", (c: any) => c.notNull().check(ROLE_CHECK))
      .addColumn("created_at", "bigint", (c: any) => c.notNull())
      .execute();

    await id(db.schema.createTable("api_token"))
      .addColumn("user_id", "integer", (c: any) => c.notNull().references("app_user.id").onDelete("cascade"))
      .addColumn("name", "text", (c: any) => c.notNull())
      .addColumn("token_hash", "text", (c: any) => c.notNull().unique())
      .addColumn("created_at", "bigint", (c: any) => c.notNull())
      .addColumn("last_used_at", "bigint")
      .execute();
    await db.schema.createIndex("api_token_user_idx").on("api_token").column("user_id").execute();

    await db.schema
      .createTable("app_session")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("user_id", "integer", (c) => c.notNull().references("app_user.id").onDelete("cascade"))
      .addColumn("csrf_token", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("app_session_user_idx").on("app_session").column("user_id").execute();
    await db.schema.createIndex("app_session_expires_idx").on("app_session").column("expires_at").execute();
  },
};
