/**
 * The shell's single live-update subscription: one EventSource on
 * /api/v1/events whose events patch the react-query caches in place (grid
 * cells, run headers, pause switches) or invalidate exactly the queries they
 * affect, so every open screen updates without polling. Invalidations are
 * coalesced (a burst of 500 task events costs one refetch per query).
 */
import { useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { API } from "./client";
import { keys } from "./keys";
import type { DagDetail, DagList, Grid, Run, TaskInstance } from "./types";

export interface RunEvent {
  dagId: string;
  runId: string;
  state: string;
  startDate: string | null;
  endDate: string | null;
}
export interface TaskEvent {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  state: string;
  tryNumber: number;
  startDate: string | null;
  endDate: string | null;
}
export interface DagEvent {
  dagId: string;
  isPaused: boolean;
}

export type LiveStatus = "connecting" | "live" | "offline";

/** Listeners for raw task events (the task panel follows its own instance). */
const taskListeners = new Set<(e: TaskEvent) => void>();
export function onTaskEvent(fn: (e: TaskEvent) => void): () => void {
  taskListeners.add(fn);
  return () => taskListeners.delete(fn);
}

class Invalidator {
  private pending = new Map<string, QueryKey>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  constructor(
    private qc: QueryClient,
    private delayMs = 400,
  ) {}
  add(key: QueryKey): void {
    this.pending.set(JSON.stringify(key), key);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }
  flush(): void {
    this.timer = null;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const queryKey of all) void this.qc.invalidateQueries({ queryKey });
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function durationOf(start: string | null, end: string | null): number | null {
  if (!start || !end) return null;
  return Math.max(0, Date.parse(end) - Date.parse(start));
}

function applyRun(qc: QueryClient, inv: Invalidator, e: RunEvent): void {
  let found = false;
  for (const [key, grid] of qc.getQueriesData<Grid>({ queryKey: keys.gridOf(e.dagId) })) {
    if (!grid) continue;
    const i = grid.runs.findIndex((r) => r.runId === e.runId);
    if (i < 0) continue;
    found = true;
    const runs = grid.runs.slice();
    runs[i] = { ...runs[i], state: e.state, startDate: e.startDate, endDate: e.endDate, durationMs: durationOf(e.startDate, e.endDate) };
    qc.setQueryData<Grid>(key, { ...grid, runs });
  }
  // A run no page holds is new: every offset shifted by one, so the grid's pages refetch.
  if (!found) inv.add(keys.gridOf(e.dagId));
  // The DAG list shows each DAG's last runs: it follows every run change, known to the grid or not.
  inv.add(keys.dags);
  qc.setQueryData<Run>(keys.run(e.dagId, e.runId), (old) => (old ? { ...old, state: e.state, startDate: e.startDate, endDate: e.endDate } : old));
  inv.add(keys.run(e.dagId, e.runId));
  inv.add(keys.runsOf(e.dagId));
}

function applyTask(qc: QueryClient, inv: Invalidator, e: TaskEvent): void {
  for (const [key, grid] of qc.getQueriesData<Grid>({ queryKey: keys.gridOf(e.dagId) })) {
    if (!grid) continue;
    const i = grid.runs.findIndex((r) => r.runId === e.runId);
    const t = grid.tasks.findIndex((x) => x.taskId === e.taskId);
    if (i < 0) continue;
    if (t < 0 || grid.tasks[t].mapped || e.mapIndex >= 0) {
      // Mapped counts are aggregates, and an unknown task means a new version: ask the server.
      inv.add(key);
      continue;
    }
    const runs = grid.runs.slice();
    const cells = runs[i].cells.slice();
    cells[t] = { ...(cells[t] ?? {}), state: e.state, tryNumber: e.tryNumber };
    runs[i] = { ...runs[i], cells };
    qc.setQueryData<Grid>(key, { ...grid, runs });
  }
  qc.setQueryData<{ tasks: TaskInstance[] }>(keys.runTasks(e.dagId, e.runId), (old) => {
    if (!old) return old;
    const idx = old.tasks.findIndex((x) => x.taskId === e.taskId && x.mapIndex === e.mapIndex);
    if (idx < 0) return old;
    const tasks = old.tasks.slice();
    tasks[idx] = { ...tasks[idx], state: e.state, tryNumber: e.tryNumber, startDate: e.startDate, endDate: e.endDate };
    return { tasks };
  });
  // A producing task's success records dataset events.
  if (e.state === "success") inv.add(keys.datasets);
  inv.add(keys.runTasks(e.dagId, e.runId));
  inv.add(keys.task(e.dagId, e.runId, e.taskId));
  inv.add(keys.run(e.dagId, e.runId));
  for (const fn of taskListeners) {
    try {
      fn(e);
    } catch {
      // A screen's listener bug must not stop the other screens' updates.
    }
  }
}

function applyDag(qc: QueryClient, e: DagEvent): void {
  for (const [key, list] of qc.getQueriesData<DagList>({ queryKey: [...keys.dags, "list"] })) {
    if (!list) continue;
    if (!list.dags.some((d) => d.dagId === e.dagId)) continue;
    qc.setQueryData<DagList>(key, { ...list, dags: list.dags.map((d) => (d.dagId === e.dagId ? { ...d, paused: e.isPaused } : d)) });
  }
  qc.setQueryData<DagDetail>(keys.dag(e.dagId), (old) => (old ? { ...old, paused: e.isPaused } : old));
}

function parse<T>(ev: MessageEvent): T | null {
  try {
    return JSON.parse(ev.data as string) as T;
  } catch {
    return null;
  }
}

/** Opens the stream while `enabled` (signed in); returns the connection status for the top bar. */
export function useLiveEvents(enabled: boolean): LiveStatus {
  const qc = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const inv = new Invalidator(qc);
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let everConnected = false;
    let stopped = false;

    const connect = () => {
      setStatus("connecting");
      es = new EventSource(`${API}/events`, { withCredentials: true });
      es.addEventListener("hello", () => {
        setStatus("live");
        // Events sent while we were away are lost: refetch what is on screen.
        if (everConnected) void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] !== "me" });
        everConnected = true;
      });
      es.addEventListener("run", (ev) => {
        const e = parse<RunEvent>(ev as MessageEvent);
        if (e) applyRun(qc, inv, e);
      });
      es.addEventListener("task", (ev) => {
        const e = parse<TaskEvent>(ev as MessageEvent);
        if (e) applyTask(qc, inv, e);
      });
      es.addEventListener("dag", (ev) => {
        const e = parse<DagEvent>(ev as MessageEvent);
        if (e) applyDag(qc, e);
        inv.add(keys.dags);
      });
      es.addEventListener("import-errors", () => inv.add(keys.importErrors));
      // Too much changed at once to send piece by piece: refetch what is on screen.
      es.addEventListener("resync", () => void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] !== "me" }));
      es.onerror = () => {
        setStatus(es?.readyState === EventSource.OPEN ? "live" : "offline");
        // The browser retries by itself unless the server refused the stream (401, 404): then we retry slowly.
        if (es?.readyState === EventSource.CLOSED && !stopped) {
          es.close();
          retry = setTimeout(connect, 5000);
        }
      };
    };
    connect();
    return () => {
      stopped = true;
      inv.stop();
      if (retry) clearTimeout(retry);
      es?.close();
    };
  }, [enabled, qc]);

  return enabled ? status : "offline";
}
