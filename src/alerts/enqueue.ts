/**
 * Add an alert to the outbox, from any process that has the store and the
 * config: the alert monitor does for failures, deadlines and import errors;
 * git sync (src/bundles/) does for a failed sync:
 *
 *   await enqueueAlert(store, config.alerts, gitSyncFailedAlert({ bundle: "pipelines", commit: sha, error: err.message }));
 *
 * The alert is recorded once per dedupe key whoever calls (the second call
 * is a no-op that answers undefined), rate-limited per group, and delivered
 * by the dispatcher of a scheduler process (src/alerts/dispatcher.ts) within
 * alerts.pollIntervalMs. It never sends anything itself, so it is cheap and
 * safe to call from a request handler or a loop.
 */
import { createHash } from "node:crypto";
import type { SluiceConfig } from "../config/config.js";
import type { CreatedAlert } from "../store/alertQueries.js";
import type { Store } from "../store/store.js";
import { KIND_LABELS, type AlertKind } from "./kinds.js";
import { configuredList } from "./notifierConfig.js";

export type AlertsSettings = SluiceConfig["alerts"];

/** Longest error text kept with an alert (the rest stays in the task's log). */
export const MAX_ALERT_MESSAGE = 8_000;

export interface AlertEvent {
  kind: AlertKind;
  /** Unique per event: the same event seen twice (by two schedulers, or one twice) is recorded once. */
  dedupeKey: string;
  /** Rate-limit group; default `<kind>:<dagId>:<taskId>`. */
  rateKey?: string;
  title: string;
  /** The error text (or other body); cut to MAX_ALERT_MESSAGE. */
  message: string;
  dagId?: string | null;
  taskId?: string | null;
  runId?: string | null;
  runPk?: number | null;
  mapIndex?: number | null;
  tryNumber?: number | null;
  /** Event-specific facts shown in the message (maxTries, nextTryAt, bundle, commit…). */
  details?: Record<string, unknown>;
  /** Notifier names; undefined: alerts.default. */
  notify?: readonly string[];
}

/** A short stable hash (dedupe keys of texts). */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * Record `event` (unless alerts are off or it was recorded before) with one
 * delivery per notifier. A name that is not configured gets a failed
 * delivery saying so, so the history shows where the alert did not go.
 */
export async function enqueueAlert(store: Store, settings: AlertsSettings, event: AlertEvent, now = Date.now()): Promise<CreatedAlert | undefined> {
  if (!settings.enabled) return undefined;
  const names = [...new Set(event.notify ?? settings.default)];
  const configured = Object.keys(settings.notifiers);
  const notifiers = names.map((name) =>
    Object.hasOwn(settings.notifiers, name)
      ? { name }
      : { name, error: `notifier "${name}" is not configured (configured: ${configuredList(configured)}); fix alerts.notify in the DAG or add it to alerts.notifiers` },
  );
  return store.alerts.create(
    {
      dedupe_key: event.dedupeKey,
      kind: event.kind,
      rate_key: event.rateKey ?? `${event.kind}:${event.dagId ?? ""}:${event.taskId ?? ""}`,
      dag_id: event.dagId ?? null,
      task_id: event.taskId ?? null,
      run_id: event.runId ?? null,
      run_pk: event.runPk ?? null,
      map_index: event.mapIndex ?? null,
      try_number: event.tryNumber ?? null,
      title: event.title.slice(0, 500),
      message: event.message.length > MAX_ALERT_MESSAGE ? `${event.message.slice(0, MAX_ALERT_MESSAGE)}\n… (cut at ${MAX_ALERT_MESSAGE} characters)` : event.message,
      details: JSON.stringify(event.details ?? {}),
    },
    { notifiers, rateLimit: settings.rateLimit, now },
  );
}

/** The alert of a failed git sync of a bundle (for src/bundles/). Rate-limited per bundle; one per bundle, commit and error text. */
/**
 * `at`: when the failing sync started. The syncer reports a failure when it
 * begins or changes, not on every retry, so each report is its own alert (a
 * repository that recovers and fails the same way a week later alerts again).
 */
export function gitSyncFailedAlert(o: { bundle: string; commit?: string | null; error: string; at?: number }): AlertEvent {
  return {
    kind: "git_sync_failed",
    dedupeKey: `git_sync_failed:${o.bundle}:${o.commit ?? "-"}:${shortHash(o.error)}${o.at === undefined ? "" : `:${o.at}`}`,
    rateKey: `git_sync_failed:${o.bundle}`,
    title: `${KIND_LABELS.git_sync_failed}: bundle ${o.bundle}${o.commit ? ` at ${o.commit.slice(0, 12)}` : ""}`,
    message: o.error,
    details: { bundle: o.bundle, commit: o.commit ?? null },
  };
}
