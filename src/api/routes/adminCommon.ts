/**
 * Pieces shared by the admin routes (pools, variables, connections, users):
 * the admin-only route config, identifier rules, and error answers for the
 * not-found and conflict cases that have no SluiceError code of their own.
 */
import { z } from "zod";
import { ApiProblem } from "../errors.js";
import { ErrorBody } from "../schemas.js";

/** Route config: only admins (the auth hook answers 403 to others, reads included). */
export const ADMIN_ONLY = { minRole: "admin" } as const;

/** Ids that appear in URLs, logs and task code: printable, no spaces or slashes. */
export const Identifier = (what: string) =>
  z
    .string()
    .min(1)
    .max(250)
    .regex(/^[A-Za-z0-9_.-]+$/, `a ${what} uses 1–250 letters, digits or _ . -`);

/** An error answer for a handler to throw (see ApiProblem). */
export function problem(status: 400 | 404 | 409, code: string, message: string): ApiProblem {
  return new ApiProblem(status, code, message);
}

/** Response entry documenting the secrets-key failure. */
export const SecretsKeyFailure = { 500: ErrorBody.describe("SECRETS_KEY_MISMATCH: a stored secret cannot be decrypted with this process's key.") };
