/**
 * The autoscaler's decision: pure, no I/O, no clock (the caller passes `now`).
 *
 * Proposals (the largest wins):
 * - queue: ceil((queued + running) / concurrency), the rule the Airflow chart
 *   gives KEDA;
 * - cpu / memory / network: the HPA rule desired = ceil(current × value / target),
 *   skipped when |value / target − 1| ≤ tolerance (0.1 as in the HPA).
 * Then: clamp to [min, max]; scale-down stabilisation (the highest proposal of
 * the window, as the HPA's `stabilizationWindowSeconds`); scale-up rate limit
 * (the larger of +pods and ×(1 + percent/100) per period, the HPA's default
 * policies with selectPolicy Max).
 *
 * Scale to zero: with nothing queued or running, the resource rules are not
 * consulted (KEDA's activation: idle workers still use some CPU, and the HPA
 * rule alone would never leave 1 replica), so the queue rule's 0 stands.
 */

export interface ResourceTargets {
  /** CPU cores used per worker (1 = one full core), e.g. 0.8. */
  cpu?: number;
  /** Resident memory per worker in MiB. */
  memory?: number;
  /** I/O bytes per second per worker (see procStats.ts for what is counted). */
  network?: number;
}

export type ResourceName = keyof ResourceTargets;
export const RESOURCES: readonly ResourceName[] = ["cpu", "memory", "network"];

export interface ScalePolicy {
  min: number;
  max: number;
  /** Attempts one worker runs at once. */
  concurrency: number;
  targets: ResourceTargets;
  /** HPA tolerance: no resource-driven change within this ratio of the target. */
  tolerance: number;
  /** Scale down only to the highest proposal seen in this window. */
  stabilizationWindowMs: number;
  scaleUp: {
    /** Pods that may be added per period (0 disables this policy). */
    pods: number;
    /** Percent of the replicas at the start of the period that may be added (100 = ×2). */
    percent: number;
    periodMs: number;
  };
}

export interface ScaleInputs {
  queued: number;
  running: number;
  currentReplicas: number;
  /** Average per worker over the last interval; absent when unknown (no workers, or no sample yet). */
  usage: ResourceTargets;
}

/** A past decision of the same queue, newest last or in any order. */
export interface PastDecision {
  at: number;
  /** What the rules proposed (after clamping, before stabilisation and rate limits). */
  proposed: number;
  /** Replicas when that decision was taken. */
  current: number;
}

export interface Decision {
  desired: number;
  /** Clamped proposal of the rules, before stabilisation and rate limiting. */
  proposed: number;
  /** Each rule's raw proposal (absent: not applicable). */
  proposals: { queue: number } & Partial<Record<ResourceName, number>>;
  /** One line a person can read: which rule won and what limited it. */
  reason: string;
}

/** HPA rule for one metric, or undefined when it does not apply (no target, no value, no replicas, within tolerance). */
export function resourceProposal(current: number, value: number | undefined, target: number | undefined, tolerance: number): number | undefined {
  if (target === undefined || value === undefined || current <= 0 || !(target > 0)) return undefined;
  const ratio = value / target;
  // 1e-9: 110 / 100 − 1 is 0.10000000000000009 in floating point, and 110% of target is within a 0.1 tolerance.
  if (Math.abs(ratio - 1) <= tolerance + 1e-9) return current;
  // Floating point: 3 × 0.2 / 0.1 must give 6, not 7.
  return Math.ceil(Number((current * ratio).toFixed(9)));
}

export function queueProposal(queued: number, running: number, concurrency: number): number {
  return Math.ceil((queued + running) / concurrency);
}

/** Most replicas allowed now by the scale-up policies, from the replicas at the start of the period. */
export function scaleUpLimit(current: number, history: readonly PastDecision[], policy: ScalePolicy, now: number): number {
  const { pods, percent, periodMs } = policy.scaleUp;
  const inPeriod = history.filter((h) => h.at > now - periodMs && h.at <= now);
  // Replicas at the start of the period: the lowest seen in it (the HPA subtracts the pods added in the period).
  const base = Math.min(current, ...inPeriod.map((h) => h.current));
  return Math.max(base + pods, Math.ceil(base * (1 + percent / 100)));
}

export function decide(inputs: ScaleInputs, policy: ScalePolicy, history: readonly PastDecision[], now: number): Decision {
  const { queued, running, currentReplicas: current } = inputs;
  const queue = queueProposal(queued, running, policy.concurrency);
  const proposals: Decision["proposals"] = { queue };
  let best = queue;
  let winner = `queue: ceil((${queued} queued + ${running} running) / ${policy.concurrency}) = ${queue}`;
  if (queued + running > 0) {
    for (const r of RESOURCES) {
      const p = resourceProposal(current, inputs.usage[r], policy.targets[r], policy.tolerance);
      if (p === undefined) continue;
      proposals[r] = p;
      if (p > best) {
        best = p;
        winner = `${r}: ceil(${current} × ${round(inputs.usage[r]!)} / ${policy.targets[r]}) = ${p}`;
      }
    }
  } else {
    winner = "queue: nothing queued or running";
  }
  const proposed = Math.min(policy.max, Math.max(policy.min, best));
  const notes: string[] = [];
  if (proposed !== best) notes.push(`clamped to ${proposed} by ${best > policy.max ? "max" : "min"}`);

  let desired = proposed;
  if (proposed < current) {
    // Scale down only to the highest proposal of the window (including this one).
    const windowHigh = Math.max(proposed, ...history.filter((h) => h.at > now - policy.stabilizationWindowMs && h.at <= now).map((h) => h.proposed));
    desired = Math.min(current, windowHigh);
    if (desired > proposed) notes.push(`held at ${desired} by the ${policy.stabilizationWindowMs / 1000} s scale-down window`);
  } else if (proposed > current) {
    const limit = scaleUpLimit(current, history, policy, now);
    if (proposed > limit) {
      desired = limit;
      notes.push(`rate-limited to ${limit} (+${policy.scaleUp.pods} pods or +${policy.scaleUp.percent}% per ${policy.scaleUp.periodMs / 1000} s)`);
    }
  }
  const verb = desired > current ? `scale up ${current} → ${desired}` : desired < current ? `scale down ${current} → ${desired}` : `keep ${current}`;
  return { desired, proposed, proposals, reason: [verb, winner, ...notes].join("; ") };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
