/** What an alert is about. Stored in alert.kind; the API and UI filter on it. */
export const ALERT_KINDS = ["task_failed", "task_retry", "run_failed", "run_succeeded", "deadline_missed", "import_error", "git_sync_failed"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** Short human names, for subjects and the UI. */
export const KIND_LABELS: Record<AlertKind | "test", string> = {
  task_failed: "Task failed",
  task_retry: "Task up for retry",
  run_failed: "DAG run failed",
  run_succeeded: "DAG run succeeded",
  deadline_missed: "Deadline missed",
  import_error: "DAG import error",
  git_sync_failed: "Git sync failed",
  test: "Test alert",
};

export function isAlertKind(value: string): value is AlertKind {
  return (ALERT_KINDS as readonly string[]).includes(value);
}
