import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateTriggerRule } from "../../src/core/triggerRules.js";

describe("trigger rules", () => {
  it("all_success waits, runs, skips and fails as Airflow does", () => {
    assert.equal(evaluateTriggerRule("all_success", ["success", "running"]), "wait");
    assert.equal(evaluateTriggerRule("all_success", ["success", "success"]), "run");
    assert.equal(evaluateTriggerRule("all_success", ["success", "failed"]), "upstream_failed");
    assert.equal(evaluateTriggerRule("all_success", ["success", "skipped"]), "skip");
    assert.equal(evaluateTriggerRule("all_success", []), "run");
  });
  it("one_failed fires early and skips when everything succeeded", () => {
    assert.equal(evaluateTriggerRule("one_failed", ["failed", "running"]), "run");
    assert.equal(evaluateTriggerRule("one_failed", ["success", "success"]), "skip");
  });
});
