/**
 * Validators for rendered manifests, built from the vendored schemas:
 * schemas/kubernetes/definitions.json (the official Kubernetes OpenAPI
 * definitions of the kinds Sluice renders) and the KEDA ScaledObject CRD.
 * Strict like `kubectl apply --validate=strict`: unknown fields are errors,
 * as in kubeconform's strict schemas, so a misspelt field cannot pass. Lists
 * the schema declares as maps (`x-kubernetes-list-type: map`: containers,
 * volumes and env by name, ...) or sets must not repeat a key, as server-side
 * apply requires (the API server also refuses two containers or volumes of one
 * name on create; two env entries of one name it takes, the last one winning).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { parse } from "yaml";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const K8S_DEFINITIONS = join(REPO_ROOT, "schemas", "kubernetes", "definitions.json");
export const KEDA_CRD = join(REPO_ROOT, "schemas", "keda", "keda.sh_scaledobjects.yaml");

type Schema = Record<string, any>;

/** Close every object schema that lists its properties (unless it keeps unknown fields), like the strict schemas do. */
function strict(s: Schema): Schema {
  if (!s || typeof s !== "object") return s;
  if (Array.isArray(s)) return s.map(strict);
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Schema).map(([p, ps]) => [p, strict(ps as Schema)])) : strict(v as Schema);
  if (out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"]) out.additionalProperties = false;
  if (out["x-kubernetes-list-type"] === "set") out.uniqueItems = true;
  return out;
}

/** `x-kubernetes-list-map-keys` of a `x-kubernetes-list-type: map` list: no two items with the same keys. */
function listMapKeys(ajv: Ajv): void {
  const check = (keys: string[], data: unknown[], parent?: Schema): boolean => {
    if (parent?.["x-kubernetes-list-type"] !== "map") return true;
    const seen = new Map<string, number>();
    const errors: Partial<ErrorObject>[] = [];
    data.forEach((item, i) => {
      if (!item || typeof item !== "object") return;
      const key = keys.map((k) => `${k}=${JSON.stringify((item as Record<string, unknown>)[k])}`).join(",");
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else errors.push({ keyword: "x-kubernetes-list-map-keys", message: `items ${first} and ${i} have the same key (${key})`, params: { keys } });
    });
    (check as unknown as { errors: Partial<ErrorObject>[] }).errors = errors;
    return errors.length === 0;
  };
  ajv.addKeyword({ keyword: "x-kubernetes-list-map-keys", type: "array", schemaType: "array", errors: true, validate: check });
}

function words(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath.replace(/^\//, "").replaceAll("/", ".") || "(root)";
    const extra = e.keyword === "additionalProperties" ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : "";
    return `${where}: ${e.message}${extra}`;
  });
}

export interface ManifestValidator {
  /** Problems with one object, empty when it is valid; unknown kinds are a problem too. */
  (obj: { apiVersion?: unknown; kind?: unknown }): string[];
  /** "apps/v1/Deployment", ... every kind the validator knows. */
  kinds: string[];
}

let cached: ManifestValidator | undefined;

export function manifestValidator(): ManifestValidator {
  if (cached) return cached;
  const { kinds, definitions } = JSON.parse(readFileSync(K8S_DEFINITIONS, "utf8")) as { kinds: Record<string, string>; definitions: Record<string, Schema> };
  const defs: Record<string, Schema> = {};
  for (const [name, def] of Object.entries(definitions)) defs[name] = strict(def);
  // OpenAPI v2 spells IntOrString as a string with a format; the API server takes either.
  defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = { anyOf: [{ type: "string" }, { type: "integer" }] };
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  listMapKeys(ajv);
  ajv.addSchema({ $id: "k8s", definitions: defs });
  const byKind = new Map<string, ValidateFunction>();
  for (const [gvk, def] of Object.entries(kinds)) {
    const [apiVersion, kind] = [gvk.slice(0, gvk.lastIndexOf("/")), gvk.slice(gvk.lastIndexOf("/") + 1)];
    byKind.set(
      `${apiVersion}/${kind}`,
      ajv.compile({
        allOf: [{ $ref: `k8s#/definitions/${def}` }],
        properties: { apiVersion: { const: apiVersion }, kind: { const: kind } },
        required: ["apiVersion", "kind", "metadata"],
      }),
    );
  }
  // KEDA's CRD leaves metadata open (the API server checks it); use the real ObjectMeta instead.
  const crd = parse(readFileSync(KEDA_CRD, "utf8")) as Schema;
  const v1alpha1 = (crd.spec.versions as Schema[]).find((v) => v.name === "v1alpha1");
  if (!v1alpha1) throw new Error(`${KEDA_CRD} has no v1alpha1 version`);
  const so = strict(v1alpha1.schema.openAPIV3Schema);
  so.properties.metadata = { $ref: "k8s#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" };
  so.properties.apiVersion = { const: "keda.sh/v1alpha1" };
  so.properties.kind = { const: "ScaledObject" };
  so.required = [...new Set([...(so.required ?? []), "apiVersion", "kind", "metadata", "spec"])];
  byKind.set("keda.sh/v1alpha1/ScaledObject", ajv.compile(so));

  const validate = ((obj) => {
    const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
    const fn = byKind.get(key);
    if (!fn) return [`(root): no schema for ${key}; known: ${[...byKind.keys()].join(", ")}`];
    return fn(obj) ? [] : words(fn.errors);
  }) as ManifestValidator;
  validate.kinds = [...byKind.keys()];
  cached = validate;
  return cached;
}
