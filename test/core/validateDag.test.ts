import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { findCycle, validateDagStructure } from "../../src/core/validateDag.js";

type Node = { id: string; upstream: string[] };
const nodes = (graph: Record<string, string[]>): Node[] => Object.entries(graph).map(([id, upstream]) => ({ id, upstream }));

function caught(fn: () => void): SluiceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected an error, nothing was thrown");
}

/** Every rotation of a cycle written in run order, e.g. a -> b -> c -> a, b -> c -> a -> b, ... */
function rotations(cycle: string[]): string[] {
  return cycle.map((_, i) => {
    const r = [...cycle.slice(i), ...cycle.slice(0, i)];
    return [...r, r[0]].join(" -> ");
  });
}

/** A returned path is a real cycle in run order: closed, and each step is an edge upstream -> downstream. */
function assertIsCycle(graph: Record<string, string[]>, path: string[] | undefined): void {
  assert.ok(path, "expected a cycle");
  assert.ok(path.length >= 2);
  assert.equal(path[0], path[path.length - 1], "the path starts and ends on the same task");
  for (let i = 1; i < path.length; i++) {
    assert.ok(graph[path[i]].includes(path[i - 1]), `${path[i - 1]} -> ${path[i]} is not an edge (${path[i]} does not depend on ${path[i - 1]})`);
  }
  assert.equal(new Set(path).size, path.length - 1, "no task repeats inside the cycle");
}

describe("validateDagStructure", () => {
  it("accepts chains, fan-out/fan-in and diamonds", () => {
    validateDagStructure("ok", nodes({ a: [], b: ["a"], c: ["a"], d: ["b", "c"], e: ["d", "a"] }));
    validateDagStructure("single", nodes({ only: [] }));
    assert.equal(findCycle(nodes({ a: [], b: ["a"], c: ["a"], d: ["b", "c"] })), undefined, "a diamond is not a cycle");
  });

  it("reports a three-task cycle as a path in run order", () => {
    const graph = { a: ["c"], b: ["a"], c: ["b"] };
    const err = caught(() => validateDagStructure("etl", nodes(graph)));
    assert.equal(err.code, ErrorCode.DagCycle);
    assert.match(err.message, /^DAG "etl"/);
    const shown = rotations(["a", "b", "c"]).find((p) => err.message.includes(p));
    assert.ok(shown, `message shows the cycle as a path like "a -> b -> c -> a": ${err.message}`);
    assert.deepEqual(err.details?.cycle, shown.split(" -> "));
    // The reverse direction would be wrong: c does not depend on a.
    assert.ok(!rotations(["a", "c", "b"]).some((p) => err.message.includes(p)), "cycle must read in run order");
  });

  it("reports a two-task cycle as a -> b -> a", () => {
    const err = caught(() => validateDagStructure("pair", nodes({ a: ["b"], b: ["a"] })));
    assert.ok(err.message.includes("a -> b -> a") || err.message.includes("b -> a -> b"), err.message);
  });

  it("names only the tasks on the cycle, not the tasks leading to or hanging off it", () => {
    const graph = { start: [], x: ["start", "z"], y: ["x"], z: ["y"], after: ["z"], other: ["start"] };
    const path = findCycle(nodes(graph));
    assertIsCycle(graph, path);
    assert.deepEqual(new Set(path), new Set(["x", "y", "z"]));
    const err = caught(() => validateDagStructure("big", nodes(graph)));
    assert.ok(rotations(["x", "y", "z"]).some((p) => err.message.includes(p)), err.message);
    assert.doesNotMatch(err.message, /start|after|other/);
  });

  it("finds a cycle whatever task the search starts from", () => {
    const graph = { a: ["d"], b: ["a"], c: ["b"], d: ["c"] };
    const order = nodes(graph);
    for (let i = 0; i < order.length; i++) {
      const rotated = [...order.slice(i), ...order.slice(0, i)];
      assertIsCycle(graph, findCycle(rotated));
    }
  });

  it("reports a self-dependency plainly", () => {
    const err = caught(() => validateDagStructure("selfish", nodes({ a: [], b: ["a", "b"] })));
    assert.equal(err.code, ErrorCode.DagCycle);
    assert.match(err.message, /DAG "selfish"/);
    assert.match(err.message, /task "b" depends on itself/);
  });

  it("reports an unknown upstream with a did-you-mean suggestion", () => {
    const err = caught(() => validateDagStructure("etl", nodes({ extract: [], transform: ["extract"], load: ["transfrom"] })));
    assert.equal(err.code, ErrorCode.DagUnknownTask);
    assert.match(err.message, /DAG "etl"/);
    assert.match(err.message, /task "load" depends on "transfrom", which does not exist/);
    assert.match(err.message, /did you mean "transform"\?/);
    assert.deepEqual(err.details, { task: "load", missing: "transfrom" });
  });

  it("does not suggest anything when no task id is close", () => {
    const err = caught(() => validateDagStructure("etl", nodes({ extract: [], load: ["zzzzzzzz"] })));
    assert.equal(err.code, ErrorCode.DagUnknownTask);
    assert.match(err.message, /"zzzzzzzz", which does not exist/);
    assert.doesNotMatch(err.message, /did you mean/);
  });

  it("names the DAG file when it is known", () => {
    const err = caught(() => validateDagStructure("etl", nodes({ a: ["b"], b: ["a"] }), { file: "dags/etl.ts", line: 3 }));
    assert.match(err.message, /DAG "etl" \(dags\/etl\.ts\)/);
    assert.equal(err.location?.file, "dags/etl.ts");
  });

  it("handles thousands of tasks without overflowing the stack", () => {
    const n = 20_000;
    const graph: Record<string, string[]> = {};
    for (let i = 0; i < n; i++) graph[`t${i}`] = i ? [`t${i - 1}`] : [];
    validateDagStructure("long", nodes(graph));
    graph.t0 = [`t${n - 1}`];
    const path = findCycle(nodes(graph));
    assertIsCycle(graph, path);
    assert.equal(path!.length, n + 1);
  });
});
