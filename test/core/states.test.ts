import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ACTIVE_TASK_STATES,
  canTransition,
  FINISHED_TASK_STATES,
  isRunState,
  isTaskState,
  TASK_STATES,
  type TaskState,
} from "../../src/core/states.js";

/** Walk a path of states, asserting every step is allowed. */
function assertPath(...path: TaskState[]): void {
  for (let i = 1; i < path.length; i++) {
    assert.ok(canTransition(path[i - 1], path[i]), `${path[i - 1]} -> ${path[i]} should be allowed (path ${path.join(" -> ")})`);
  }
}

describe("task state transitions", () => {
  it("allow the normal lifecycle: none -> scheduled -> queued -> running -> success", () => {
    assertPath("none", "scheduled", "queued", "running", "success");
  });

  it("allow a failed try to go up for retry and be scheduled again", () => {
    assertPath("none", "scheduled", "queued", "running", "up_for_retry", "scheduled", "queued", "running", "failed");
  });

  it("allow the scheduler to skip or upstream-fail a waiting task", () => {
    assertPath("none", "skipped");
    assertPath("none", "upstream_failed");
    assertPath("scheduled", "upstream_failed");
  });

  it("allow a task to skip itself while running (Skip thrown)", () => {
    assertPath("running", "skipped");
  });

  it("allow clearing every state back to none, so tasks can be re-run", () => {
    for (const s of TASK_STATES) if (s !== "none") assert.ok(canTransition(s, "none"), `${s} -> none`);
  });

  it("allow marking a finished task success or failed by hand", () => {
    for (const s of FINISHED_TASK_STATES) {
      if (s !== "success") assert.ok(canTransition(s, "success"), `${s} -> success`);
      if (s !== "failed") assert.ok(canTransition(s, "failed"), `${s} -> failed`);
    }
  });

  it("forbid running a task that was never queued", () => {
    for (const from of ["none", "scheduled", "up_for_retry"] as const) assert.equal(canTransition(from, "running"), false, `${from} -> running`);
  });

  it("forbid a finished task from running or being queued again without a clear", () => {
    for (const s of FINISHED_TASK_STATES) {
      for (const to of [...ACTIVE_TASK_STATES, "scheduled", "up_for_retry"] as const) {
        assert.equal(canTransition(s, to), false, `${s} -> ${to}`);
      }
    }
  });

  it("forbid going backwards from running to scheduled, and retrying a task that never ran", () => {
    assert.equal(canTransition("running", "scheduled"), false);
    assert.equal(canTransition("running", "queued"), false);
    assert.equal(canTransition("none", "up_for_retry"), false);
    assert.equal(canTransition("scheduled", "up_for_retry"), false);
  });

  it("forbid a state 'changing' to itself (a compare-and-set that would be a no-op)", () => {
    for (const s of TASK_STATES) assert.equal(canTransition(s, s), false, `${s} -> ${s}`);
  });

  it("forbid skipping a task that succeeded or failed", () => {
    assert.equal(canTransition("success", "skipped"), false);
    assert.equal(canTransition("failed", "skipped"), false);
  });
});

describe("state guards", () => {
  it("recognise task and run states and reject others", () => {
    for (const s of TASK_STATES) assert.ok(isTaskState(s));
    assert.equal(isTaskState("SUCCESS"), false);
    assert.equal(isTaskState("done"), false);
    assert.ok(isRunState("queued"));
    assert.ok(isRunState("failed"));
    assert.equal(isRunState("upstream_failed"), false);
    assert.equal(isRunState(""), false);
  });

  it("classify finished and active states without overlap", () => {
    for (const s of ACTIVE_TASK_STATES) assert.equal(FINISHED_TASK_STATES.has(s), false, s);
    assert.deepEqual([...FINISHED_TASK_STATES].sort(), ["failed", "skipped", "success", "upstream_failed"]);
  });
});
