/**
 * What an alert says, independent of where it goes: a title, labelled
 * fields (DAG, task, run, try…), an error excerpt and a link into the web
 * UI. The notifiers render it (Slack blocks, an email's text and HTML parts,
 * a webhook's JSON). Built from the stored alert row when it is sent, so the
 * links follow the current api.publicUrl.
 */
import type { AlertRow } from "../store/alertQueries.js";
import { KIND_LABELS, type AlertKind } from "./kinds.js";

export interface AlertContent {
  /** The alert's id; null for a test message. */
  id: number | null;
  kind: AlertKind | "test";
  title: string;
  fields: { label: string; value: string }[];
  /** The error (or other body) text, bounded; null when there is none. */
  error: string | null;
  link: { label: string; url: string } | null;
  /** Alerts of the same (DAG, task, event) that the rate limit held back since the previous one sent. */
  suppressedCount: number;
  createdAt: number;
  /** The raw facts, for the webhook's JSON. */
  facts: {
    dagId: string | null;
    taskId: string | null;
    runId: string | null;
    mapIndex: number | null;
    tryNumber: number | null;
    details: Record<string, unknown>;
  };
}

/** Where links point: api.publicUrl, else http://localhost:<api.port>. */
export function uiBase(api: { publicUrl?: string; port: number }): string {
  return (api.publicUrl ?? `http://localhost:${api.port}`).replace(/\/+$/, "");
}

/** The web UI's task panel (its Logs tab opens first) for one task instance; the same URL as ui/src/lib/taskLinks.ts. */
export function taskLogsUrl(base: string, t: { dagId: string; runId: string; taskId: string; mapIndex?: number | null }): string {
  const q = new URLSearchParams({ run: t.runId, task: t.taskId });
  if (t.mapIndex !== undefined && t.mapIndex !== null && t.mapIndex >= 0) q.set("mapIndex", String(t.mapIndex));
  return `${base}/dags/${encodeURIComponent(t.dagId)}/grid?${q.toString()}`;
}

export function runUrl(base: string, dagId: string, runId: string): string {
  return `${base}/dags/${encodeURIComponent(dagId)}/grid?${new URLSearchParams({ run: runId }).toString()}`;
}

const iso = (ms: unknown) => (typeof ms === "number" ? new Date(ms).toISOString().replace(".000Z", "Z") : "");

function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.round((ms % 3_600_000) / 60_000);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** The content of a stored alert. */
export function alertContent(a: AlertRow, base: string): AlertContent {
  const kind = a.kind as AlertKind;
  const d = parseDetails(a.details);
  const fields: { label: string; value: string }[] = [];
  const add = (label: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== "") fields.push({ label, value: String(value) });
  };
  let link: AlertContent["link"] = null;
  if (kind === "task_failed" || kind === "task_retry") {
    add("DAG", a.dag_id);
    add("Task", a.task_id);
    add("Run", a.run_id);
    add("Try", typeof d.maxTries === "number" ? `${a.try_number} of ${d.maxTries}` : a.try_number);
    if (a.map_index !== null && a.map_index >= 0) add("Map index", a.map_index);
    if (kind === "task_retry") add("Next try", d.nextTryAt ? iso(d.nextTryAt) : "when the retry delay has passed");
    if (a.dag_id && a.run_id && a.task_id) link = { label: "View the task's logs", url: taskLogsUrl(base, { dagId: a.dag_id, runId: a.run_id, taskId: a.task_id, mapIndex: a.map_index }) };
  } else if (kind === "run_failed" || kind === "run_succeeded" || kind === "deadline_missed") {
    add("DAG", a.dag_id);
    add("Run", a.run_id);
    if (kind === "deadline_missed") {
      add("Deadline", `${iso(d.deadlineAt)}${typeof d.rule === "string" ? ` (${d.rule})` : ""}`);
      add("State", d.finishedAt ? `finished ${iso(d.finishedAt)} (${d.runState})` : `${d.runState ?? "running"}, not finished`);
    } else {
      add("State", kind === "run_failed" ? "failed" : "success");
      if (typeof d.durationMs === "number") add("Duration", minutes(d.durationMs));
      if (Array.isArray(d.failedTasks) && d.failedTasks.length) add("Failed tasks", d.failedTasks.join(", "));
    }
    if (d.note) add("Note", d.note);
    if (a.dag_id && a.run_id) link = { label: "View the run", url: runUrl(base, a.dag_id, a.run_id) };
  } else if (kind === "import_error") {
    add("File", d.path);
    if (Array.isArray(d.dagIds) && d.dagIds.length) add("DAGs (last good version keeps running)", d.dagIds.join(", "));
    link = { label: "View import errors", url: `${base}/?importErrors=1` };
  } else if (kind === "git_sync_failed") {
    add("Bundle", d.bundle);
    add("Commit", d.commit);
    link = { label: "View alerts", url: `${base}/alerts` };
  }
  return {
    id: a.id,
    kind,
    title: a.title,
    fields,
    error: a.message === "" ? null : a.message,
    link,
    suppressedCount: a.suppressed_count,
    createdAt: a.created_at,
    facts: { dagId: a.dag_id, taskId: a.task_id, runId: a.run_id, mapIndex: a.map_index, tryNumber: a.try_number, details: d },
  };
}

/** The message `sluice alerts test <notifier>` sends. */
export function testContent(notifier: string, base: string, now: number): AlertContent {
  return {
    id: null,
    kind: "test",
    title: `${KIND_LABELS.test} from Sluice (notifier "${notifier}")`,
    fields: [
      { label: "Notifier", value: notifier },
      { label: "Sent", value: iso(now) },
    ],
    error: null,
    link: { label: "Open Sluice", url: `${base}/alerts` },
    suppressedCount: 0,
    createdAt: now,
    facts: { dagId: null, taskId: null, runId: null, mapIndex: null, tryNumber: null, details: {} },
  };
}

function parseDetails(text: string): Record<string, any> {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, any>) : {};
  } catch {
    return {};
  }
}

/** The first `max` characters of a text, cut at a line end when one is near, with a note of what was left out. */
export function excerpt(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf("\n", max);
  const end = cut > max * 0.6 ? cut : max;
  return `${text.slice(0, end)}\n… (${text.length - end} more characters)`;
}

/** "3 similar alerts were suppressed" or empty. */
export function suppressedNote(c: AlertContent): string {
  if (c.suppressedCount <= 0) return "";
  return `${c.suppressedCount} similar alert${c.suppressedCount === 1 ? " was" : "s were"} suppressed by the rate limit since the previous one.`;
}
