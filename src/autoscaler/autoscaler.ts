/**
 * The autoscaler's control loop: every interval, for each queue, measure
 * (queue depth from the store, worker resource use from /proc for the local
 * pool), decide (decide.ts), act (the actuator) and record the decision with
 * its inputs and reason (autoscaler_decision). The decision history kept for
 * the stabilisation window and the rate limit is reloaded from the store at
 * start, so a restarted autoscaler does not forget a recent peak and scale
 * down early.
 */
import type { Logger } from "pino";
import type { SluiceConfig } from "../config/config.js";
import type { Store } from "../store/store.js";
import type { Actuator } from "./actuator.js";
import { decide, type Decision, type PastDecision, type ResourceTargets, type ScalePolicy } from "./decide.js";
import { ProcSampler } from "./procStats.js";

/** Decisions older than this are deleted (about 40,000 rows per queue at the default 15 s). */
const RETENTION_MS = 7 * 24 * 3600 * 1000;

export interface AutoscalerOptions {
  store: Store;
  actuator: Actuator;
  policy: ScalePolicy;
  queues: readonly string[];
  intervalMs: number;
  log: Logger;
  now?: () => number;
}

export interface TickResult extends Decision {
  queue: string;
  current: number;
  queued: number;
  running: number;
  usage: ResourceTargets;
}

/** The policy of a resolved config (worker concurrency from the worker section). */
export function policyFromConfig(config: SluiceConfig): ScalePolicy {
  const a = config.autoscaler;
  return {
    min: a.min,
    max: a.max,
    concurrency: config.worker.concurrency,
    targets: { ...a.targets },
    tolerance: a.tolerance,
    stabilizationWindowMs: a.stabilizationWindowMs,
    scaleUp: { ...a.scaleUp },
  };
}

export class Autoscaler {
  private readonly history = new Map<string, PastDecision[]>();
  private readonly samplers = new Map<string, ProcSampler>();
  /** Queues whose usage() is failing (logged once per outage). */
  private readonly usageFailing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastPrune = 0;
  private readonly now: () => number;

  constructor(private readonly o: AutoscalerOptions) {
    this.now = o.now ?? Date.now;
    if (o.policy.min > o.policy.max) throw new RangeError(`autoscaler.min (${o.policy.min}) is above autoscaler.max (${o.policy.max}); lower min or raise max.`);
  }

  private get keepMs(): number {
    return Math.max(this.o.policy.stabilizationWindowMs, this.o.policy.scaleUp.periodMs);
  }

  async start(): Promise<void> {
    const since = this.now() - this.keepMs;
    for (const q of this.o.queues) {
      const rows = await this.o.store.autoscaler.list({ queue: q, since, limit: 100_000 });
      this.history.set(q, rows.map((r) => ({ at: r.at, proposed: r.proposed_replicas, current: r.current_replicas })));
    }
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .then(() => undefined)
        .catch((err) => this.o.log.error({ err }, "autoscaler tick failed; trying again next interval"))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(loop, this.o.intervalMs);
        });
    };
    loop();
  }

  /** Stop deciding (the workers are the actuator's: stop it to stop them). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round over every queue; a failing queue does not stop the others. */
  async tick(): Promise<TickResult[]> {
    const depth = await this.o.store.autoscaler.depth(this.o.queues);
    const out: TickResult[] = [];
    for (const queue of this.o.queues) {
      try {
        out.push(await this.tickQueue(queue, depth.get(queue) ?? { queued: 0, running: 0 }));
      } catch (err) {
        this.o.log.error({ err, queue }, "autoscaler could not scale this queue");
      }
    }
    if (this.now() - this.lastPrune > 3600_000) {
      this.lastPrune = this.now();
      await this.o.store.autoscaler.prune(this.lastPrune - RETENTION_MS);
    }
    return out;
  }

  /** The actuator's own measurement; a failure (no metrics-server, RBAC) is logged when it starts and the queue rule decides meanwhile. */
  private async measuredElsewhere(queue: string): Promise<ResourceTargets | undefined> {
    try {
      const u = await this.o.actuator.usage!(queue);
      this.usageFailing.delete(queue);
      return u;
    } catch (err) {
      if (!this.usageFailing.has(queue)) this.o.log.warn({ err: (err as Error)?.message, queue }, "could not read the workers' CPU and memory (is metrics-server installed, and may this service account list pods.metrics.k8s.io?); scaling on the queue alone");
      this.usageFailing.add(queue);
      return undefined;
    }
  }

  private async tickQueue(queue: string, { queued, running }: { queued: number; running: number }): Promise<TickResult> {
    const current = await this.o.actuator.current(queue);
    const pids = this.o.actuator.pids(queue);
    let usage: ResourceTargets = {};
    if (pids) {
      let sampler = this.samplers.get(queue);
      if (!sampler) this.samplers.set(queue, (sampler = new ProcSampler()));
      usage = (await sampler.sample(pids)) ?? {};
    } else if (this.o.actuator.usage) {
      usage = (await this.measuredElsewhere(queue)) ?? {};
    }
    const now = this.now();
    const history = (this.history.get(queue) ?? []).filter((h) => h.at > now - this.keepMs);
    const d = decide({ queued, running, currentReplicas: current, usage }, this.o.policy, history, now);
    if (d.desired !== current) await this.o.actuator.scale(queue, d.desired);
    history.push({ at: now, proposed: d.proposed, current });
    this.history.set(queue, history);
    await this.o.store.autoscaler.record({
      queue,
      at: now,
      queued,
      running,
      current_replicas: current,
      proposed_replicas: d.proposed,
      desired_replicas: d.desired,
      cpu: usage.cpu ?? null,
      memory_mb: usage.memory ?? null,
      network_bps: usage.network ?? null,
      proposals: JSON.stringify(d.proposals),
      reason: d.reason,
      actuator: this.o.actuator.name,
    });
    if (d.desired !== current) this.o.log.info({ queue, queued, running, current, desired: d.desired }, d.reason);
    return { ...d, queue, current, queued, running, usage };
  }
}
