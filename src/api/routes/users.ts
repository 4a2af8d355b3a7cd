import { z } from "zod";
import { hashPassword } from "../../auth/password.js";
import { ROLES } from "../../auth/roles.js";
import { sha256 } from "../../auth/secrets.js";
import { createToken, createUser } from "../../auth/users.js";
import type { Store } from "../../store/store.js";
import { errors, iso, MaybeTimestamp, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";
import { ADMIN_ONLY, problem } from "./adminCommon.js";

const User = z.object({
  id: z.number(),
  username: z.string(),
  // Not an enum: a hand-edited row with an unknown role (it authenticates as nobody) must still be listed, to be fixed.
  role: z.string().describe(`${ROLES.join(", ")}.`),
  createdAt: Timestamp,
  tokens: z.number().describe("Number of API tokens."),
});
const Token = z.object({ id: z.number(), name: z.string(), createdAt: Timestamp, lastUsedAt: MaybeTimestamp });

const UserParams = z.object({ username: z.string().min(1).describe("Username.") });
const TokenParams = UserParams.extend({ id: z.coerce.number().int().min(1).describe("Token id (from GET …/tokens).") });
const Password = z.string().min(8, "use at least 8 characters").max(1000);
const Role = z.enum(ROLES);

const noUser = (username: string) => `No user "${username}". GET /api/v1/users lists them.`;
const lastAdmin = (username: string) =>
  `"${username}" is the last admin; nobody could manage users any more. Make another user admin first (PATCH /api/v1/users/<username> {"role":"admin"}).`;

/** The user as the API shows it; undefined when missing. */
async function userJson(store: Store, username: string): Promise<z.output<typeof User> | undefined> {
  const row = await store.auth.userByName(username);
  if (!row) return undefined;
  const tokens = await store.auth.tokensOf(row.id);
  return { id: row.id, username: row.username, role: row.role, createdAt: iso(Number(row.created_at))!, tokens: tokens.length };
}

/**
 * Users and their API tokens (admin only). Passwords and tokens appear in
 * an answer once, when generated or created; only their hashes are stored.
 * Two guards keep the instance manageable: an admin cannot delete itself,
 * and the last admin cannot be deleted or demoted.
 */
export function userRoutes(app: ApiApp, { store, now }: ApiDeps): void {
  app.get(
    "/users",
    {
      config: ADMIN_ONLY,
      schema: { tags: ["admin"], summary: "List users with their role and number of tokens (admin)", response: { 200: z.object({ users: z.array(User), total: z.number() }) } },
    },
    async () => {
      const rows = await store.auth.listUsers();
      return {
        users: rows.map((r) => ({ id: r.id, username: r.username, role: r.role, createdAt: iso(Number(r.created_at))!, tokens: r.tokens })),
        total: rows.length,
      };
    },
  );

  app.post(
    "/users",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Create a user (admin); without a password one is generated and returned once",
        body: z.strictObject({
          username: z.string().min(1).max(64).describe("1–64 letters, digits or _ . @ -"),
          password: Password.optional().describe("Default: a random 20-character password, returned in this answer only."),
          role: Role,
        }),
        response: {
          201: z.object({ user: User, password: z.string().optional().describe("Only when generated: shown once, store it now.") }),
          ...errors(400, 409),
        },
      },
    },
    async (req, reply) => {
      const { username, role, password } = req.body;
      const exists = () => problem(409, "USER_EXISTS", `User "${username}" already exists; PATCH /api/v1/users/${username} changes it.`);
      if (await store.auth.userByName(username)) throw exists();
      let created: Awaited<ReturnType<typeof createUser>>;
      try {
        created = await createUser(store, { username, role, password }, now());
      } catch (err) {
        // Lost a race with another create of the same name: the unique index refused ours.
        if (await store.auth.userByName(username)) throw exists();
        throw err;
      }
      const user = { ...created.user, createdAt: iso(created.user.createdAt)!, tokens: 0 };
      return reply.code(201).send(created.generated ? { user, password: created.password } : { user });
    },
  );

  app.patch(
    "/users/:username",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Change a user's role or password (admin); a new password ends the user's other sessions",
        params: UserParams,
        body: z.strictObject({ role: Role.optional(), password: Password.optional() }),
        response: { 200: User, ...errors(400, 404, 409) },
      },
    },
    async (req) => {
      const { username } = req.params;
      const { role, password } = req.body;
      const passwordHash = password === undefined ? undefined : await hashPassword(password);
      // One transaction (an advisory lock on PostgreSQL): two admins demoting each other at once must not leave none.
      const outcome = await store.exclusive("users", async (tx) => {
        const row = await tx.auth.userByName(username);
        if (!row) return "missing" as const;
        if (row.role === "admin" && role !== undefined && role !== "admin" && (await tx.auth.countByRole("admin")) <= 1) return "last-admin" as const;
        await tx.auth.updateUser(username, { role, password_hash: passwordHash });
        if (passwordHash !== undefined) {
          // Whoever knew the old password is signed out; the admin making the change keeps its own session.
          const own = req.auth?.via === "session" && req.auth.sessionSecret ? sha256(req.auth.sessionSecret) : undefined;
          await tx.auth.deleteSessionsOfUser(row.id, own);
        }
        return "ok" as const;
      });
      if (outcome === "missing") throw problem(404, "USER_NOT_FOUND", noUser(username));
      if (outcome === "last-admin") throw problem(409, "LAST_ADMIN", lastAdmin(username));
      return (await userJson(store, username))!;
    },
  );

  app.delete(
    "/users/:username",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Delete a user with its tokens and sessions (admin); not yourself, not the last admin",
        params: UserParams,
        response: { 204: z.null(), ...errors(404, 409) },
      },
    },
    async (req, reply) => {
      const { username } = req.params;
      if (req.auth?.user.username === username) {
        throw problem(409, "CANNOT_DELETE_SELF", `You are signed in as "${username}"; another admin must delete this user.`);
      }
      const outcome = await store.exclusive("users", async (tx) => {
        const row = await tx.auth.userByName(username);
        if (!row) return "missing" as const;
        if (row.role === "admin" && (await tx.auth.countByRole("admin")) <= 1) return "last-admin" as const;
        await tx.auth.deleteUser(username);
        return "ok" as const;
      });
      if (outcome === "missing") throw problem(404, "USER_NOT_FOUND", noUser(username));
      if (outcome === "last-admin") throw problem(409, "LAST_ADMIN", lastAdmin(username));
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/users/:username/tokens",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "A user's API tokens (admin); names and dates only, never the tokens",
        params: UserParams,
        response: { 200: z.object({ tokens: z.array(Token) }), ...errors(404) },
      },
    },
    async (req) => {
      const row = await store.auth.userByName(req.params.username);
      if (!row) throw problem(404, "USER_NOT_FOUND", noUser(req.params.username));
      const tokens = await store.auth.tokensOf(row.id);
      return { tokens: tokens.map((t) => ({ id: t.id, name: t.name, createdAt: iso(t.created_at)!, lastUsedAt: iso(t.last_used_at) })) };
    },
  );

  app.post(
    "/users/:username/tokens",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Create an API token for a user (admin); the token is in this answer only",
        params: UserParams,
        body: z.strictObject({ name: z.string().min(1).max(100).describe("What the token is for, e.g. \"nightly-report\".") }),
        response: { 201: Token.extend({ token: z.string().describe("Send as `Authorization: Bearer <token>`; shown once, stored only as a hash.") }), ...errors(400, 404) },
      },
    },
    async (req, reply) => {
      const { username } = req.params;
      if (!(await store.auth.userByName(username))) throw problem(404, "USER_NOT_FOUND", noUser(username));
      const at = now();
      const { token, id } = await createToken(store, username, req.body.name, at);
      return reply.code(201).send({ id, name: req.body.name, createdAt: iso(at)!, lastUsedAt: null, token });
    },
  );

  app.delete(
    "/users/:username/tokens/:id",
    {
      config: ADMIN_ONLY,
      schema: { tags: ["admin"], summary: "Revoke an API token (admin); it stops working at once", params: TokenParams, response: { 204: z.null(), ...errors(400, 404) } },
    },
    async (req, reply) => {
      const { username, id } = req.params;
      const row = await store.auth.userByName(username);
      if (!row) throw problem(404, "USER_NOT_FOUND", noUser(username));
      if (!(await store.auth.deleteToken(row.id, id))) {
        throw problem(404, "TOKEN_NOT_FOUND", `User "${username}" has no token ${id}. GET /api/v1/users/${username}/tokens lists them.`);
      }
      return reply.code(204).send(null);
    },
  );
}
