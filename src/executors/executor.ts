import type { TaskSpec } from "../core/dagSpec.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";

/** One attempt to start: the task instance is already `queued` on `tryNumber`. */
export interface LaunchRequest {
  tiId: number;
  tryNumber: number;
  runPk: number;
  /** Lets the scheduler re-evaluate only what depends on this task when it ends. */
  taskId?: string;
  /** Hard limit enforced by the executor (the task process enforces it softly first). */
  timeoutMs?: number;
  policy: Pick<TaskSpec, "retryDelayMs" | "retryExponentialBackoff" | "maxRetryDelayMs">;
}

/** What the executor needs to keep watching an adopted attempt: its timeout and retry policy. */
export interface AdoptInfo {
  timeoutMs?: number;
  policy: LaunchRequest["policy"];
}

/** Called when an attempt this executor ran (or adopted) has ended, whoever recorded the end. */
export type FinishedListener = (tiId: number, runPk: number, taskId?: string, state?: string | null) => void;

/**
 * How attempts are started. Local, queue and Kubernetes executors implement
 * this and all launch the same runner.
 */
export interface Executor {
  readonly name: string;
  start(): Promise<void>;
  /** Graceful: running attempts get `graceMs` to finish, then are killed (and later retried). */
  stop(graceMs?: number): Promise<void>;
  /** How many more attempts it can start now. */
  freeSlots(): number;
  launch(req: LaunchRequest): void;
  /** Kill a running attempt; the caller records its state. */
  cancel(tiId: number): void;
  /** Task instance ids it is running or watching. */
  runningIds(): number[];
  /**
   * Take over attempts left by a dead scheduler. Returns those it could not
   * adopt (their process is gone), for the caller to fail or retry.
   */
  adopt(rows: TaskInstanceRow[], info?: Map<number, AdoptInfo>): Promise<TaskInstanceRow[]>;
}
