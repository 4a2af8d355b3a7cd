/**
 * React-query keys, in one place so the live-event handler (events.ts) can
 * update or invalidate exactly what a change affects.
 */
export const keys = {
  me: ["me"] as const,
  health: ["health"] as const,
  dags: ["dags"] as const,
  dagList: (params: Record<string, unknown>) => ["dags", "list", params] as const,
  dagTags: ["dags", "tags"] as const,
  dag: (dagId: string) => ["dag", dagId] as const,
  structure: (dagId: string, version?: string) => ["dag", dagId, "structure", version ?? "current"] as const,
  versions: (dagId: string) => ["dag", dagId, "versions"] as const,
  source: (dagId: string, version?: string) => ["dag", dagId, "source", version ?? "current"] as const,
  recentRuns: (dagId: string) => ["runs", dagId, "recent"] as const,
  runsOf: (dagId: string) => ["runs", dagId] as const,
  runList: (dagId: string, params: Record<string, unknown>) => ["runs", dagId, "list", params] as const,
  run: (dagId: string, runId: string) => ["run", dagId, runId] as const,
  runTasks: (dagId: string, runId: string) => ["run", dagId, runId, "tasks"] as const,
  task: (dagId: string, runId: string, taskId: string) => ["run", dagId, runId, "task", taskId] as const,
  /** A task's instances (mapped tasks); under task(): a task event refreshes it. */
  instances: (dagId: string, runId: string, taskId: string) => ["run", dagId, runId, "task", taskId, "instances"] as const,
  result: (dagId: string, runId: string, taskId: string) => ["run", dagId, runId, "task", taskId, "result"] as const,
  gridOf: (dagId: string) => ["grid", dagId] as const,
  gridPage: (dagId: string, page: number, size: number) => ["grid", dagId, page, size] as const,
  importErrors: ["import-errors"] as const,
  datasets: ["datasets"] as const,
  datasetEvents: ["datasets", "events"] as const,
  admin: (what: "pools" | "variables" | "connections" | "users") => ["admin", what] as const,
  tokens: (userId: number) => ["admin", "users", userId, "tokens"] as const,
  /** Spark connections, and one standalone master's live state (polled, not driven by live events). */
  sparkClusters: ["spark", "clusters"] as const,
  sparkCluster: (connId: string) => ["spark", "clusters", connId] as const,
  /** The autoscaler's decisions over a time range (polled: decisions are not live events). */
  autoscaler: (rangeMs: number) => ["autoscaler", rangeMs] as const,
  /** Alert history pages and the notifiers' state (polled: alerts are not live events). */
  alerts: (params: Record<string, unknown>) => ["alerts", "list", params] as const,
  alertNotifiers: ["alerts", "notifiers"] as const,
};
