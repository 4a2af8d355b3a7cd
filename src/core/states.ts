/**
 * Task-instance and DAG-run states, and which transitions are legal.
 * Every transition in the store is a compare-and-set on these values.
 */
export const TaskState = {
  None: "none",
  Scheduled: "scheduled",
  Queued: "queued",
  Running: "running",
  Success: "success",
  Failed: "failed",
  UpForRetry: "up_for_retry",
  Skipped: "skipped",
  UpstreamFailed: "upstream_failed",
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];
export const TASK_STATES: readonly TaskState[] = Object.values(TaskState);

/** States after which an attempt will not run again unless cleared. */
export const FINISHED_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  TaskState.Success,
  TaskState.Failed,
  TaskState.Skipped,
  TaskState.UpstreamFailed,
]);

/** States that hold an executor slot or pool slot. */
export const ACTIVE_TASK_STATES: readonly TaskState[] = [TaskState.Queued, TaskState.Running];

export const RunState = {
  Queued: "queued",
  Running: "running",
  Success: "success",
  Failed: "failed",
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];
export const RUN_STATES: readonly RunState[] = Object.values(RunState);
export const FINISHED_RUN_STATES: ReadonlySet<RunState> = new Set<RunState>([RunState.Success, RunState.Failed]);

export const RunType = {
  Scheduled: "scheduled",
  Manual: "manual",
  Backfill: "backfill",
  /** Created when the datasets a DAG is scheduled on have updated (DagSpec.datasetSchedule). */
  DatasetTriggered: "dataset_triggered",
} as const;
export type RunType = (typeof RunType)[keyof typeof RunType];

const TRANSITIONS: Record<TaskState, readonly TaskState[]> = {
  none: ["scheduled", "skipped", "upstream_failed", "success", "failed"],
  scheduled: ["queued", "none", "skipped", "upstream_failed", "success", "failed"],
  queued: ["running", "scheduled", "failed", "up_for_retry", "success", "none"],
  running: ["success", "failed", "up_for_retry", "skipped", "none"],
  up_for_retry: ["scheduled", "failed", "none", "success"],
  success: ["none", "failed"],
  failed: ["none", "success"],
  skipped: ["none", "success", "failed"],
  upstream_failed: ["none", "success", "failed", "skipped"],
};

/** Whether `from -> to` is a legal task-instance transition ("none" = cleared). */
export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTaskState(value: string): value is TaskState {
  return (TASK_STATES as readonly string[]).includes(value);
}

export function isRunState(value: string): value is RunState {
  return (RUN_STATES as readonly string[]).includes(value);
}
