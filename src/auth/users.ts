/**
 * Users, API tokens and sessions as the CLI and the API use them. Engine
 * layer: no HTTP here. Secrets leave this module once (a new token, a
 * generated password, a session secret) and are only ever stored hashed.
 */
import { ErrorCode, SluiceError } from "../core/errors.js";
import type { PublicUserRow } from "../store/authQueries.js";
import type { Store } from "../store/store.js";
import { decoyHash, hashPassword, verifyPassword } from "./password.js";
import { isRole, ROLES, type Role } from "./roles.js";
import { generatePassword, generateSecret, generateToken, sha256, TOKEN_PREFIX } from "./secrets.js";

/** A browser session lasts this long after login (then the user signs in again). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const INITIAL_ADMIN = "admin";
const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const MIN_PASSWORD = 8;

export interface AuthUser {
  id: number;
  username: string;
  role: Role;
  createdAt: number;
}

function toUser(row: PublicUserRow): AuthUser | undefined {
  // A role this code does not know (a hand-edited row) authenticates as nobody.
  if (!isRole(row.role)) return undefined;
  return { id: row.id, username: row.username, role: row.role, createdAt: Number(row.created_at) };
}

function usage(message: string): SluiceError {
  return new SluiceError(ErrorCode.Usage, message);
}

export function parseRole(text: string): Role {
  if (!isRole(text)) throw usage(`Unknown role "${text}"; use one of ${ROLES.join(", ")}.`);
  return text;
}

/** Create a user. Without a password, a random one is generated and returned (show it once). */
export async function createUser(
  store: Store,
  input: { username: string; role: Role; password?: string },
  now = Date.now(),
): Promise<{ user: AuthUser; password: string; generated: boolean }> {
  const { username, role } = input;
  if (!USERNAME.test(username)) throw usage(`Username "${username}" is not allowed; use 1–64 letters, digits or _ . @ -.`);
  if (input.password !== undefined && input.password.length < MIN_PASSWORD) throw usage(`The password must have at least ${MIN_PASSWORD} characters.`);
  if (await store.auth.userByName(username)) throw usage(`User "${username}" already exists; \`sluice users delete ${username}\` first to replace it.`);
  const password = input.password ?? generatePassword();
  const id = await store.auth.createUser({ username, role, password_hash: await hashPassword(password), created_at: now });
  return { user: { id, username, role, createdAt: now }, password, generated: input.password === undefined };
}

export async function listUsers(store: Store) {
  return store.auth.listUsers();
}

export async function deleteUser(store: Store, username: string): Promise<void> {
  if (!(await store.auth.deleteUser(username))) throw usage(`No user "${username}". \`sluice users list\` shows them.`);
}

/** A new API token for the user; the token is returned once and only its hash is stored. */
export async function createToken(store: Store, username: string, name: string, now = Date.now()): Promise<{ token: string; user: AuthUser; id: number }> {
  const row = await store.auth.userByName(username);
  const user = row && toUser(row);
  if (!user) throw usage(`No user "${username}". \`sluice users list\` shows them.`);
  const token = generateToken();
  const id = await store.auth.createToken({ user_id: user.id, name, token_hash: sha256(token), created_at: now });
  return { token, user, id };
}

/** The user an API token belongs to, or undefined (unknown, revoked, or its user deleted). */
export async function userForToken(store: Store, token: string, now = Date.now()): Promise<AuthUser | undefined> {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const row = await store.auth.userByTokenHash(sha256(token), now);
  return row && toUser(row);
}

/** Check a username and password; undefined when either is wrong (the same time either way). */
export async function checkPassword(store: Store, username: string, password: string): Promise<AuthUser | undefined> {
  const row = await store.auth.userByName(username);
  if (!row) {
    await verifyPassword(password, await decoyHash());
    return undefined;
  }
  if (!(await verifyPassword(password, row.password_hash))) return undefined;
  return toUser(row);
}

export interface NewSession {
  /** Goes into the cookie; stored only as its SHA-256. */
  secret: string;
  csrfToken: string;
  expiresAt: number;
}

export async function createSession(store: Store, user: AuthUser, now = Date.now()): Promise<NewSession> {
  const secret = generateSecret();
  const csrfToken = generateSecret();
  const expiresAt = now + SESSION_TTL_MS;
  await store.auth.deleteExpiredSessions(now);
  await store.auth.createSession({ id: sha256(secret), user_id: user.id, csrf_token: csrfToken, created_at: now, expires_at: expiresAt });
  return { secret, csrfToken, expiresAt };
}

export async function sessionFor(store: Store, secret: string, now = Date.now()): Promise<{ user: AuthUser; csrfToken: string } | undefined> {
  const s = await store.auth.sessionById(sha256(secret), now);
  const user = s && toUser(s.user);
  return user && { user, csrfToken: s.csrfToken };
}

export async function endSession(store: Store, secret: string): Promise<void> {
  await store.auth.deleteSession(sha256(secret));
}

/**
 * First start of `sluice standalone`: with no user at all, create "admin"
 * with a random password and return it (the caller prints it once).
 * Undefined when any user exists. Two processes racing here: the unique
 * username makes the second insert fail, and it then reports nothing.
 */
export async function ensureInitialAdmin(store: Store, now = Date.now()): Promise<{ username: string; password: string } | undefined> {
  if ((await store.auth.countUsers()) > 0) return undefined;
  try {
    const { password } = await createUser(store, { username: INITIAL_ADMIN, role: "admin" }, now);
    return { username: INITIAL_ADMIN, password };
  } catch (err) {
    if ((await store.auth.countUsers()) > 0) return undefined;
    throw err;
  }
}
