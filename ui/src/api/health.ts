/**
 * GET /api/v1/health, polled by the shell every 30 s (one request for the
 * whole app, whatever page is open), so the top bar can say when no
 * scheduler is alive: the one failure that makes every screen look fine
 * while nothing runs.
 */
import { useQuery } from "@tanstack/react-query";
import { apiUrl } from "./client";
import { keys } from "./keys";

export interface Health {
  status: "ok" | "unhealthy";
  database: { ok: boolean; error?: string };
  scheduler: { lastHeartbeat: string | null; heartbeatAgeMs: number | null; state: string | null };
}

export const HEALTH_POLL_MS = 30_000;
/**
 * A heartbeat older than this means the scheduler is gone. Schedulers beat
 * every 5 s by default and a task attempt is judged dead after 60 s without
 * one (scheduler.zombieThresholdMs); the same minute here, so a busy
 * scheduler's late beat never raises the alarm.
 */
export const HEARTBEAT_STALE_MS = 60_000;

/** Read directly, not through api(): a 503 (database down) carries the body this needs. */
async function fetchHealth(): Promise<Health> {
  const res = await fetch(apiUrl("/health"), { headers: { accept: "application/json" }, credentials: "same-origin" });
  const body = (await res.json().catch(() => null)) as Health | null;
  if (!body?.scheduler) throw new Error(`GET /api/v1/health answered ${res.status} without a health report.`);
  return body;
}

export type SchedulerStatus =
  | { kind: "ok" }
  | { kind: "unknown" }
  | { kind: "database"; error: string }
  | { kind: "never" }
  | { kind: "stopped"; state: string; lastHeartbeat: string | null; ageMs: number | null }
  | { kind: "stale"; lastHeartbeat: string | null; ageMs: number };

/** What the health report says about the scheduler; `sinceFetchMs` ages the heartbeat between polls. */
export function schedulerStatus(h: Health | undefined, sinceFetchMs = 0): SchedulerStatus {
  if (!h) return { kind: "unknown" };
  if (!h.database.ok) return { kind: "database", error: h.database.error ?? "the database did not answer" };
  const s = h.scheduler;
  const ageMs = s.heartbeatAgeMs === null ? null : s.heartbeatAgeMs + Math.max(0, sinceFetchMs);
  if (s.state === null) return { kind: "never" };
  if (s.state !== "running") return { kind: "stopped", state: s.state, lastHeartbeat: s.lastHeartbeat, ageMs };
  if (ageMs !== null && ageMs > HEARTBEAT_STALE_MS) return { kind: "stale", lastHeartbeat: s.lastHeartbeat, ageMs };
  return { kind: "ok" };
}

export function useHealth(enabled: boolean) {
  return useQuery({
    queryKey: keys.health,
    queryFn: fetchHealth,
    enabled,
    refetchInterval: HEALTH_POLL_MS,
    // A failed poll is retried by the next one; three quick retries would only add load to a struggling server.
    retry: false,
  });
}
