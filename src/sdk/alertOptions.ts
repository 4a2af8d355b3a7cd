/**
 * The `alerts` option of dag() and of each task: who hears about failures
 * (notifier names from the config's alerts.notifiers), which events, and a
 * run deadline. Checked when the DAG file loads, so a typo fails the import
 * with the DAG and task named.
 *
 * Whether a name is a configured notifier is checked by the scheduler
 * (src/alerts/notifierCheck.ts), not here: DAG files are parsed in child
 * processes without the config, and a parse result is cached by the file's
 * content alone, so it must not depend on any process's config.
 */
import type { DagAlertSpec, TaskAlertSpec } from "../core/dagSpec.js";
import { suggestion } from "../core/didYouMean.js";
import { parseDuration } from "../core/schedule.js";

/** A DAG's alerts (`dag({ …, alerts: { … } })`); `alerts: false` sends none for the DAG. */
export interface DagAlertOptions {
  /** Notifier names from the config (alerts.notifiers); default: alerts.default. */
  notify?: readonly string[];
  /** Alert when a task fails for good and when a run fails (default true). */
  onFailure?: boolean;
  /** Alert when a try fails and the task will be retried (default true). */
  onRetry?: boolean;
  /** Alert when a run succeeds (default false). */
  onSuccess?: boolean;
  /**
   * Alert when a run is not finished in time: a duration after the run was
   * queued ("2h", "45m", ms), or a time of day in the DAG's timezone
   * (`{ at: "06:00" }`: the first 06:00 after the run was queued).
   */
  deadline?: number | string | { at: string };
}

/** A task's alerts, over its DAG's (`d.task(id, fn, { alerts: { notify: ["pager"] } })`); `alerts: false` sends none for it. */
export interface TaskAlertOptions {
  notify?: readonly string[];
  onFailure?: boolean;
  onRetry?: boolean;
}

type Fail = (message: string) => never;

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
const DAG_KEYS = ["notify", "onFailure", "onRetry", "onSuccess", "deadline"];
const TASK_KEYS = ["notify", "onFailure", "onRetry"];
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

function checkKeys(given: object, allowed: readonly string[], where: string, fail: Fail): void {
  for (const key of Object.keys(given)) {
    if (allowed.includes(key)) continue;
    const dagOnly = where.startsWith("task") && DAG_KEYS.includes(key) ? `: ${key} is a DAG option, set it in dag({ alerts }).` : "";
    fail(`${where}: unknown key "${key}" (it takes ${allowed.join(", ")})${dagOnly || suggestion(key, allowed) || "."}`);
  }
}

function notifyList(value: unknown, where: string, fail: Fail): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) fail(`${where}.notify must be a list of notifier names, like ["slack_ops"].`);
  const out: string[] = [];
  for (const name of value) {
    if (typeof name !== "string" || !NAME_RE.test(name)) fail(`${where}.notify: ${JSON.stringify(name)} is not a notifier name (the keys of alerts.notifiers in the config).`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function flag(value: unknown, key: string, where: string, fail: Fail): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") fail(`${where}.${key} must be true or false, got ${JSON.stringify(value)}.`);
  return value as boolean | undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The checked, stored form of dag({ alerts }); undefined when not given (DAGs without it keep their version hash). */
export function dagAlertSpec(given: unknown, fail: Fail): DagAlertSpec | false | undefined {
  if (given === undefined || given === false) return given;
  const where = "alerts";
  if (!isObject(given)) fail(`${where} must be false or an object like { notify: ["slack_ops"], onSuccess: false, deadline: "2h" }.`);
  checkKeys(given, DAG_KEYS, where, fail);
  const spec: DagAlertSpec = {};
  const notify = notifyList(given.notify, where, fail);
  if (notify) spec.notify = notify;
  for (const key of ["onFailure", "onRetry", "onSuccess"] as const) {
    const v = flag(given[key], key, where, fail);
    if (v !== undefined) spec[key] = v;
  }
  const deadline = given.deadline;
  if (isObject(deadline)) {
    checkKeys(deadline, ["at"], `${where}.deadline`, fail);
    if (typeof deadline.at !== "string" || !TIME_OF_DAY.test(deadline.at)) {
      fail(`${where}.deadline.at ${JSON.stringify(deadline.at)} is not a time of day; write it as "HH:MM" (24-hour, in the DAG's timezone), like "06:00".`);
    }
    spec.deadlineAt = deadline.at;
  } else if (deadline !== undefined) {
    if (typeof deadline !== "string" && typeof deadline !== "number") fail(`${where}.deadline must be a duration like "2h" or { at: "06:00" }.`);
    try {
      spec.deadlineMs = parseDuration(deadline, `${where}.deadline`);
    } catch (err) {
      fail(`${(err as Error).message} Or give a time of day: { at: "06:00" }.`);
    }
  }
  return spec;
}

/** The checked, stored form of a task's `alerts`; undefined when not given. */
export function taskAlertSpec(given: unknown, taskId: string, fail: Fail): TaskAlertSpec | false | undefined {
  if (given === undefined || given === false) return given;
  const where = `task "${taskId}": alerts`;
  if (!isObject(given)) fail(`${where} must be false or an object like { notify: ["pager"] }.`);
  checkKeys(given, TASK_KEYS, where, fail);
  const spec: TaskAlertSpec = {};
  const notify = notifyList(given.notify, where, fail);
  if (notify) spec.notify = notify;
  for (const key of ["onFailure", "onRetry"] as const) {
    const v = flag(given[key], key, where, fail);
    if (v !== undefined) spec[key] = v;
  }
  return spec;
}
