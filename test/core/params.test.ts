import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { resolveParams } from "../../src/core/params.js";
import { paramsSpec, type ParamsInput } from "../../src/sdk/params.js";

/**
 * What the parser stores for a DAG's params, round-tripped through JSON as the
 * database does: resolveParams must work without the zod schema (a scheduler or
 * API process never loads the DAG file).
 */
function stored(id: string, params: ParamsInput) {
  const p = paramsSpec(params, (message) => {
    throw new Error(message);
  });
  return JSON.parse(JSON.stringify({ id, params: p.defaults, paramsSchema: p.jsonSchema })) as {
    id: string;
    params: Record<string, unknown>;
    paramsSchema?: Record<string, unknown>;
  };
}

function invalid(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.ParamsInvalid);
    return err;
  }
  assert.fail("expected the params to be rejected");
}

const features = z.object({
  rows: z.number().int().min(100).max(1_000_000).default(5_000),
  noise: z.number().min(0).default(0.3),
  mode: z.enum(["fast", "full"]).default("fast"),
  tags: z.array(z.string()).default([]),
});

describe("resolveParams", () => {
  it("applies every default when the conf is empty", () => {
    assert.deepEqual(resolveParams(stored("ml", features), {}), { rows: 5_000, noise: 0.3, mode: "fast", tags: [] });
  });

  it("overlays the conf on the defaults", () => {
    assert.deepEqual(resolveParams(stored("ml", features), { rows: 20_000, mode: "full" }), { rows: 20_000, noise: 0.3, mode: "full", tags: [] });
  });

  it("rejects a value of the wrong type, naming the DAG and the field", () => {
    const err = invalid(() => resolveParams(stored("ml", features), { rows: "many" }));
    assert.match(err.message, /^DAG "ml"/);
    assert.match(err.message, /rows: .*expected number/);
    assert.deepEqual((err.details?.fields as { field: string }[]).map((f) => f.field), ["rows"]);
  });

  it("lists every bad field at once", () => {
    const err = invalid(() => resolveParams(stored("ml", features), { rows: 1.5, mode: "slow", tags: [1] }));
    const fields = (err.details?.fields as { field: string }[]).map((f) => f.field).sort();
    assert.deepEqual(fields, ["mode", "rows", "tags.0"]);
    for (const f of fields) assert.ok(err.message.includes(`${f}:`), `message names ${f}: ${err.message}`);
    assert.match(err.message, /fast/, "an enum error shows the allowed values");
  });

  it("enforces the schema's bounds", () => {
    const err = invalid(() => resolveParams(stored("ml", features), { rows: 5 }));
    assert.match(err.message, /rows: .*100/);
    assert.deepEqual(resolveParams(stored("ml", features), { rows: 100 }).rows, 100);
  });

  it("names nested fields by their path", () => {
    const nested = z.object({ limits: z.object({ max: z.number().default(10) }).default({ max: 10 }) });
    assert.deepEqual(resolveParams(stored("n", nested), {}), { limits: { max: 10 } });
    const err = invalid(() => resolveParams(stored("n", nested), { limits: { max: "ten" } }));
    assert.match(err.message, /limits\.max:/);
  });

  it("requires a param without default, and still keeps the other defaults", () => {
    const s = stored("req", z.object({ dataset: z.string(), rows: z.number().default(7) }));
    assert.deepEqual(s.params, { rows: 7 });
    const err = invalid(() => resolveParams(s, {}));
    assert.match(err.message, /dataset:/);
    assert.deepEqual(resolveParams(s, { dataset: "iris" }), { dataset: "iris", rows: 7 });
  });

  it("rejects a conf that is not a JSON object", () => {
    for (const conf of [null, [], "rows=5", 5, true]) {
      const err = invalid(() => resolveParams(stored("ml", features), conf as unknown as Record<string, unknown>));
      assert.match(err.message, /DAG "ml": conf must be a JSON object/, JSON.stringify(conf));
    }
  });

  it("merges plain default values without validating them", () => {
    const s = stored("plain", { rows: 10, label: "x" });
    assert.equal(s.paramsSchema, undefined);
    assert.deepEqual(resolveParams(s, { rows: "anything" }), { rows: "anything", label: "x" });
  });

  it("does not modify the stored defaults", () => {
    const s = stored("ml", features);
    const before = JSON.stringify(s.params);
    resolveParams(s, { rows: 999 });
    assert.equal(JSON.stringify(s.params), before);
  });
});
