/**
 * Authentication and role checks for /api/v1, plus the login, logout and
 * "who am I" routes.
 *
 * Two ways in:
 * - `Authorization: Bearer slc_…` (API tokens, for scripts). No CSRF check:
 *   a browser never attaches this header on its own.
 * - the `sluice_session` cookie set by POST /auth/login (HttpOnly,
 *   SameSite=Strict). A cookie is sent automatically, so requests that
 *   change state must also carry `X-CSRF-Token` equal to the session's token
 *   (returned by login and /auth/me), which another site cannot read.
 *
 * Every route needs a signed-in user except the PUBLIC ones below (health
 * for probes, and login); the OpenAPI document and docs too, as the issue
 * asks, since they map the whole surface. Reads need "viewer"; writes need
 * "operator" unless the route raises it with `config: { minRole: "admin" }`.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { hasRole, ROLES, type Role } from "../auth/roles.js";
import { safeEqual } from "../auth/secrets.js";
import { checkPassword, createSession, endSession, sessionFor, userForToken, type AuthUser } from "../auth/users.js";
import { LoginRateLimit } from "./loginRateLimit.js";
import { ErrorBody, Timestamp } from "./schemas.js";
import type { ApiApp, ApiDeps } from "./types.js";

export const SESSION_COOKIE = "sluice_session";
export const CSRF_HEADER = "x-csrf-token";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Least role a route needs (default: viewer for reads, operator for writes). */
    minRole?: Role;
  }
  interface FastifyRequest {
    /** Who made the request; set by the auth hook (null on public routes, or when auth is off). */
    auth: { user: AuthUser; via: "token" | "session"; sessionSecret?: string; csrfToken?: string } | null;
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Routes anyone may call, as "METHOD /path" relative to the API prefix. */
// The GitHub webhook authenticates with its HMAC signature instead (routes/webhooks.ts).
const PUBLIC = new Set(["GET /health", "POST /auth/login", "POST /webhooks/github"]);

export function isPublic(method: string, routeUrl: string | undefined, prefix: string): boolean {
  if (routeUrl === undefined || !routeUrl.startsWith(prefix)) return false;
  return PUBLIC.has(`${method === "HEAD" ? "GET" : method} ${routeUrl.slice(prefix.length)}`);
}

/** The value of one cookie from a Cookie header (RFC 6265 syntax; our values are base64url, no quoting needed). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sessionCookie(value: string, maxAgeSec: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${secure ? "; Secure" : ""}`;
}

const deny = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send({ error: { code, message } });

/**
 * The onRequest hook: resolve the caller, then enforce role and CSRF. Runs
 * before the body is read, so an unauthenticated client cannot make us parse
 * a large body.
 */
export function authHook(deps: ApiDeps, prefix: string) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!req.url.startsWith(prefix)) return;
    if (isPublic(req.method, req.routeOptions.url, prefix)) return;
    // The task API checks its own attempt tokens (routes/taskApi.ts); sessions and API tokens are not accepted there.
    if (req.routeOptions.config?.taskApi) return;

    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const user = m ? await userForToken(deps.store, m[1], deps.now()) : undefined;
      if (!user) return deny(reply, 401, "UNAUTHENTICATED", "The API token is invalid or was revoked. Create one with `sluice users token <username>`.");
      req.auth = { user, via: "token" };
    } else {
      const secret = readCookie(req.headers.cookie, SESSION_COOKIE);
      const session = secret ? await sessionFor(deps.store, secret, deps.now()) : undefined;
      if (!session) {
        return deny(reply, 401, "UNAUTHENTICATED", `Sign in first: POST ${prefix}/auth/login, or send "Authorization: Bearer <token>".`);
      }
      req.auth = { user: session.user, via: "session", sessionSecret: secret, csrfToken: session.csrfToken };
      if (!SAFE_METHODS.has(req.method)) {
        const sent = req.headers[CSRF_HEADER];
        if (typeof sent !== "string" || !safeEqual(sent, session.csrfToken)) {
          return deny(reply, 403, "CSRF_FAILED", `Missing or wrong ${CSRF_HEADER} header: send the csrfToken from login or GET ${prefix}/auth/me.`);
        }
      }
    }

    // No such route: the caller is known, so answer the 404 (not a role error for a path that does not exist).
    if (req.routeOptions.url === undefined) return;
    const needed: Role = req.routeOptions.config?.minRole ?? (SAFE_METHODS.has(req.method) ? "viewer" : "operator");
    if (!hasRole(req.auth.user.role, needed)) {
      return deny(reply, 403, "FORBIDDEN", `User "${req.auth.user.username}" has the role ${req.auth.user.role}; this needs ${needed} or higher.`);
    }
  };
}

const User = z.object({ id: z.number(), username: z.string(), role: z.enum(ROLES), createdAt: Timestamp });
const userJson = (u: AuthUser) => ({ id: u.id, username: u.username, role: u.role, createdAt: new Date(u.createdAt).toISOString() });

export function authRoutes(app: ApiApp, deps: ApiDeps, limiter = new LoginRateLimit()): void {
  const { store, now } = deps;

  app.post(
    "/auth/login",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with a username and password; sets the session cookie",
        body: z.strictObject({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) }),
        response: {
          200: z.object({ user: User, csrfToken: z.string().describe(`Send as the ${CSRF_HEADER} header on requests that change state.`) }),
          400: ErrorBody,
          401: ErrorBody,
          429: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const wait = limiter.retryAfterMs(username, req.ip, now());
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return reply
          .code(429)
          .header("retry-after", String(seconds))
          .send({ error: { code: "TOO_MANY_ATTEMPTS", message: `Too many failed sign-ins for "${username}"; try again in ${seconds} s.` } });
      }
      const user = await checkPassword(store, username, password);
      if (!user) {
        limiter.fail(username, req.ip, now());
        return reply.code(401).send({ error: { code: "BAD_CREDENTIALS", message: "Wrong username or password." } });
      }
      limiter.succeed(username, req.ip);
      const session = await createSession(store, user, now());
      const maxAge = Math.floor((session.expiresAt - now()) / 1000);
      reply.header("set-cookie", sessionCookie(session.secret, maxAge, req.protocol === "https"));
      return { user: userJson(user), csrfToken: session.csrfToken };
    },
  );

  app.post(
    "/auth/logout",
    {
      // Any signed-in user may sign out.
      config: { minRole: "viewer" },
      schema: { tags: ["auth"], summary: "Sign out: ends the session and clears the cookie", response: { 204: z.null(), 401: ErrorBody, 403: ErrorBody } },
    },
    async (req, reply) => {
      if (req.auth?.sessionSecret) await endSession(store, req.auth.sessionSecret);
      reply.header("set-cookie", sessionCookie("", 0, req.protocol === "https"));
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/auth/me",
    {
      schema: {
        tags: ["auth"],
        summary: "The signed-in user (and the session's CSRF token)",
        response: { 200: z.object({ user: User, csrfToken: z.string().nullable().describe("Null when signed in with an API token.") }), 401: ErrorBody },
      },
    },
    async (req, reply) => {
      if (!req.auth) return reply.code(401).send({ error: { code: "UNAUTHENTICATED", message: "Not signed in (API auth is off: api.auth = false)." } });
      return { user: userJson(req.auth.user), csrfToken: req.auth.csrfToken ?? null };
    },
  );
}
