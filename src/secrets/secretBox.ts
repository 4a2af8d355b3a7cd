/**
 * Encryption at rest of the secrets Sluice stores for users: secret variable
 * values, connection passwords and connection extras. AES-256-GCM (node:crypto)
 * with a random 96-bit IV per value; the auth tag makes any change to the
 * stored text, or a different key, fail loudly instead of decrypting to junk.
 *
 * Stored form: "v1:<iv b64>:<tag b64>:<ciphertext b64>". The version prefix
 * lets a later format (or key rotation with key ids) read old values.
 *
 * The key: config `secrets.key` (base64 of 32 bytes, env SLUICE_SECRETS__KEY),
 * else `<home>/secret.key`, created (mode 0600, 32 random bytes) the first
 * time something is encrypted. Every process sharing one database must use the
 * same key; a key that changed shows up as SecretKeyError at decrypt time.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import path from "node:path";
import type { SluiceConfig } from "../config/config.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { loadKeyFile } from "./keyFile.js";

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = "v1";
export const KEY_FILE_NAME = "secret.key";

/** Where the key comes from, for error messages. */
const KEY_SOURCES = "config secrets.key (env SLUICE_SECRETS__KEY), else <home>/secret.key";

/**
 * A secret cannot be decrypted (key changed or missing, value altered) or the
 * key itself is unusable. Code CONFIG_INVALID: the fix is in the deployment's
 * key, not in the request. Messages never contain the stored value.
 */
export class SecretKeyError extends SluiceError {
  constructor(message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(ErrorCode.ConfigInvalid, message, opts);
    this.name = "SecretKeyError";
  }
}

/** Whether `text` looks like something encrypt() produced (any version we know). */
export function isEncrypted(text: string): boolean {
  return text.startsWith(`${VERSION}:`) && text.split(":").length === 4;
}

export function encryptWithKey(key: Buffer, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ciphertext.toString("base64")].join(":");
}

/**
 * Decrypt what encryptWithKey wrote. `what` names the secret in the error
 * ("variable \"db_password\""), so the admin knows which one to re-enter.
 */
export function decryptWithKey(key: Buffer, stored: string, what = "a stored secret"): string {
  const parts = stored.split(":");
  if (parts.length !== 4 || parts[0] !== VERSION) {
    throw new SecretKeyError(
      `Cannot decrypt ${what}: it is not in Sluice's encrypted format (${VERSION}:…), so it was written by something else or damaged. Set it again through the API.`,
    );
  }
  const [, ivText, tagText, ctText] = parts;
  const iv = Buffer.from(ivText, "base64");
  const tag = Buffer.from(tagText, "base64");
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretKeyError(`Cannot decrypt ${what}: its stored form is damaged (bad IV or tag length). Set it again through the API.`);
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ctText, "base64")), decipher.final()]).toString("utf8");
  } catch (err) {
    // GCM cannot tell a wrong key from an altered value; the key is by far the likelier cause.
    throw new SecretKeyError(
      `Cannot decrypt ${what}: the secrets key is not the one it was encrypted with (the key changed, e.g. a new ${KEY_FILE_NAME} or a different ` +
        `SLUICE_SECRETS__KEY on this process), or the stored value was altered. The key comes from ${KEY_SOURCES}; ` +
        "restore the previous key on every Sluice process, or set this secret again so it is encrypted with the current key.",
      { cause: err },
    );
  }
}

function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = Buffer.from(t, "base64");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || key.length !== KEY_BYTES) {
    throw new SecretKeyError(
      `The secrets key in ${where} is not the base64 encoding of ${KEY_BYTES} bytes. Restore the original key, or ` +
        "(losing every stored secret) replace it with the output of `openssl rand -base64 32`.",
    );
  }
  return key;
}

/** `<home>/secret.key`, created when `create` and absent (see keyFile.ts); undefined when absent and not `create`. */
function keyFromFile(home: string, create: boolean): Promise<Buffer | undefined> {
  return loadKeyFile(path.join(home, KEY_FILE_NAME), {
    bytes: KEY_BYTES,
    create,
    decode: decodeKey,
    unreadable: (file, cause) => new SecretKeyError(`Cannot read the secrets key file ${file}: ${cause.message}. Fix its permissions, or set secrets.key.`, { cause }),
  });
}

export type SecretsConfig = Pick<SluiceConfig, "home" | "secrets">;

/**
 * Encrypts and decrypts with the configured key, loaded on first use (so a
 * process that never touches a secret never creates a key file).
 */
export class SecretBox {
  private key: Buffer | undefined;

  constructor(private readonly config: SecretsConfig) {}

  async encrypt(plaintext: string): Promise<string> {
    return encryptWithKey(await this.loadKey(true), plaintext);
  }

  async decrypt(stored: string, what?: string): Promise<string> {
    return decryptWithKey(await this.loadKey(false), stored, what);
  }

  /**
   * Only a key we have is cached: after "no key file" at decrypt time, the
   * next encrypt may still create one. Two first calls at once both read the
   * file (creation is atomic), which is cheaper than coordinating them.
   */
  private async loadKey(create: boolean): Promise<Buffer> {
    this.key ??= await this.readKey(create);
    return this.key;
  }

  private async readKey(create: boolean): Promise<Buffer> {
    if (this.config.secrets.key !== undefined) return decodeKey(this.config.secrets.key, "secrets.key (SLUICE_SECRETS__KEY)");
    const key = await keyFromFile(this.config.home, create);
    if (key) return key;
    throw new SecretKeyError(
      `No secrets key: secrets.key is unset and ${path.join(this.config.home, KEY_FILE_NAME)} does not exist, but the database holds encrypted secrets. ` +
        "Restore the key file (or set secrets.key / SLUICE_SECRETS__KEY to the key used before) on this process.",
    );
  }
}
