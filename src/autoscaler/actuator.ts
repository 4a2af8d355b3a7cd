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
  /** Release what the actuator holds (the local pool stops its workers gracefully). */
  stop(): Promise<void>;
}
