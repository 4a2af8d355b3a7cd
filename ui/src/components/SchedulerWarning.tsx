/**
 * Top-bar warning when no scheduler is alive (none ever ran, it stopped, or
 * its heartbeat is stale) or the database is unreachable: without it every
 * screen looks fine while triggered runs sit queued forever. Nothing is
 * shown while the scheduler is healthy or before the first health answer.
 */
import { schedulerStatus, useHealth, type SchedulerStatus } from "../api/health";
import { usePrefs } from "../lib/prefs";
import { formatRelative } from "../lib/time";
import { Icon } from "./Icon";

const START_HINT = "Start one with `sluice scheduler` (or `sluice standalone`).";

function describe(s: SchedulerStatus, fmt: (v: string | null) => string): { label: string; detail: string } | null {
  const beat = (last: string | null, ageMs: number | null) =>
    last === null || ageMs === null ? "Last scheduler heartbeat: unknown." : `Last scheduler heartbeat: ${fmt(last)} (${formatRelative(Date.now() - ageMs)}).`;
  switch (s.kind) {
    case "ok":
    case "unknown":
      return null;
    case "database":
      return { label: "Database unreachable", detail: `The API cannot reach the metadata database (${s.error}), so no scheduler can start runs.` };
    case "never":
      return { label: "Scheduler not running", detail: `No scheduler has ever run on this database. ${START_HINT}` };
    case "stopped":
      return { label: "Scheduler not running", detail: `${beat(s.lastHeartbeat, s.ageMs)} The scheduler ${s.state === "dead" ? "was declared dead" : "has stopped"}. ${START_HINT}` };
    case "stale":
      return {
        label: "Scheduler not running",
        detail: `${beat(s.lastHeartbeat, s.ageMs)} A running scheduler beats every few seconds: it has stopped, hangs, or cannot reach the database.`,
      };
  }
}

export function SchedulerWarning({ enabled }: { enabled: boolean }) {
  const health = useHealth(enabled);
  const { fmt } = usePrefs();
  const status = schedulerStatus(health.data, health.dataUpdatedAt ? Date.now() - health.dataUpdatedAt : 0);
  const text = describe(status, (v) => fmt(v));
  if (!text) return null;
  return (
    <span className="sched-warn" role="status" aria-label={`${text.label} — runs won't start. ${text.detail}`} title={text.detail} data-testid="scheduler-warning" data-kind={status.kind}>
      <Icon name="alert" size={14} />
      <span>
        {text.label}
        <span className="sched-warn-more"> — runs won't start</span>
      </span>
    </span>
  );
}
