/**
 * The dataset-schedule condition model: evaluation over the URIs that
 * updated, simplification, the words the UI and API show, the URIs it
 * mentions, and the check applied to stored JSON.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { datasetRefs, dagVersionHash, type DagSpec } from "../../src/core/dagSpec.js";
import {
  conditionText,
  conditionUris,
  describeCondition,
  evaluate,
  isDatasetCondition,
  MAX_CONDITION_DEPTH,
  simplifyCondition,
  type DatasetCondition,
} from "../../src/core/datasetSchedule.js";

const A = { uri: "s3://a" };
const B = { uri: "s3://b" };
const C = { uri: "s3://c" };
/** a and (b or c): the example. */
const NESTED: DatasetCondition = { all: [A, { any: [B, C] }] };

const updated = (...uris: string[]) => new Set(uris);

describe("evaluate", () => {
  it("a single dataset holds once it updated", () => {
    assert.equal(evaluate(A, updated()), false);
    assert.equal(evaluate(A, updated("s3://b")), false);
    assert.equal(evaluate(A, updated("s3://a")), true);
  });

  it('"all" waits for every dataset; "any" needs one', () => {
    const all = { all: [A, B] };
    assert.equal(evaluate(all, updated("s3://a")), false);
    assert.equal(evaluate(all, updated("s3://b")), false);
    assert.equal(evaluate(all, updated("s3://a", "s3://b")), true);
    const any = { any: [A, B] };
    assert.equal(evaluate(any, updated()), false);
    assert.equal(evaluate(any, updated("s3://b")), true);
    assert.equal(evaluate(any, updated("s3://c")), false);
  });

  it("nests: a and (b or c)", () => {
    const cases: [string[], boolean][] = [
      [[], false],
      [["s3://a"], false],
      [["s3://b", "s3://c"], false],
      [["s3://a", "s3://b"], true],
      [["s3://a", "s3://c"], true],
      [["s3://a", "s3://b", "s3://c", "s3://other"], true],
    ];
    for (const [uris, expected] of cases) assert.equal(evaluate(NESTED, updated(...uris)), expected, uris.join(","));
    const orOfAnds: DatasetCondition = { any: [{ all: [A, B] }, C] };
    assert.equal(evaluate(orOfAnds, updated("s3://a")), false);
    assert.equal(evaluate(orOfAnds, updated("s3://a", "s3://b")), true);
    assert.equal(evaluate(orOfAnds, updated("s3://c")), true);
  });
});

describe("description", () => {
  it('reads as a sentence, with the verb agreeing and parentheses only around nested groups', () => {
    assert.equal(describeCondition(A), "when s3://a updates");
    assert.equal(describeCondition({ all: [A, B] }), "when s3://a and s3://b update");
    assert.equal(describeCondition({ any: [A, B] }), "when s3://a or s3://b updates");
    assert.equal(describeCondition(NESTED), "when s3://a and (s3://b or s3://c) update");
    assert.equal(conditionText({ any: [{ all: [A, B] }, C] }), "(s3://a and s3://b) or s3://c");
  });
});

describe("simplifyCondition", () => {
  it("merges groups into groups of their kind, drops repeats and unwraps groups of one", () => {
    assert.deepEqual(simplifyCondition({ all: [A, { all: [B, { all: [C] }] }] }), { all: [A, B, C] });
    assert.deepEqual(simplifyCondition({ any: [A, A, { any: [A, B] }] }), { any: [A, B] });
    assert.deepEqual(simplifyCondition({ all: [{ any: [A] }] }), A);
    assert.deepEqual(simplifyCondition({ all: [{ any: [B, C] }, { any: [C, B] }, { any: [B, C] }] }), { all: [{ any: [B, C] }, { any: [C, B] }] }, "equal groups written alike collapse");
    assert.deepEqual(simplifyCondition(NESTED), NESTED, "a mixed nesting stays as written");
  });
});

describe("conditionUris", () => {
  it("lists each URI once in order of first mention", () => {
    assert.deepEqual(conditionUris({ any: [{ all: [B, A] }, { all: [A, C] }] }), ["s3://b", "s3://a", "s3://c"]);
    assert.deepEqual(conditionUris(A), ["s3://a"]);
  });

  it("become the DAG-level consumer refs of the spec (taskId null), beside task inlets", () => {
    const spec: DagSpec = {
      id: "report",
      fileloc: "report.ts",
      schedule: null,
      datasetSchedule: NESTED,
      timezone: "UTC",
      catchup: false,
      maxActiveRuns: 1,
      maxActiveTasks: 1,
      params: {},
      tags: [],
      tasks: [
        {
          id: "t",
          kind: "function",
          upstream: [],
          retries: 0,
          retryDelayMs: 0,
          retryExponentialBackoff: false,
          maxRetryDelayMs: 0,
          triggerRule: "all_success",
          pool: "default_pool",
          poolSlots: 1,
          priorityWeight: 1,
          queue: "default",
          inlets: ["s3://a"],
        },
      ],
    };
    assert.deepEqual(datasetRefs(spec), [
      { uri: "s3://a", taskId: "t", kind: "consumer" },
      { uri: "s3://a", taskId: null, kind: "consumer" },
      { uri: "s3://b", taskId: null, kind: "consumer" },
      { uri: "s3://c", taskId: null, kind: "consumer" },
    ]);
    const { datasetSchedule: _ds, ...plain } = spec;
    assert.deepEqual(datasetRefs(plain), [{ uri: "s3://a", taskId: "t", kind: "consumer" }]);
    assert.notEqual(dagVersionHash(spec), dagVersionHash({ ...spec, datasetSchedule: { all: [A, B] } }), "the condition is part of the version");
  });
});

describe("isDatasetCondition", () => {
  it("accepts well-formed trees and refuses anything else", () => {
    for (const ok of [A, NESTED, { any: [{ all: [A, B] }, C] }]) assert.equal(isDatasetCondition(ok), true, JSON.stringify(ok));
    const bad: unknown[] = [
      null,
      "s3://a",
      [A],
      {},
      { uri: "" },
      { uri: 3 },
      { all: [] },
      { any: "s3://a" },
      { all: [A], any: [B] },
      { uri: "s3://a", extra: 1 },
      { none: [A] },
      { all: [A, { any: [null] }] },
    ];
    for (const value of bad) assert.equal(isDatasetCondition(value), false, JSON.stringify(value));
  });

  it("refuses nesting deeper than the limit", () => {
    let deep: DatasetCondition = A;
    for (let i = 0; i < MAX_CONDITION_DEPTH; i++) deep = { all: [deep] };
    assert.equal(isDatasetCondition(deep), true);
    assert.equal(isDatasetCondition({ all: [deep] }), false);
  });
});
