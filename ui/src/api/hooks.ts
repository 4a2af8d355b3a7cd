/** Queries and mutations shared by several screens. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, seg } from "./client";
import { keys } from "./keys";
import type { AlertList, AlertNotifier, AutoscalerDecision, DagDetail, DagList, DagSummary, ImportError, Run, RunList, SparkCluster, SparkClusterStatus, Structure, TaskDetail, TaskInstance, TaskInstances } from "./types";

export function useImportErrors() {
  return useQuery({
    queryKey: keys.importErrors,
    queryFn: () => api<{ importErrors: ImportError[] }>("/import-errors"),
    staleTime: 60_000,
  });
}

export function useDag(dagId: string) {
  return useQuery({ queryKey: keys.dag(dagId), queryFn: () => api<DagDetail>(`/dags/${seg(dagId)}`) });
}

export function useStructure(dagId: string, version?: string) {
  return useQuery({
    queryKey: keys.structure(dagId, version),
    queryFn: () => api<Structure>(`/dags/${seg(dagId)}/structure`, { query: { version } }),
    // A version's structure never changes; the current one changes with the file.
    staleTime: version ? Infinity : 30_000,
  });
}

export function useRun(dagId: string, runId: string | null) {
  return useQuery({
    queryKey: keys.run(dagId, runId ?? ""),
    queryFn: () => api<Run>(`/dags/${seg(dagId)}/runs/${seg(runId!)}`),
    enabled: !!runId,
  });
}

export function useRunTasks(dagId: string, runId: string | null) {
  return useQuery({
    queryKey: keys.runTasks(dagId, runId ?? ""),
    queryFn: () => api<{ tasks: TaskInstance[] }>(`/dags/${seg(dagId)}/runs/${seg(runId!)}/tasks`),
    enabled: !!runId,
  });
}

/** One task instance with its tries; mapIndex -1 for an unmapped task. */
export function useTaskDetail(dagId: string, runId: string | null, taskId: string | null, mapIndex = -1, enabled = true) {
  return useQuery({
    queryKey: [...keys.task(dagId, runId ?? "", taskId ?? ""), "instance", mapIndex],
    queryFn: () => api<TaskDetail>(`/dags/${seg(dagId)}/runs/${seg(runId!)}/tasks/${seg(taskId!)}`, { query: { mapIndex: mapIndex >= 0 ? mapIndex : undefined } }),
    enabled: enabled && !!runId && !!taskId,
  });
}

/**
 * One page of a task's instances (by map index, optionally of one state) and
 * its counts by state. The previous page stays on screen while the next one
 * loads, so paging and filtering do not flash a skeleton.
 */
export function useTaskInstances(dagId: string, runId: string, taskId: string, page: { state: string | null; offset: number; limit: number }) {
  return useQuery({
    queryKey: [...keys.instances(dagId, runId, taskId), page],
    queryFn: () =>
      api<TaskInstances>(`/dags/${seg(dagId)}/runs/${seg(runId)}/tasks/${seg(taskId)}/instances`, {
        query: { state: page.state ?? undefined, offset: page.offset, limit: page.limit },
      }),
    // Only the same task's previous page: another task's list must not stand in for this one.
    placeholderData: (prev, prevQuery) => (prevQuery?.queryKey[2] === runId && prevQuery.queryKey[4] === taskId ? prev : undefined),
  });
}

/** Latest runs of a DAG (newest first), for the list's state strip and pickers. */
export function useRecentRuns(dagId: string, limit = 14, enabled = true) {
  return useQuery({
    queryKey: [...keys.recentRuns(dagId), limit],
    queryFn: () => api<RunList>(`/dags/${seg(dagId)}/runs`, { query: { limit } }),
    enabled,
  });
}

export function usePauseDag() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ dagId, paused }: { dagId: string; paused: boolean }) => api<DagSummary>(`/dags/${seg(dagId)}`, { method: "PATCH", body: { paused } }),
    onMutate: async ({ dagId, paused }) => {
      // Flip the switch at once; the answer (or the live event) confirms it.
      for (const [key, list] of qc.getQueriesData<DagList>({ queryKey: [...keys.dags, "list"] })) {
        if (list) qc.setQueryData<DagList>(key, { ...list, dags: list.dags.map((d) => (d.dagId === dagId ? { ...d, paused } : d)) });
      }
      qc.setQueryData<DagDetail>(keys.dag(dagId), (old) => (old ? { ...old, paused } : old));
    },
    onError: (_e, { dagId }) => {
      void qc.invalidateQueries({ queryKey: keys.dags });
      void qc.invalidateQueries({ queryKey: keys.dag(dagId) });
    },
    onSuccess: (dag) => {
      qc.setQueryData<DagDetail>(keys.dag(dag.dagId), (old) => (old ? { ...old, ...dag } : old));
    },
  });
}

/** After a write to a run: refetch everything that shows it. */
export function invalidateRun(qc: ReturnType<typeof useQueryClient>, dagId: string, runId?: string) {
  void qc.invalidateQueries({ queryKey: keys.gridOf(dagId) });
  void qc.invalidateQueries({ queryKey: keys.runsOf(dagId) });
  if (runId) void qc.invalidateQueries({ queryKey: ["run", dagId, runId] });
  void qc.invalidateQueries({ queryKey: keys.dags });
}

// ---- Spark cluster view ----

/** How often the Spark page reads the master while it is open (the master's own web UI refreshes on a similar beat). */
export const SPARK_REFRESH_MS = 4_000;

/** Every connection of type spark. */
export function useSparkClusters() {
  return useQuery({ queryKey: keys.sparkClusters, queryFn: () => api<{ clusters: SparkCluster[] }>("/spark/clusters") });
}

/**
 * A standalone master's live state, read again every SPARK_REFRESH_MS while
 * it is on screen (no live event announces a change on the Spark side).
 * One quick retry: a lost packet should not flash the error panel, but a
 * stopped master should show as one within a refresh or two.
 */
export function useSparkCluster(connId: string | null, enabled = true) {
  return useQuery({
    queryKey: keys.sparkCluster(connId ?? ""),
    queryFn: ({ signal }) => api<SparkClusterStatus>(`/spark/clusters/${seg(connId!)}`, { signal }),
    enabled: enabled && !!connId,
    refetchInterval: SPARK_REFRESH_MS,
    staleTime: 0,
    retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 1,
    retryDelay: 1_000,
  });
}

// ---- Autoscaler ----

/** How often the autoscaler page re-reads the decisions (the autoscaler decides every 15 s by default). */
export const AUTOSCALER_REFRESH_MS = 5_000;

/** Every queue's decisions of the last `rangeMs`, oldest first. */
export function useAutoscalerDecisions(rangeMs: number) {
  return useQuery({
    queryKey: keys.autoscaler(rangeMs),
    queryFn: ({ signal }) =>
      api<{ decisions: AutoscalerDecision[] }>("/autoscaler/decisions", { query: { since: new Date(Date.now() - rangeMs).toISOString(), limit: 10_000 }, signal }),
    refetchInterval: AUTOSCALER_REFRESH_MS,
    staleTime: 0,
  });
}

// ---- Alerts ----

/** How often the Alerts page re-reads (the monitor records alerts every alerts.pollIntervalMs, 5 s by default). */
export const ALERTS_REFRESH_MS = 5_000;

/** One page of the alert history, newest first; the previous page stays on screen while the next loads. */
export function useAlerts(params: { kind?: string; state?: string; dagId?: string; limit: number; offset: number }) {
  return useQuery({
    queryKey: keys.alerts(params),
    queryFn: ({ signal }) => api<AlertList>("/alerts", { query: params, signal }),
    refetchInterval: ALERTS_REFRESH_MS,
    placeholderData: (prev) => prev,
  });
}

export function useAlertNotifiers() {
  return useQuery({
    queryKey: keys.alertNotifiers,
    queryFn: ({ signal }) => api<{ notifiers: AlertNotifier[]; enabled: boolean }>("/alerts/notifiers", { signal }),
    refetchInterval: ALERTS_REFRESH_MS,
  });
}
