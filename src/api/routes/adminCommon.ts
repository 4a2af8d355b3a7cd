/**
 * Pieces shared by the admin routes (pools, variables, connections, users):
 * the admin-only route config, identifier rules, and error answers in the
 * standard `{ error: { code, message } }` shape for the not-found, conflict
 * and secrets-key cases that have no SluiceError code of their own.
 */
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { SecretKeyError } from "../../secrets/secretBox.js";
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

/** Send an error answer; returns the reply so handlers can `return problem(...)`. */
export function problem(reply: FastifyReply, status: 400 | 404 | 409 | 500, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/**
 * A stored secret that cannot be decrypted is a deployment problem (the key
 * changed), not a bug: answer with the error's own message, which says how to
 * fix it, instead of the generic 500. Anything else is rethrown.
 */
export function secretsProblem(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof SecretKeyError) {
    // Answered here, not by the error handler: log it as it would, so operators see it without the UI.
    reply.log.error({ err, url: reply.request.url }, "stored secret cannot be decrypted");
    return problem(reply, 500, "SECRETS_KEY_MISMATCH", err.message);
  }
  throw err;
}

/** Response entry documenting the secrets-key failure. */
export const SecretsKeyFailure = { 500: ErrorBody.describe("SECRETS_KEY_MISMATCH: a stored secret cannot be decrypted with this process's key.") };
