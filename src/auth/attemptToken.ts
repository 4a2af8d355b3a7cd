/**
 * Attempt tokens: what a task pod or remote worker presents to the task API
 * instead of database credentials. One token names one attempt (task
 * instance id + try number), expires, and is accepted only by the task API
 * (aud "task-api"): the rest of the API looks bearer tokens up as API tokens
 * and finds nothing.
 *
 * Form: `<base64url(JSON payload)>.<base64url(HMAC-SHA256(payload))>`. No
 * database row: the server checks the signature and expiry, and the
 * try-number compare-and-sets in the store decide what the attempt may still
 * change (a token of an attempt that was taken away can do nothing useful).
 *
 * The key: config `api.taskTokenKey` (base64 of 32 bytes, env
 * SLUICE_API__TASK_TOKEN_KEY), else `<home>/task-token.key`, created on first
 * use like the secrets key (secrets/secretBox.ts). Every API server process
 * and every executor that issues tokens must share it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import type { SluiceConfig } from "../config/config.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { loadKeyFile } from "../secrets/keyFile.js";

export const TASK_API_AUDIENCE = "task-api";
export const TOKEN_KEY_FILE_NAME = "task-token.key";
const KEY_BYTES = 32;
/** Lifetime when the task has no timeout. */
export const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60 * 1000;
/** Added to a task's timeout: the runner still needs to report the outcome after the timeout fired. */
export const TOKEN_MARGIN_MS = 10 * 60 * 1000;

const Payload = z.strictObject({
  tiId: z.int().positive(),
  tryNumber: z.int().positive(),
  /** Issued at and expiry, ms since the epoch. */
  iat: z.int(),
  exp: z.int(),
  aud: z.literal(TASK_API_AUDIENCE),
});
export type AttemptTokenPayload = z.infer<typeof Payload>;

/** Why a token was refused; `expired` is told apart so the runner can say so (and stop retrying). */
export type TokenCheck =
  | { ok: true; payload: AttemptTokenPayload }
  | { ok: false; reason: "malformed" | "bad-signature" }
  | { ok: false; reason: "expired"; payload: AttemptTokenPayload };

export class TokenKeyError extends SluiceError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(ErrorCode.ConfigInvalid, message, opts);
    this.name = "TokenKeyError";
  }
}

/** How long a token for a task with this timeout lives: the timeout plus a margin, or one hour. */
export function tokenLifetimeMs(timeoutMs: number | null | undefined): number {
  return timeoutMs ? timeoutMs + TOKEN_MARGIN_MS : DEFAULT_TOKEN_LIFETIME_MS;
}

const sign = (key: Buffer, body: string) => createHmac("sha256", key).update(body).digest();

export function signAttemptToken(key: Buffer, claims: { tiId: number; tryNumber: number }, lifetimeMs: number, now: number): string {
  const payload: AttemptTokenPayload = { tiId: claims.tiId, tryNumber: claims.tryNumber, iat: now, exp: now + lifetimeMs, aud: TASK_API_AUDIENCE };
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${sign(key, body).toString("base64url")}`;
}

/** Check signature (constant time), shape, audience and expiry. */
export function verifyAttemptToken(key: Buffer, token: string, now: number): TokenCheck {
  const parts = token.split(".");
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return { ok: false, reason: "malformed" };
  const given = Buffer.from(parts[1], "base64url");
  const expected = sign(key, parts[0]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: "bad-signature" };
  let payload: AttemptTokenPayload;
  try {
    payload = Payload.parse(JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")));
  } catch {
    // Signed by our key but not our shape: a token from another version or purpose.
    return { ok: false, reason: "malformed" };
  }
  if (payload.exp <= now) return { ok: false, reason: "expired", payload };
  return { ok: true, payload };
}

function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = Buffer.from(t, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || key.length !== KEY_BYTES) {
    throw new TokenKeyError(
      `The task token key in ${where} is not the base64 encoding of ${KEY_BYTES} bytes. Replace it with the output of \`openssl rand -base64 32\` ` +
        "on every API server and executor (running task attempts then need new tokens).",
    );
  }
  return key;
}

/** `<home>/task-token.key`, created on first use (atomically, like the secrets key: see secrets/keyFile.ts). */
async function keyFromFile(home: string): Promise<Buffer> {
  const key = await loadKeyFile(path.join(home, TOKEN_KEY_FILE_NAME), {
    bytes: KEY_BYTES,
    create: true,
    decode: decodeKey,
    unreadable: (file, cause) => new TokenKeyError(`Cannot read the task token key file ${file}: ${cause.message}. Fix its permissions, or set api.taskTokenKey.`, { cause }),
  });
  return key!;
}

export type TokenKeyConfig = Pick<SluiceConfig, "home"> & { api: Pick<SluiceConfig["api"], "taskTokenKey"> };

/** Issues and checks attempt tokens with the configured key, loaded (or created) on first use. */
export class AttemptTokens {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly config: TokenKeyConfig) {}

  private loadKey(): Promise<Buffer> {
    const configured = this.config.api.taskTokenKey;
    this.key ??= configured !== undefined ? Promise.resolve(decodeKey(configured, "api.taskTokenKey (SLUICE_API__TASK_TOKEN_KEY)")) : keyFromFile(this.config.home);
    // A failed load is not cached: the next call may find the file fixed.
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }

  async issue(claims: { tiId: number; tryNumber: number }, lifetimeMs: number, now: number = Date.now()): Promise<string> {
    return signAttemptToken(await this.loadKey(), claims, lifetimeMs, now);
  }

  async verify(token: string, now: number = Date.now()): Promise<TokenCheck> {
    return verifyAttemptToken(await this.loadKey(), token, now);
  }
}
