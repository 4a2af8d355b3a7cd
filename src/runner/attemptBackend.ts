/**
 * What executeAttempt needs from the outside world to run one attempt, so the
 * same code runs next to the database (StoreBackend: warm task processes,
 * `sluice task run`) or in a pod that only reaches the API server with an
 * attempt token (HttpBackend: `sluice task run --remote`).
 *
 * Every write is scoped to one try: the store side decides with
 * compare-and-sets on (id, try_number, state), so a repeated or late call
 * from an attempt that is no longer current changes nothing.
 */
import type { TaskState } from "../core/states.js";
import type { NewLogLine } from "../store/logQueries.js";
import type { AttemptContext, TaskInstanceRow } from "../store/taskQueries.js";
import type { TaskSpec } from "../core/dagSpec.js";
import type { AttemptOutcome } from "./finishAttempt.js";
import type { AttemptIdentity, TaskServices } from "./taskServices.js";
import type { LogWriter } from "./logSink.js";
import type { ResultReader } from "./upstreamInputs.js";

export type RetryPolicy = Pick<TaskSpec, "retryDelayMs" | "retryExponentialBackoff" | "maxRetryDelayMs">;

export interface ClaimInfo {
  startedAt: number;
  hostname: string;
  pid: number;
}

export type ResultRow = { task_id: string; map_index: number; result: string | null };

/** The instance as the attempt saw it when it claimed it: what finish records the try with. */
export type ClaimedInstance = Pick<TaskInstanceRow, "id" | "try_number" | "max_tries" | "start_date" | "hostname" | "pid">;

export interface AttemptBackend {
  /** The instance, its run and DAG file; undefined when the instance does not exist. */
  context(tiId: number, tryNumber: number): Promise<AttemptContext | undefined>;
  /** Compare-and-set from one of `from` to running on this try; false when another process has it. */
  claim(tiId: number, tryNumber: number, from: readonly TaskState[], info: ClaimInfo): Promise<boolean>;
  /** Record liveness; false when the attempt is no longer running on this try (it was taken away). */
  heartbeat(tiId: number, tryNumber: number, now: number): Promise<boolean>;
  appendLogs(lines: NewLogLine[]): Promise<void>;
  /** Results of upstream task instances of the run (Store.tasks.results). */
  results(runPk: number, taskIds: readonly string[]): Promise<ResultRow[]>;
  /** Connections and Spark application records for the task code; dispose() when the attempt ends. */
  services(who: AttemptIdentity): TaskServices & { dispose(): Promise<void> };
  /**
   * Write the outcome with the last log lines in one commit, retrying lost
   * writes; the state written, or null when the attempt was finished by
   * someone else (its compare-and-set lost).
   */
  finish(ti: ClaimedInstance, outcome: AttemptOutcome, policy: RetryPolicy, lastLines: NewLogLine[]): Promise<TaskState | null>;
}

/** The two store reads and writes LogSink and upstreamInputs make, routed through a backend. */
export function storeView(backend: AttemptBackend): LogWriter & ResultReader {
  return {
    logs: { append: (lines: NewLogLine[]) => backend.appendLogs(lines) },
    tasks: { results: (runPk: number, taskIds: readonly string[]) => backend.results(runPk, taskIds) },
  };
}
