import { z } from "zod";

/** A zod object schema (with defaults), or plain default values. */
export type ParamsInput = z.ZodType<Record<string, unknown>> | Record<string, unknown>;
export type ParamsOf<PS> = PS extends z.ZodType ? z.output<PS> : PS extends undefined ? Record<string, unknown> : PS;

function isZod(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

/**
 * Split a DAG's params declaration into what is stored: defaults and a JSON
 * Schema (so any process, including one that never loads the DAG file, can
 * validate a trigger's conf) and the live zod schema (used in the task process).
 */
export function paramsSpec(
  params: ParamsInput | undefined,
  fail: (message: string) => never,
): { defaults: Record<string, unknown>; jsonSchema?: Record<string, unknown>; schema?: z.ZodType } {
  if (params === undefined) return { defaults: {} };
  if (!isZod(params)) {
    if (typeof params !== "object" || params === null || Array.isArray(params)) fail("params must be a zod object schema or an object of default values.");
    try {
      return { defaults: JSON.parse(JSON.stringify(params)) as Record<string, unknown> };
    } catch {
      return fail("params default values must be JSON (no functions, cycles or BigInts).");
    }
  }
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(params, { io: "input", unrepresentable: "throw" }) as Record<string, unknown>;
  } catch (err) {
    return fail(`params schema cannot be expressed as JSON Schema (${(err as Error).message}); use plain zod types (objects, strings, numbers, enums, arrays).`);
  }
  const parsed = params.safeParse({});
  const defaults = parsed.success ? (parsed.data as Record<string, unknown>) : defaultsOnly(jsonSchema);
  return { defaults, jsonSchema, schema: params };
}

/** Default values declared in a JSON Schema's top-level properties (when some fields are required). */
function defaultsOnly(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = (schema.properties ?? {}) as Record<string, { default?: unknown }>;
  for (const [k, v] of Object.entries(props)) if (v && "default" in v) out[k] = v.default;
  return out;
}
