/**
 * Who hears about an event: a task's own `alerts` over its DAG's, over the
 * config's alerts.default; and whether the event is on at all (failures and
 * retries by default, successes only when a DAG opts in, deadlines when one
 * is set). `alerts: false` on a DAG silences it unless a task says otherwise;
 * on a task it silences that task.
 */
import type { DagSpec } from "../core/dagSpec.js";

export interface Route {
  send: boolean;
  notify: readonly string[];
}

const OFF: Route = { send: false, notify: [] };

/** A task's final failure or a failed try that will be retried. Without a spec (a deleted version): failures to the defaults. */
export function taskRoute(spec: DagSpec | undefined, taskId: string, event: "failure" | "retry", defaults: readonly string[]): Route {
  const dag = spec?.alerts;
  const task = spec?.tasks.find((t) => t.id === taskId)?.alerts;
  if (task === false || (dag === false && task === undefined)) return OFF;
  const key = event === "failure" ? "onFailure" : "onRetry";
  const on = task?.[key] ?? (dag || undefined)?.[key] ?? true;
  return on ? { send: true, notify: task?.notify ?? (dag || undefined)?.notify ?? defaults } : OFF;
}

/** A run's end (failure or success) or a missed deadline. */
export function runRoute(spec: DagSpec | undefined, event: "failure" | "success" | "deadline", defaults: readonly string[]): Route {
  const dag = spec?.alerts;
  if (dag === false) return OFF;
  const on = event === "failure" ? (dag?.onFailure ?? true) : event === "success" ? dag?.onSuccess === true : dag?.deadlineMs !== undefined || dag?.deadlineAt !== undefined;
  return on ? { send: true, notify: dag?.notify ?? defaults } : OFF;
}

/** Every notifier name a DAG's code mentions (its own and its tasks'). */
export function namesIn(spec: DagSpec): string[] {
  const names = new Set<string>();
  if (spec.alerts) for (const n of spec.alerts.notify ?? []) names.add(n);
  for (const t of spec.tasks) if (t.alerts) for (const n of t.alerts.notify ?? []) names.add(n);
  return [...names];
}
