import type { ResourceTargets } from "./decide.js";

/** What the autoscaler acts on: a pool of workers per queue whose size it reads and sets. */
export interface Actuator {
  /** "local" or "kubernetes", recorded with each decision. */
  readonly name: string;
  /** Workers of the queue now (for the local pool: running and not told to stop). */
  current(queue: string): Promise<number>;
  /** Ask for `replicas` workers of the queue. */
  scale(queue: string, replicas: number): Promise<void>;
  /** Process ids of the queue's workers on this machine, for /proc sampling; undefined when they run elsewhere. */
  pids(queue: string): number[] | undefined;
  /**
   * Resource use per worker measured elsewhere (Kubernetes: metrics-server), for
   * actuators whose workers have no local pids; undefined when nothing is measured.
   */
  usage?(queue: string): Promise<ResourceTargets | undefined>;
  /** Release what the actuator holds (the local pool stops its workers gracefully). */
  stop(): Promise<void>;
}
