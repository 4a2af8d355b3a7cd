import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, queueProposal, resourceProposal, scaleUpLimit, type ScalePolicy } from "../../src/autoscaler/decide.js";

const policy = (over: Partial<ScalePolicy> = {}): ScalePolicy => ({
  min: 0,
  max: 100,
  concurrency: 4,
  targets: {},
  tolerance: 0.1,
  stabilizationWindowMs: 300_000,
  scaleUp: { pods: 4, percent: 100, periodMs: 15_000 },
  ...over,
});
const T = 1_000_000;

describe("autoscaler decision", () => {
  it("queue rule: ceil((queued + running) / concurrency), as the Airflow chart's KEDA query", () => {
    assert.equal(queueProposal(0, 0, 4), 0);
    assert.equal(queueProposal(1, 0, 4), 1);
    assert.equal(queueProposal(3, 5, 4), 2);
    assert.equal(queueProposal(9, 0, 4), 3);
    assert.equal(queueProposal(500, 0, 16), 32);
  });

  it("resource rule: the HPA documentation's examples (200m vs 100m doubles, 50m halves, within 0.1 no change)", () => {
    assert.equal(resourceProposal(1, 200, 100, 0.1), 2);
    assert.equal(resourceProposal(4, 50, 100, 0.1), 2);
    // The walkthrough: 305% of a 50% target on 1 replica → 7.
    assert.equal(resourceProposal(1, 305, 50, 0.1), 7);
    // Tolerance: 1.1 and 0.9 of the target leave the count alone; 1.11 does not.
    assert.equal(resourceProposal(10, 110, 100, 0.1), 10);
    assert.equal(resourceProposal(10, 90, 100, 0.1), 10);
    assert.equal(resourceProposal(10, 111, 100, 0.1), 12);
    assert.equal(resourceProposal(3, 0.2, 0.1, 0.1), 6, "no floating-point overshoot");
    // Not applicable: no target, no value, no replicas to measure.
    assert.equal(resourceProposal(3, 0.5, undefined, 0.1), undefined);
    assert.equal(resourceProposal(3, undefined, 0.5, 0.1), undefined);
    assert.equal(resourceProposal(0, 0.9, 0.5, 0.1), undefined);
  });

  it("the largest proposal wins and the reason names it", () => {
    const d = decide({ queued: 4, running: 4, currentReplicas: 2, usage: { cpu: 1.6, memory: 100, network: 10 } }, policy({ targets: { cpu: 0.8, memory: 400, network: 1000 } }), [], T);
    assert.deepEqual(d.proposals, { queue: 2, cpu: 4, memory: 1, network: 1 });
    assert.equal(d.desired, 4);
    assert.match(d.reason, /^scale up 2 → 4; cpu: ceil\(2 × 1\.6 \/ 0\.8\) = 4/);
  });

  it("clamps to [min, max]", () => {
    const up = decide({ queued: 400, running: 0, currentReplicas: 10, usage: {} }, policy({ max: 12 }), [], T);
    assert.equal(up.desired, 12);
    assert.match(up.reason, /clamped to 12 by max/);
    const down = decide({ queued: 0, running: 0, currentReplicas: 3, usage: {} }, policy({ min: 2, stabilizationWindowMs: 0 }), [], T);
    assert.equal(down.desired, 2);
    assert.match(down.reason, /clamped to 2 by min/);
  });

  it("scales to zero when idle: resource rules are not consulted with nothing queued or running", () => {
    const d = decide({ queued: 0, running: 0, currentReplicas: 2, usage: { cpu: 0.9 } }, policy({ targets: { cpu: 0.5 }, stabilizationWindowMs: 0 }), [], T);
    assert.equal(d.desired, 0);
    assert.equal(d.proposals.cpu, undefined);
    assert.match(d.reason, /^scale down 2 → 0; queue: nothing queued or running/);
  });

  it("scale-down stabilisation: the highest proposal of the window (the HPA's default 300 s)", () => {
    const history = [
      { at: T - 400_000, proposed: 9, current: 9 }, // outside the window
      { at: T - 200_000, proposed: 6, current: 8 },
      { at: T - 100_000, proposed: 4, current: 8 },
    ];
    const d = decide({ queued: 4, running: 0, currentReplicas: 8, usage: {} }, policy(), history, T);
    assert.equal(d.proposed, 1);
    assert.equal(d.desired, 6);
    assert.match(d.reason, /scale down 8 → 6; .*held at 6 by the 300 s scale-down window/);
    // Once those proposals leave the window, down to the proposal.
    const later = decide({ queued: 4, running: 0, currentReplicas: 6, usage: {} }, policy(), history, T + 250_000);
    assert.equal(later.desired, 1);
    // Never raises: a high proposal in the window keeps the current count, not more.
    const keep = decide({ queued: 0, running: 0, currentReplicas: 3, usage: {} }, policy(), [{ at: T - 1, proposed: 10, current: 3 }], T);
    assert.equal(keep.desired, 3);
    assert.match(keep.reason, /^keep 3/);
  });

  it("scale-up rate limit: the larger of +4 pods and +100% per 15 s (the HPA's default policies)", () => {
    const p = policy();
    assert.equal(scaleUpLimit(0, [], p, T), 4);
    assert.equal(scaleUpLimit(2, [], p, T), 6);
    assert.equal(scaleUpLimit(10, [], p, T), 20);
    const from0 = decide({ queued: 400, running: 0, currentReplicas: 0, usage: {} }, p, [], T);
    assert.equal(from0.desired, 4);
    assert.match(from0.reason, /rate-limited to 4 \(\+4 pods or \+100% per 15 s\)/);
    // Within the period the limit counts from the replicas at its start: 4 → 8, not 4 → 8 → 16.
    const history = [{ at: T, proposed: 100, current: 0 }];
    assert.equal(decide({ queued: 400, running: 0, currentReplicas: 4, usage: {} }, p, history, T + 5_000).desired, 4);
    assert.equal(decide({ queued: 400, running: 0, currentReplicas: 4, usage: {} }, p, history, T + 15_001).desired, 8);
    // Percent only (pods 0): ×2 per period.
    assert.equal(decide({ queued: 400, running: 0, currentReplicas: 5, usage: {} }, policy({ scaleUp: { pods: 0, percent: 100, periodMs: 15_000 } }), [], T).desired, 10);
  });
});
