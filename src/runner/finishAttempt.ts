import type { TaskSpec } from "../core/dagSpec.js";
import { failureOutcome } from "../core/retry.js";
import type { TaskState } from "../core/states.js";
import type { DatasetEventRow } from "../store/datasetQueries.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";

/** A dataset event a successful attempt records: one per outlet of the task, with the metadata it attached. */
export type DatasetEventInput = Omit<DatasetEventRow, "id" | "created_at">;

export type AttemptOutcome =
  /** datasetEvents: written only if this success is (same commit as the state). */
  | { kind: "success"; result: string | null; datasetEvents?: readonly DatasetEventInput[] }
  | { kind: "skipped"; message: string }
  /** retryable=false: Unrecoverable, or a failure the retry policy must not repeat. */
  | { kind: "failed"; error: string; retryable: boolean };

type RetryPolicy = Pick<TaskSpec, "retryDelayMs" | "retryExponentialBackoff" | "maxRetryDelayMs">;

/**
 * Record the end of one attempt: compare-and-set from `from` on exactly this
 * try, so an attempt is finished at most once whoever reports it (the task
 * process, the executor after a crash or timeout, or a scheduler reaping a
 * zombie). Returns the state written, or null if someone else finished it.
 */
export async function finishAttempt(
  store: Store,
  ti: Pick<TaskInstanceRow, "id" | "try_number" | "max_tries" | "start_date"> & Partial<Pick<TaskInstanceRow, "hostname" | "pid">>,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  now: number,
  from: readonly TaskState[] = ["running"],
): Promise<TaskState | null> {
  let state: TaskState;
  let nextTryAt: number | null = null;
  if (outcome.kind === "success") state = "success";
  else if (outcome.kind === "skipped") state = "skipped";
  else {
    const f = failureOutcome(policy, ti.try_number, ti.max_tries, now, outcome.retryable);
    state = f.state;
    nextTryAt = f.nextTryAt;
  }
  const duration = ti.start_date != null ? now - ti.start_date : null;
  const error = outcome.kind === "failed" ? outcome.error : outcome.kind === "skipped" ? outcome.message : null;
  // One transaction: the state and the try history change together (one commit).
  return store.transaction(async (tx) => {
    const ok = await tx.tasks.cas(
      ti.id,
      from,
      {
        state,
        end_date: now,
        duration_ms: duration,
        next_try_at: nextTryAt,
        heartbeat_at: null,
        error,
        ...(outcome.kind === "success" ? { result: outcome.result } : {}),
        updated_at: now,
      },
      ti.try_number,
    );
    if (!ok) return null;
    // Inside the compare-and-set's transaction and only after it won: a retried final
    // write, or a second reporter of the same attempt, cannot record the events twice.
    if (outcome.kind === "success" && outcome.datasetEvents?.length) await tx.datasets.recordEvents(outcome.datasetEvents, now);
    // The try itself failed even when the task will be retried: history shows what each try did.
    await tx.tasks.recordTry({
      ti_id: ti.id,
      try_number: ti.try_number,
      state: state === "up_for_retry" ? "failed" : state,
      start_date: ti.start_date,
      end_date: now,
      duration_ms: duration,
      hostname: ti.hostname ?? null,
      pid: ti.pid ?? null,
      error,
    });
    return state;
  });
}
