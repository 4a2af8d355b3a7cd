import { z } from "zod";
import type { DagSpec } from "./dagSpec.js";
import { ErrorCode, SluiceError } from "./errors.js";

/**
 * Params for a new run: the DAG's defaults overlaid with the trigger's conf,
 * validated against the stored params JSON Schema. Errors list every bad field.
 */
export function resolveParams(spec: Pick<DagSpec, "id" | "params" | "paramsSchema">, conf: Record<string, unknown>): Record<string, unknown> {
  if (typeof conf !== "object" || conf === null || Array.isArray(conf)) {
    throw new SluiceError(ErrorCode.ParamsInvalid, `DAG "${spec.id}": conf must be a JSON object, like {"rows": 1000}.`);
  }
  const merged = { ...spec.params, ...conf };
  if (!spec.paramsSchema) return merged;
  const schema = z.fromJSONSchema(spec.paramsSchema as Parameters<typeof z.fromJSONSchema>[0]);
  const r = schema.safeParse(merged);
  if (r.success) return r.data as Record<string, unknown>;
  const fields = r.error.issues.map((i) => ({ field: i.path.join(".") || "(root)", message: i.message }));
  throw new SluiceError(
    ErrorCode.ParamsInvalid,
    `DAG "${spec.id}": invalid params — ${fields.map((f) => `${f.field}: ${f.message}`).join("; ")}. Fix the conf to match the DAG's params schema.`,
    { details: { fields } },
  );
}
