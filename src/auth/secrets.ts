/**
 * Random secrets (API tokens, session secrets, CSRF tokens, generated
 * passwords) and the one-way hash under which tokens and sessions are stored.
 * 32 random bytes = 256 bits: guessing is hopeless, so a fast SHA-256 is the
 * right hash here (a slow KDF is only needed for human-chosen passwords).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** API tokens start with this, so they are recognisable in logs and by secret scanners. */
export const TOKEN_PREFIX = "slc_";

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** 20 characters from an alphabet without look-alikes (0/O, 1/l/I): ~115 bits, easy to copy from a terminal. */
export function generatePassword(): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const out: string[] = [];
  // Rejection sampling keeps every character equally likely (256 is not a multiple of the alphabet size).
  const limit = 256 - (256 % alphabet.length);
  while (out.length < 20) {
    for (const b of randomBytes(32)) {
      if (b < limit && out.length < 20) out.push(alphabet[b % alphabet.length]);
    }
  }
  return out.join("");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Constant-time string equality (for CSRF tokens). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
