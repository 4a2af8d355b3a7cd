/**
 * The spark-operator's SparkApplication CRD (schemas/spark-operator/, a copy
 * of the operator's release file) as an ajv validator, checking an object the
 * way an API server with the CRD installed does with strict field
 * validation: types, enums, minimums and required fields from the
 * openAPIV3Schema, and unknown fields rejected (a real server would prune
 * them silently, which would hide a misspelt field from the tests).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";
import { parse } from "yaml";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const CRD_FILE = join(REPO_ROOT, "schemas", "spark-operator", "sparkoperator.k8s.io_sparkapplications.yaml");

type Schema = Record<string, any>;

/** Close every object schema that lists its properties (unless it says unknown fields are kept). */
function strictFields(s: Schema): Schema {
  if (!s || typeof s !== "object") return s;
  if (Array.isArray(s)) return s.map(strictFields);
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, strictFields(ps as Schema)])) : strictFields(v as Schema);
  if (out.type === "object" && out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
  return out;
}

export interface CrdValidator {
  /** Problems with `obj` as the API server words them ("spec.executor.cores: must be >= 1"), empty when valid. */
  (obj: unknown): string[];
}

let cached: CrdValidator | undefined;

export function sparkApplicationValidator(): CrdValidator {
  if (cached) return cached;
  const crd = parse(readFileSync(CRD_FILE, "utf8")) as Schema;
  const version = (crd.spec.versions as Schema[]).find((v) => v.name === "v1beta2");
  if (!version) throw new Error(`${CRD_FILE} has no v1beta2 version`);
  const schema = strictFields(version.schema.openAPIV3Schema);
  // The API server checks metadata itself (name rules); the CRD schema leaves it open.
  schema.properties.metadata = { type: "object" };
  schema.properties.apiVersion = { type: "string", enum: ["sparkoperator.k8s.io/v1beta2"] };
  schema.properties.kind = { type: "string", enum: ["SparkApplication"] };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  cached = (obj) =>
    validate(obj)
      ? []
      : (validate.errors ?? []).map((e: ErrorObject) => {
          const where = e.instancePath.replace(/^\//, "").replaceAll("/", ".") || "(root)";
          const extra = e.keyword === "additionalProperties" ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : "";
          return `${where}: ${e.message}${extra}`;
        });
  return cached;
}
