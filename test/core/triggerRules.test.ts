import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TaskState } from "../../src/core/states.js";
import { evaluateTriggerRule, TRIGGER_RULES, type TriggerDecision, type TriggerRule } from "../../src/core/triggerRules.js";

// Shorthands for upstream states, so each row of the table reads on one line.
const S: TaskState = "success";
const F: TaskState = "failed";
const UF: TaskState = "upstream_failed";
const SK: TaskState = "skipped";
const R: TaskState = "running";
const N: TaskState = "none";

const run: TriggerDecision = "run";
const wait: TriggerDecision = "wait";
const skip: TriggerDecision = "skip";
const upf: TriggerDecision = "upstream_failed";

/**
 * Upstream mixes, and what each rule decides for them. The expectations are
 * Airflow's documented semantics: a failed or upstream_failed upstream counts
 * as a failure; rules that can already tell the outcome (a failure under
 * all_success, a success under one_success, ...) decide before every upstream
 * is done, the others wait.
 */
const MIXES: { label: string; upstream: TaskState[]; expect: Record<TriggerRule, TriggerDecision> }[] = [
  {
    label: "all success",
    upstream: [S, S],
    expect: { all_success: run, all_failed: skip, all_done: run, one_success: run, one_failed: skip, none_failed: run, none_failed_min_one_success: run, always: run },
  },
  {
    label: "success + failed",
    upstream: [S, F],
    expect: { all_success: upf, all_failed: skip, all_done: run, one_success: run, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "success + upstream_failed",
    upstream: [S, UF],
    expect: { all_success: upf, all_failed: skip, all_done: run, one_success: run, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "success + skipped",
    upstream: [S, SK],
    expect: { all_success: skip, all_failed: skip, all_done: run, one_success: run, one_failed: skip, none_failed: run, none_failed_min_one_success: run, always: run },
  },
  {
    label: "all skipped",
    upstream: [SK, SK],
    expect: { all_success: skip, all_failed: skip, all_done: run, one_success: skip, one_failed: skip, none_failed: run, none_failed_min_one_success: skip, always: run },
  },
  {
    label: "all failed",
    upstream: [F, F],
    expect: { all_success: upf, all_failed: run, all_done: run, one_success: upf, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "failed + upstream_failed",
    upstream: [F, UF],
    expect: { all_success: upf, all_failed: run, all_done: run, one_success: upf, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "single upstream_failed",
    upstream: [UF],
    expect: { all_success: upf, all_failed: run, all_done: run, one_success: upf, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "failed + skipped",
    upstream: [F, SK],
    expect: { all_success: upf, all_failed: skip, all_done: run, one_success: upf, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "success + failed + skipped",
    upstream: [S, F, SK],
    expect: { all_success: upf, all_failed: skip, all_done: run, one_success: run, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "success + running (early decisions only)",
    upstream: [S, R],
    expect: { all_success: wait, all_failed: skip, all_done: wait, one_success: run, one_failed: wait, none_failed: wait, none_failed_min_one_success: wait, always: run },
  },
  {
    label: "failed + running (early decisions only)",
    upstream: [F, R],
    expect: { all_success: upf, all_failed: wait, all_done: wait, one_success: wait, one_failed: run, none_failed: upf, none_failed_min_one_success: upf, always: run },
  },
  {
    label: "skipped + running",
    upstream: [SK, R],
    expect: { all_success: skip, all_failed: skip, all_done: wait, one_success: wait, one_failed: wait, none_failed: wait, none_failed_min_one_success: wait, always: run },
  },
  {
    label: "all running",
    upstream: [R, R],
    expect: { all_success: wait, all_failed: wait, all_done: wait, one_success: wait, one_failed: wait, none_failed: wait, none_failed_min_one_success: wait, always: run },
  },
  {
    label: "not started yet",
    upstream: [N],
    expect: { all_success: wait, all_failed: wait, all_done: wait, one_success: wait, one_failed: wait, none_failed: wait, none_failed_min_one_success: wait, always: run },
  },
  {
    label: "success + not started",
    upstream: [S, N],
    expect: { all_success: wait, all_failed: skip, all_done: wait, one_success: run, one_failed: wait, none_failed: wait, none_failed_min_one_success: wait, always: run },
  },
];

describe("trigger rules", () => {
  it("the table covers every trigger rule the SDK accepts", () => {
    for (const mix of MIXES) assert.deepEqual(Object.keys(mix.expect).sort(), [...TRIGGER_RULES].sort(), mix.label);
  });

  for (const rule of TRIGGER_RULES) {
    describe(rule, () => {
      for (const mix of MIXES) {
        it(`${mix.label} [${mix.upstream.join(", ")}] -> ${mix.expect[rule]}`, () => {
          assert.equal(evaluateTriggerRule(rule, mix.upstream), mix.expect[rule]);
        });
      }

      it("runs a task with no upstream", () => {
        assert.equal(evaluateTriggerRule(rule, []), "run");
      });

      it("does not depend on the order of the upstream states", () => {
        for (const mix of MIXES) {
          const reversed = [...mix.upstream].reverse();
          const rotated = [...mix.upstream.slice(1), mix.upstream[0]];
          assert.equal(evaluateTriggerRule(rule, reversed), mix.expect[rule], `${mix.label} reversed`);
          assert.equal(evaluateTriggerRule(rule, rotated), mix.expect[rule], `${mix.label} rotated`);
        }
      });

      it("treats scheduled, queued and up_for_retry upstreams like running ones (not done)", () => {
        for (const mix of MIXES.filter((m) => m.upstream.includes(R))) {
          for (const pending of ["scheduled", "queued", "up_for_retry"] as const) {
            const upstream: TaskState[] = mix.upstream.map((s): TaskState => (s === R ? pending : s));
            assert.equal(evaluateTriggerRule(rule, upstream), mix.expect[rule], `${mix.label} with ${pending}`);
          }
        }
      });
    });
  }

  it("a retrying upstream does not count as failed yet", () => {
    // A task whose upstream is up_for_retry must wait, not be marked upstream_failed.
    assert.equal(evaluateTriggerRule("all_success", ["success", "up_for_retry"]), "wait");
    assert.equal(evaluateTriggerRule("one_failed", ["success", "up_for_retry"]), "wait");
    assert.equal(evaluateTriggerRule("none_failed", ["up_for_retry"]), "wait");
  });

  it("decides with many upstreams, not only pairs", () => {
    const many = (n: number, s: TaskState) => Array.from({ length: n }, () => s);
    assert.equal(evaluateTriggerRule("all_success", many(50, S)), "run");
    assert.equal(evaluateTriggerRule("all_success", [...many(49, S), F]), "upstream_failed");
    assert.equal(evaluateTriggerRule("one_success", [...many(49, F), S]), "run");
    assert.equal(evaluateTriggerRule("all_failed", [...many(49, F), R]), "wait");
    assert.equal(evaluateTriggerRule("none_failed_min_one_success", [...many(49, SK), S]), "run");
  });
});
