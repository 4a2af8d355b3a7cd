/**
 * A run's deadline, from its DAG's `alerts.deadline`. Measured from when the
 * run was queued (created or triggered), as Airflow 3's deadline alerts do
 * with DAGRUN_QUEUED_AT: a run waiting for a slot is late too.
 * - a duration: queued_at + duration;
 * - a time of day `{ at: "06:00" }`: the first 06:00 in the DAG's timezone
 *   after queued_at (croner does the time-zone and DST arithmetic);
 * - both: whichever comes first.
 */
import { Cron } from "croner";
import type { DagAlertSpec } from "../core/dagSpec.js";

export interface Deadline {
  at: number;
  /** How it was set, for the message: "2 h after the run was queued", "06:00 Europe/Berlin". */
  rule: string;
}

const crons = new Map<string, Cron>();

/** The next `hh:mm` in `timezone` strictly after `after` (ms). */
export function nextTimeOfDay(hhmm: string, timezone: string, after: number): number | undefined {
  const key = `${hhmm} ${timezone}`;
  let cron = crons.get(key);
  if (!cron) {
    const [h, m] = hhmm.split(":").map(Number);
    cron = new Cron(`${m} ${h} * * *`, { timezone, paused: true });
    crons.set(key, cron);
  }
  return cron.nextRun(new Date(after))?.getTime();
}

function describeMs(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1_000, "s"],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, name] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    }
  }
  return parts.join(" ") || `${ms} ms`;
}

export function deadlineOf(run: { queued_at: number }, alerts: DagAlertSpec | false | undefined, timezone: string): Deadline | undefined {
  if (!alerts) return undefined;
  const options: Deadline[] = [];
  if (alerts.deadlineMs !== undefined) options.push({ at: run.queued_at + alerts.deadlineMs, rule: `${describeMs(alerts.deadlineMs)} after the run was queued` });
  if (alerts.deadlineAt !== undefined) {
    const at = nextTimeOfDay(alerts.deadlineAt, timezone, run.queued_at);
    if (at !== undefined) options.push({ at, rule: `${alerts.deadlineAt} ${timezone}` });
  }
  return options.sort((a, b) => a.at - b.at)[0];
}
