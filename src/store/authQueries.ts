import type { Kysely, Selectable } from "kysely";
import type { ApiTokenTable, AppUserTable, Database } from "./schema.js";

export type UserRow = Selectable<AppUserTable>;
export type TokenRow = Selectable<ApiTokenTable>;
export type PublicUserRow = Omit<UserRow, "password_hash">;

/** A token's last_used_at is refreshed at most this often, so a busy script does not write on every request. */
const TOUCH_EVERY_MS = 60_000;

const USER_COLUMNS = ["app_user.id", "app_user.username", "app_user.role", "app_user.created_at"] as const;

/**
 * Users, API tokens and sessions. Callers pass hashes, never secrets: hashing
 * lives in auth/, so nothing here can store a secret by mistake.
 */
export class AuthQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async createUser(u: { username: string; password_hash: string; role: string; created_at: number }): Promise<number> {
    const row = await this.db.insertInto("app_user").values(u).returning("id").executeTakeFirstOrThrow();
    return row.id;
  }

  async userByName(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom("app_user").selectAll().where("username", "=", username).executeTakeFirst();
  }

  async listUsers(): Promise<(PublicUserRow & { tokens: number })[]> {
    const rows = await this.db
      .selectFrom("app_user")
      .leftJoin("api_token", "api_token.user_id", "app_user.id")
      .select([...USER_COLUMNS, (eb) => eb.fn.count<number>("api_token.id").as("tokens")])
      .groupBy(["app_user.id", "app_user.username", "app_user.role", "app_user.created_at"])
      .orderBy("app_user.username")
      .execute();
    return rows.map((r) => ({ ...r, tokens: Number(r.tokens) }));
  }

  async countUsers(): Promise<number> {
    const row = await this.db.selectFrom("app_user").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Deletes the user with its tokens and sessions (cascade). False if there was no such user. */
  async deleteUser(username: string): Promise<boolean> {
    const r = await this.db.deleteFrom("app_user").where("username", "=", username).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async createToken(t: { user_id: number; name: string; token_hash: string; created_at: number }): Promise<number> {
    const row = await this.db.insertInto("api_token").values({ ...t, last_used_at: null }).returning("id").executeTakeFirstOrThrow();
    return row.id;
  }

  /** The user owning the token with this hash, or undefined. Refreshes last_used_at (at most once a minute). */
  async userByTokenHash(tokenHash: string, now: number): Promise<PublicUserRow | undefined> {
    const row = await this.db
      .selectFrom("api_token")
      .innerJoin("app_user", "app_user.id", "api_token.user_id")
      .select([...USER_COLUMNS, "api_token.id as token_id"])
      .where("api_token.token_hash", "=", tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    await this.db
      .updateTable("api_token")
      .set({ last_used_at: now })
      .where("id", "=", row.token_id)
      .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<", now - TOUCH_EVERY_MS)]))
      .execute();
    const { token_id: _t, ...user } = row;
    return user;
  }

  async createSession(s: { id: string; user_id: number; csrf_token: string; created_at: number; expires_at: number }): Promise<void> {
    await this.db.insertInto("app_session").values(s).execute();
  }

  /** A live (unexpired) session with its user. */
  async sessionById(id: string, now: number): Promise<{ user: PublicUserRow; csrfToken: string } | undefined> {
    const row = await this.db
      .selectFrom("app_session")
      .innerJoin("app_user", "app_user.id", "app_session.user_id")
      .select([...USER_COLUMNS, "app_session.csrf_token"])
      .where("app_session.id", "=", id)
      .where("app_session.expires_at", ">", now)
      .executeTakeFirst();
    if (!row) return undefined;
    const { csrf_token, ...user } = row;
    return { user, csrfToken: csrf_token };
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.deleteFrom("app_session").where("id", "=", id).execute();
  }

  /** Drop expired sessions (called on login, so the table stays small without a timer). */
  async deleteExpiredSessions(now: number): Promise<void> {
    await this.db.deleteFrom("app_session").where("expires_at", "<=", now).execute();
  }

  // ---- user administration (api/routes/users.ts) ----

  async countByRole(role: string): Promise<number> {
    const row = await this.db
      .selectFrom("app_user")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("role", "=", role)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Change role and/or password hash; false when there is no such user. */
  async updateUser(username: string, patch: { role?: string; password_hash?: string }): Promise<boolean> {
    if (patch.role === undefined && patch.password_hash === undefined) return (await this.userByName(username)) !== undefined;
    const r = await this.db.updateTable("app_user").set(patch).where("username", "=", username).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** End a user's sessions, except the one with id `keep` (the caller's own, when it changes its own password). */
  async deleteSessionsOfUser(userId: number, keep?: string): Promise<void> {
    let q = this.db.deleteFrom("app_session").where("user_id", "=", userId);
    if (keep !== undefined) q = q.where("id", "!=", keep);
    await q.execute();
  }

  /** A user's tokens (never their hashes), oldest first. */
  async tokensOf(userId: number): Promise<Omit<TokenRow, "token_hash">[]> {
    return this.db
      .selectFrom("api_token")
      .select(["id", "user_id", "name", "created_at", "last_used_at"])
      .where("user_id", "=", userId)
      .orderBy("id")
      .execute();
  }

  /** Revoke one token of one user; false when that user has no token with this id. */
  async deleteToken(userId: number, tokenId: number): Promise<boolean> {
    const r = await this.db.deleteFrom("api_token").where("id", "=", tokenId).where("user_id", "=", userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
