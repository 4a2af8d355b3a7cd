/**
 * Turns a DAG's params JSON Schema into form fields and back: each property
 * becomes a text, number, checkbox, select or JSON field, pre-filled with its
 * default. Values stay strings while edited so a half-typed number is not lost.
 */
import type { JsonSchema } from "../api/types";

export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum" | "json";

export interface ParamField {
  name: string;
  kind: FieldKind;
  required: boolean;
  label: string;
  description?: string;
  options?: unknown[];
  nullable: boolean;
  schema: JsonSchema;
  /** Initial value as the form holds it. */
  initial: string | boolean;
}

/** The non-null branch of `anyOf: [X, {type: "null"}]` (zod's .nullable()/.optional() output). */
function unwrap(s: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const alts = s.anyOf ?? s.oneOf;
  if (alts) {
    const nonNull = alts.filter((a) => a.type !== "null");
    if (nonNull.length === 1) return { schema: { ...nonNull[0], default: s.default ?? nonNull[0].default, description: s.description ?? nonNull[0].description }, nullable: nonNull.length < alts.length };
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== "null");
    return { schema: { ...s, type: types.length === 1 ? types[0] : types }, nullable: types.length < s.type.length };
  }
  return { schema: s, nullable: false };
}

function kindOf(s: JsonSchema): FieldKind {
  if (Array.isArray(s.enum) && s.enum.length > 0) return "enum";
  if (s.const !== undefined) return "enum";
  switch (s.type) {
    case "string":
      return "string";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

function initialOf(kind: FieldKind, value: unknown): string | boolean {
  if (kind === "boolean") return value === true;
  if (value === undefined || value === null) return "";
  if (kind === "json") return JSON.stringify(value, null, 2);
  if (kind === "enum") return JSON.stringify(value);
  return String(value);
}

export function fieldsOf(schema: JsonSchema | null, defaults: Record<string, unknown>): ParamField[] {
  const props = schema?.properties;
  if (!props) {
    // No schema: one field per default param, typed by its value.
    return Object.entries(defaults).map(([name, v]) => {
      const kind: FieldKind = typeof v === "boolean" ? "boolean" : typeof v === "number" ? "number" : typeof v === "string" ? "string" : "json";
      return { name, kind, required: false, label: name, nullable: false, schema: {}, initial: initialOf(kind, v) };
    });
  }
  const required = new Set(schema.required ?? []);
  return Object.entries(props).map(([name, raw]) => {
    const { schema: s, nullable } = unwrap(raw);
    const kind = kindOf(s);
    const value = name in defaults ? defaults[name] : s.default;
    return {
      name,
      kind,
      // A field with a default is filled in for the user, so it never blocks the form.
      required: required.has(name) && value === undefined,
      label: s.title ?? name,
      description: s.description,
      options: kind === "enum" ? (s.enum ?? [s.const]) : undefined,
      nullable,
      schema: s,
      initial: initialOf(kind, value),
    };
  });
}

export type FormValues = Record<string, string | boolean>;

/** Form values to conf; field errors for what cannot be read (bad JSON, not a number). */
export function toConf(fields: ParamField[], values: FormValues): { conf: Record<string, unknown>; errors: Record<string, string> } {
  const conf: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.kind === "boolean") {
      conf[f.name] = v === true;
      continue;
    }
    const text = typeof v === "string" ? v : "";
    if (text.trim() === "") {
      if (f.required) errors[f.name] = "Required.";
      continue;
    }
    switch (f.kind) {
      case "string":
        conf[f.name] = text;
        break;
      case "number":
      case "integer": {
        const n = Number(text);
        if (!Number.isFinite(n)) errors[f.name] = "Enter a number.";
        else if (f.kind === "integer" && !Number.isInteger(n)) errors[f.name] = "Enter a whole number.";
        else conf[f.name] = n;
        break;
      }
      case "enum":
        conf[f.name] = JSON.parse(text);
        break;
      case "json":
        try {
          conf[f.name] = JSON.parse(text);
        } catch (err) {
          errors[f.name] = `Not valid JSON: ${(err as Error).message}`;
        }
        break;
    }
  }
  return { conf, errors };
}

/** A short hint from the schema's bounds, e.g. "integer, 100 – 1000000". */
export function hintOf(f: ParamField): string {
  const s = f.schema;
  const parts: string[] = [];
  if (f.kind === "integer") parts.push("integer");
  if (f.kind === "number") parts.push("number");
  if (f.kind === "json") parts.push(s.type === "array" ? "JSON array" : "JSON object");
  const min = s.minimum ?? s.exclusiveMinimum;
  const max = s.maximum ?? s.exclusiveMaximum;
  if (min !== undefined && max !== undefined) parts.push(`${min} – ${max}`);
  else if (min !== undefined) parts.push(`≥ ${min}`);
  else if (max !== undefined) parts.push(`≤ ${max}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) parts.push(`length ${s.minLength ?? 0}–${s.maxLength ?? "∞"}`);
  if (s.format) parts.push(s.format);
  return parts.join(", ");
}
