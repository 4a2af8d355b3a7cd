import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failureOutcome, retryDelayMs } from "../../src/core/retry.js";

const policy = (retryDelayMs: number, retryExponentialBackoff: boolean, maxRetryDelayMs = 3_600_000) => ({
  retryDelayMs,
  retryExponentialBackoff,
  maxRetryDelayMs,
});

describe("retryDelayMs", () => {
  it("waits the same delay after every failed try without backoff", () => {
    for (let failedTry = 1; failedTry <= 6; failedTry++) assert.equal(retryDelayMs(policy(30_000, false), failedTry), 30_000);
  });

  it("doubles the delay after each failed try with exponential backoff", () => {
    const p = policy(1_000, true);
    const delays = [1, 2, 3, 4, 5].map((t) => retryDelayMs(p, t));
    assert.equal(delays[0], 1_000, "the first retry waits the base delay");
    for (let i = 1; i < delays.length; i++) assert.equal(delays[i], delays[i - 1] * 2, `try ${i + 1}`);
  });

  it("never waits longer than the cap", () => {
    const p = policy(1_000, true, 5_000);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((t) => retryDelayMs(p, t)), [1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
    // A long-failing task must not overflow to Infinity/NaN.
    assert.equal(retryDelayMs(p, 5_000), 5_000);
    // The cap also applies without backoff.
    assert.equal(retryDelayMs(policy(60_000, false, 10_000), 1), 10_000);
  });

  it("treats a zero delay as retry-immediately", () => {
    assert.equal(retryDelayMs(policy(0, true), 4), 0);
    assert.equal(retryDelayMs(policy(0, false), 1), 0);
  });
});

describe("failureOutcome", () => {
  const now = Date.UTC(2026, 0, 1, 12);

  it("puts a failed try up for retry while tries remain, at now + delay", () => {
    const p = policy(2_000, true);
    assert.deepEqual(failureOutcome(p, 1, 3, now), { state: "up_for_retry", nextTryAt: now + 2_000 });
    assert.deepEqual(failureOutcome(p, 2, 3, now), { state: "up_for_retry", nextTryAt: now + 4_000 });
  });

  it("fails the task once the last try failed", () => {
    const p = policy(2_000, true);
    assert.deepEqual(failureOutcome(p, 3, 3, now), { state: "failed", nextTryAt: null });
    // A task without retries (max 1 try) fails at once.
    assert.deepEqual(failureOutcome(p, 1, 1, now), { state: "failed", nextTryAt: null });
  });

  it("counts the tries: retries = 2 means exactly two retries after the first failure", () => {
    const p = policy(10, false);
    const maxTries = 3;
    const states: string[] = [];
    for (let tryNumber = 1; tryNumber <= maxTries; tryNumber++) states.push(failureOutcome(p, tryNumber, maxTries, now).state);
    assert.deepEqual(states, ["up_for_retry", "up_for_retry", "failed"]);
  });

  it("fails at once on a non-retryable error, even with tries left", () => {
    assert.deepEqual(failureOutcome(policy(2_000, false), 1, 5, now, false), { state: "failed", nextTryAt: null });
  });

  it("retries immediately with a zero delay", () => {
    assert.deepEqual(failureOutcome(policy(0, false), 1, 2, now), { state: "up_for_retry", nextTryAt: now });
  });
});
