import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { typecheckFixtures, type FileDiagnostics } from "../helpers/typecheck.js";

/**
 * Compile-time test of the authoring API: DAG files are type-checked with the
 * TypeScript compiler against the built SDK (dist/src/index.d.ts), the way a
 * user's editor and `tsc` see them. "sluice" is mapped to the built SDK with
 * tsconfig `paths`, as a DAG folder without its own node_modules would have it.
 *
 * Every fixture is a root of ONE program, so lib, @types/node and zod are
 * loaded and checked once (a few seconds), not once per fixture.
 */


/** Lines marked with this comment must carry a compile error; no other line may. */
const MARK = "// @error";

const PRELUDE = `import { dag } from "sluice";
import { z } from "zod";
`;

/** A DAG that uses every typed feature correctly. */
const CORRECT = `${PRELUDE}
const params = z.object({ rows: z.number().int().default(100), label: z.string().default("x") });

export default dag({ id: "typed", params, retries: 1 }, (d) => {
  const extract = d.task("extract", async (ctx) => {
    const rows: number = ctx.params.rows;
    const label: string = ctx.params.label;
    return { path: "/tmp/" + label + ".csv", rows };
  });
  const count = d.task("count", (_ctx) => 42);
  const listing = d.shell("listing", "ls");

  // Upstream handles arrive keyed by task id, with their result types (async results unwrapped).
  d.task("by_id", async (_ctx, inputs) => {
    const p: string = inputs.extract.path;
    const n: number = inputs.count + inputs.extract.rows;
    const s: string = inputs.listing;
    return p.length + n + s.length;
  }, { upstream: [extract, count, listing] });

  // Named inputs have their producer's type.
  const report = d.task("named", async (_ctx, { raw, total }) => {
    const upper: string = raw.path.toUpperCase();
    return { upper, total: total.toFixed(1) };
  }, { inputs: { raw: extract, total: count } });

  // A result type flows on to the next task.
  d.task("last", async (_ctx, { r }) => r.upper.length + r.total.length, { inputs: { r: report } });

  // A mapped task gets one element of the list as inputs.item; downstream sees an array of its results.
  const parts = d.task("parts", async () => [{ path: "/a", rows: 1 }, { path: "/b", rows: 2 }]);
  const sizes = d.task("sizes", async (ctx, { item }) => {
    const p: string = item.path;
    return { idx: ctx.mapIndex, rows: item.rows + p.length };
  }, { expand: parts, maxMapLength: 10, maxActiveMapped: 2 });
  d.task("total", async (_ctx, { sizes }) => sizes.reduce((a, s) => a + s.rows + s.idx, 0), { upstream: [sizes] });
  const counted = d.duckdb("counted", { expand: parts, sql: "select count(*) as n from input", output: (ctx) => "/tmp/out-" + ctx.mapIndex + ".parquet" });
  d.task("rows", async (_ctx, { c }) => c.map((r) => r.rows + (r.output?.bytes ?? 0)), { inputs: { c: counted } });
  d.spark("agg", { application: "jobs/agg.py", args: (ctx, { parts }) => [ctx.runId, String(parts.length)], upstream: [parts] });

  // An explicit, correct annotation of the inputs is accepted.
  d.task("annotated", async (_ctx, inputs: { extract: { path: string; rows: number } }) => inputs.extract.rows, { upstream: [extract] });
});
`;

/** Fixtures that must NOT compile, each with the offending line marked. */
const BROKEN: Record<string, string> = {
  mapped_item_wrong_type: `${PRELUDE}
dag({ id: "w_map1" }, (d) => {
  const parts = d.task("parts", async () => [{ path: "/a" }]);
  d.task("use", async (_ctx, { item }) => item.path.toFixed(1), { expand: parts }); ${MARK}
});
`,
  mapped_result_is_array: `${PRELUDE}
dag({ id: "w_map2" }, (d) => {
  const parts = d.task("parts", async () => [1, 2]);
  const doubled = d.task("doubled", async (_ctx, { item }) => item * 2, { expand: parts });
  d.task("use", async (_ctx, { doubled }) => doubled.toFixed(1), { upstream: [doubled] }); ${MARK}
});
`,
  expand_over_non_list: `${PRELUDE}
dag({ id: "w_map3" }, (d) => {
  const one = d.task("one", async () => ({ n: 1 }));
  d.task("use", async () => 1, { expand: one }); ${MARK}
});
`,
  wrong_upstream_type: `${PRELUDE}
dag({ id: "w1" }, (d) => {
  const extract = d.task("extract", async () => ({ path: "/data/x.csv" }));
  d.task("load", async (_ctx, inputs) => {
    return inputs.extract.path.toFixed(2); ${MARK}
  }, { upstream: [extract] });
});
`,
  unknown_upstream_name: `${PRELUDE}
dag({ id: "w8" }, (d) => {
  const extract = d.task("extract", async () => ({ path: "/data/x.csv" }));
  d.task("load", async (_ctx, inputs) => inputs.extrakt.path, { upstream: [extract] }); ${MARK}
});
`,
  wrong_inputs_annotation: `${PRELUDE}
dag({ id: "w2" }, (d) => {
  const extract = d.task("extract", async () => ({ path: "/data/x.csv" }));
  d.task("load", async (_ctx, inputs: { extract: number }) => inputs.extract + 1, { upstream: [extract] }); ${MARK}
});
`,
  named_input_wrong_type: `${PRELUDE}
dag({ id: "w3" }, (d) => {
  const extract = d.task("extract", async () => ({ path: "/data/x.csv", rows: 3 }));
  d.task("load", async (_ctx, { raw }) => {
    const rows: number = raw.rows;
    const path: number = raw.path; ${MARK}
    return rows + path;
  }, { inputs: { raw: extract } });
});
`,
  unknown_input_name: `${PRELUDE}
dag({ id: "w4" }, (d) => {
  const extract = d.task("extract", async () => ({ path: "/data/x.csv" }));
  d.task("load", async (_ctx, inputs) => {
    return inputs.rawData.path; ${MARK}
  }, { inputs: { raw: extract } });
});
`,
  missing_param: `${PRELUDE}
const params = z.object({ rows: z.number().default(100) });
dag({ id: "w5", params }, (d) => {
  d.task("a", async (ctx) => {
    const ok: number = ctx.params.rows;
    return ok + ctx.params.columns; ${MARK}
  });
});
`,
  wrong_param_type: `${PRELUDE}
const params = z.object({ rows: z.number().default(100) });
dag({ id: "w6", params }, (d) => {
  d.task("a", async (ctx) => {
    const label: string = ctx.params.rows; ${MARK}
    return label;
  });
});
`,
  shell_result_is_string: `${PRELUDE}
dag({ id: "w7" }, (d) => {
  const ls = d.shell("ls", "ls");
  d.task("b", async (_ctx, { out }) => out.toFixed(), { inputs: { out: ls } }); ${MARK}
});
`,
};

describe("authoring API types (compile-time)", () => {
  let dir: string;
  let results: Map<string, FileDiagnostics>;

  before(() => {
    ({ dir, byName: results } = typecheckFixtures({ correct: CORRECT, ...BROKEN }));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Line numbers (1-based) of the marked lines of a fixture. */
  const markedLines = (text: string) => text.split("\n").flatMap((l, i) => (l.includes(MARK) ? [i + 1] : []));

  it("compiles a correct DAG with typed params, upstream results and named inputs without errors", () => {
    assert.deepEqual(results.get("correct")?.messages, []);
  });

  const expectations: Record<string, RegExp> = {
    mapped_item_wrong_type: /toFixed.*does not exist on type 'string'/,
    mapped_result_is_array: /toFixed.*does not exist on type 'number\[\]'/,
    expand_over_non_list: /not assignable to type 'ListHandle'|not assignable to type 'TaskHandle<string, readonly unknown\[\]>'/,
    wrong_upstream_type: /toFixed.*does not exist on type 'string'/,
    unknown_upstream_name: /extrakt.*does not exist/,
    wrong_inputs_annotation: /extract.*number|number.*extract/s,
    named_input_wrong_type: /Type 'string' is not assignable to type 'number'/,
    unknown_input_name: /rawData.*does not exist/,
    missing_param: /columns.*does not exist/,
    wrong_param_type: /Type 'number' is not assignable to type 'string'/,
    shell_result_is_string: /toFixed.*does not exist on type 'string'/,
  };

  for (const [name, text] of Object.entries(BROKEN)) {
    it(`rejects ${name.replaceAll("_", " ")} on the marked line`, () => {
      const r = results.get(name);
      assert.ok(r);
      assert.ok(r.messages.length > 0, `${name} should not compile`);
      assert.deepEqual(r.lines, markedLines(text), `errors only on the marked line:\n${r.messages.join("\n")}`);
      assert.match(r.messages.join("\n"), expectations[name]);
    });
  }
});
