/**
 * The one place where errors become HTTP answers. Every error body has the
 * same shape, `{ error: { code, message, details? } }`, so clients (and the
 * UI) handle them with one code path. Input problems are 4xx with a message
 * naming the field; only our own bugs and infrastructure failures are 5xx.
 */
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { SecretKeyError } from "../secrets/secretBox.js";

/**
 * A client error a route answers with a code of its own (POOL_IN_USE,
 * LAST_ADMIN, …) rather than a SluiceError code: thrown by the handler, sent
 * in the standard shape by the error handler like every other error.
 */
export class ApiProblem extends Error {
  constructor(
    /** 502: a system the route reads on the client's behalf (a Spark master) did not answer. */
    readonly status: 400 | 404 | 409 | 502,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiProblem";
  }
}

export interface HttpError {
  status: number;
  body: { error: { code: string; message: string; details?: Record<string, unknown> } };
}

/** SluiceError codes a client can cause, and the status each one means. Anything else is a 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.DagNotFound]: 404,
  [ErrorCode.RunNotFound]: 404,
  [ErrorCode.TaskNotFound]: 404,
  [ErrorCode.ParamsInvalid]: 400,
  [ErrorCode.Usage]: 400,
  [ErrorCode.StateConflict]: 409,
  [ErrorCode.RunExists]: 409,
};

/** Codes of fastify's own errors that we rename to something stable and documented. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_BODY",
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_BODY",
};

const error = (status: number, code: string, message: string, details?: Record<string, unknown>): HttpError => ({
  status,
  body: { error: details ? { code, message, details } : { code, message } },
});

/** Map anything thrown while handling a request to a status and an error body. */
export function toHttpError(err: unknown, maxBodyBytes: number): HttpError {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as { validationContext?: string }).validationContext ?? "request";
    const fields = err.validation.map((v) => ({ field: v.instancePath.replace(/^\//, "").replaceAll("/", ".") || "(root)", in: where, message: v.message ?? "invalid" }));
    const text = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
    return error(400, "VALIDATION_FAILED", `Invalid ${where}: ${text}.`, { fields });
  }
  if (err instanceof ApiProblem) return error(err.status, err.code, err.message);
  // A stored secret this process cannot decrypt: the key changed. A deployment problem, so a 500 (logged),
  // but with the error's own message, which says how to fix it.
  if (err instanceof SecretKeyError) return error(500, "SECRETS_KEY_MISMATCH", err.message);
  if (err instanceof SluiceError) {
    const status = STATUS_BY_CODE[err.code];
    if (status !== undefined) return error(status, err.code, err.message, err.details);
  }
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e?.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return error(413, "PAYLOAD_TOO_LARGE", `Request body is larger than ${maxBodyBytes} bytes (api.maxBodyBytes).`);
  }
  // Fastify's own client errors (bad JSON, unsupported content type, …) keep their status.
  if (typeof e?.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    const code = (e.code && FASTIFY_CODES[e.code]) ?? "BAD_REQUEST";
    return error(e.statusCode, code, e.message ?? "Bad request.");
  }
  return error(500, "INTERNAL", "Internal error; the server log has the details.");
}

/** Throw from a handler for a missing resource (the error handler turns it into 404). */
export function notFound(code: typeof ErrorCode.DagNotFound | typeof ErrorCode.RunNotFound | typeof ErrorCode.TaskNotFound, message: string): SluiceError {
  return new SluiceError(code, message);
}
