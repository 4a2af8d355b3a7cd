/**
 * The attempt backend of processes that hold the database: each operation is
 * the store call executeAttempt made before the backend existed (same
 * compare-and-sets, same transaction for the outcome and the last log lines).
 */
import type { TaskState } from "../core/states.js";
import type { SecretsConfig } from "../secrets/secretBox.js";
import type { NewLogLine } from "../store/logQueries.js";
import type { Store } from "../store/store.js";
import type { AttemptBackend, ClaimedInstance, ClaimInfo, RetryPolicy } from "./attemptBackend.js";
import { finishAttempt, type AttemptOutcome } from "./finishAttempt.js";
import { attemptServices, type AttemptIdentity } from "./taskServices.js";

/** Waits between tries of the final write: a busy SQLite file or a PostgreSQL reconnect must not lose a finished attempt. */
const FINAL_WRITE_BACKOFF_MS = [250, 1_000, 4_000];

export class StoreBackend implements AttemptBackend {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretsConfig | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  context(tiId: number) {
    return this.store.tasks.attemptContext(tiId);
  }

  claim(tiId: number, tryNumber: number, from: readonly TaskState[], info: ClaimInfo): Promise<boolean> {
    const { startedAt, hostname, pid } = info;
    return this.store.tasks.cas(tiId, from, { state: "running", start_date: startedAt, end_date: null, hostname, pid, heartbeat_at: startedAt, error: null, updated_at: startedAt }, tryNumber);
  }

  heartbeat(tiId: number, tryNumber: number, now: number): Promise<boolean> {
    return this.store.tasks.heartbeat(tiId, tryNumber, now);
  }

  appendLogs(lines: NewLogLine[]): Promise<void> {
    return this.store.logs.append(lines);
  }

  results(runPk: number, taskIds: readonly string[]) {
    return this.store.tasks.results(runPk, taskIds);
  }

  services(who: AttemptIdentity) {
    return attemptServices(this.store, this.secrets, who, this.now);
  }

  async finish(ti: ClaimedInstance, outcome: AttemptOutcome, policy: RetryPolicy, lastLines: NewLogLine[]): Promise<TaskState | null> {
    // The last log lines land in the same commit as the final state: whoever sees the state sees the whole log.
    // Retried on errors: the compare-and-set on this try makes a repeated write harmless.
    for (let i = 0; ; i++) {
      try {
        return await this.store.transaction(async (tx) => {
          await tx.logs.append(lastLines);
          return finishAttempt(tx, ti, outcome, policy, this.now());
        });
      } catch (err) {
        if (i >= FINAL_WRITE_BACKOFF_MS.length) throw err;
        await new Promise((r) => setTimeout(r, FINAL_WRITE_BACKOFF_MS[i]));
      }
    }
  }
}
