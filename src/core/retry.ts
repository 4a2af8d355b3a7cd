import type { TaskSpec } from "./dagSpec.js";
import type { TaskState } from "./states.js";

/**
 * Delay before try `nextTry` (2, 3, ...) of a task. With exponential backoff the
 * base delay doubles per failed try; the result never exceeds the cap.
 */
export function retryDelayMs(task: Pick<TaskSpec, "retryDelayMs" | "retryExponentialBackoff" | "maxRetryDelayMs">, failedTry: number): number {
  const base = Math.max(0, task.retryDelayMs);
  const delay = task.retryExponentialBackoff ? base * 2 ** Math.max(0, failedTry - 1) : base;
  return Math.min(delay, Math.max(0, task.maxRetryDelayMs));
}

export interface FailureOutcome {
  state: Extract<TaskState, "failed" | "up_for_retry">;
  nextTryAt: number | null;
}

/** What a failed attempt becomes: up for retry while tries remain (and the error is retryable), else failed. */
export function failureOutcome(
  task: Pick<TaskSpec, "retryDelayMs" | "retryExponentialBackoff" | "maxRetryDelayMs">,
  tryNumber: number,
  maxTries: number,
  now: number,
  retryable = true,
): FailureOutcome {
  if (retryable && tryNumber < maxTries) {
    return { state: "up_for_retry", nextTryAt: now + retryDelayMs(task, tryNumber) };
  }
  return { state: "failed", nextTryAt: null };
}
