/**
 * Zod schemas shared by the route modules. Routes declare their params,
 * query, body and responses with these; the same schemas validate requests
 * and generate the OpenAPI document, so the docs cannot drift.
 */
import { z } from "zod";

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe('Stable machine-readable code, e.g. "DAG_NOT_FOUND", "VALIDATION_FAILED".'),
      message: z.string().describe("What was wrong and what to do about it."),
      details: z.record(z.string(), z.unknown()).optional().describe("Structured detail, e.g. `fields: [{ field, message }]` for validation errors."),
    }),
  })
  .describe("Every error answer has this shape.");

type ErrorStatus = 400 | 404 | 409 | 413 | 503;

/** Response entries for the error statuses a route can answer with (documented in OpenAPI). */
export function errors<S extends ErrorStatus>(...statuses: S[]): Record<S, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as Record<S, typeof ErrorBody>;
}

/** Timestamps are ISO 8601 strings in UTC; null when not (yet) known. */
export const Timestamp = z.iso.datetime();
export const MaybeTimestamp = Timestamp.nullable();

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
}

/** Query strings arrive as text: integers are coerced, then bounded. */
export const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** "true"/"false" (also 1/0, yes/no) in a query string; z.coerce.boolean would read "false" as true. */
export const queryBool = z.stringbool();

export const Page = {
  limit: queryInt(1, 1000).default(100).describe("Page size (1–1000)."),
  offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0).describe("Rows to skip."),
};

export const DagIdParams = z.object({ dagId: z.string().min(1).describe("DAG id.") });
export const RunParams = DagIdParams.extend({ runId: z.string().min(1).describe("Run id.") });
export const TaskParams = RunParams.extend({ taskId: z.string().min(1).describe("Task id.") });

/** Parse a JSON text column; a value that is not JSON is returned as the raw text rather than failing the request. */
export function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
