/**
 * Alert history (src/alerts/): every alert with its deliveries per notifier
 * and each delivery's attempts, and how each configured notifier has been
 * doing. Read-only: alerts are recorded by the schedulers' alert monitors.
 * Notifier configs are never returned (they hold secrets): only names and kinds.
 */
import { z } from "zod";
import { ALERT_KINDS } from "../../alerts/kinds.js";
import { ALERT_STATES, type AlertAttemptRow, type AlertDeliveryRow, type AlertRow } from "../../store/alertQueries.js";
import { iso, MaybeTimestamp, Page, parseJson, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const Attempt = z.object({
  attempt: z.number(),
  startedAt: Timestamp,
  durationMs: z.number(),
  ok: z.boolean(),
  error: z.string().nullable(),
  response: z.string().nullable().describe('What the other side answered, e.g. "HTTP 200" or "250 2.0.0 Ok: queued".'),
});

const Delivery = z.object({
  id: z.number(),
  notifier: z.string(),
  state: z.enum(["pending", "sending", "delivered", "failed"]).describe("pending: waiting for its (next) attempt; failed: attempts used up, or an error no retry would fix."),
  attempts: z.number(),
  nextAttemptAt: MaybeTimestamp.describe("When a pending delivery is tried (again)."),
  lastError: z.string().nullable().describe("The error of the latest failed attempt."),
  deliveredAt: MaybeTimestamp,
  attemptLog: z.array(Attempt).describe("Every attempt, oldest first."),
});

const Alert = z.object({
  id: z.number(),
  kind: z.enum(ALERT_KINDS),
  state: z.enum(ALERT_STATES).describe("suppressed: held back by the rate limit; no_notifiers: none configured for it; else the sum of its deliveries."),
  title: z.string(),
  message: z.string().describe("The error text (bounded) or other body."),
  dagId: z.string().nullable(),
  taskId: z.string().nullable(),
  runId: z.string().nullable(),
  mapIndex: z.number().nullable(),
  tryNumber: z.number().nullable(),
  details: z.unknown().describe("Event-specific facts (maxTries, nextTryAt, deadlineAt, failedTasks, path, bundle, commit…)."),
  suppressedCount: z.number().describe("Similar alerts (same DAG, task and event) suppressed since the previous one sent."),
  createdAt: Timestamp,
  deliveries: z.array(Delivery),
});

const NotifierState = z.object({
  name: z.string(),
  kind: z.string().nullable().describe('"slack", "email" or "webhook"; null for a name deliveries went to that is not configured.'),
  configured: z.boolean(),
  isDefault: z.boolean().describe("Listed in alerts.default."),
  last24h: z.object({ pending: z.number(), sending: z.number(), delivered: z.number(), failed: z.number() }).describe("Deliveries created in the last 24 hours, by state."),
  lastDeliveredAt: MaybeTimestamp,
  lastError: z.string().nullable(),
  lastErrorAt: MaybeTimestamp,
});

const csv = <T extends string>(values: readonly [T, ...T[]], what: string) =>
  z
    .string()
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(z.enum(values)))
    .describe(`Comma-separated ${what}: ${values.join(", ")}.`);

function alertJson(a: AlertRow, deliveries: AlertDeliveryRow[], attempts: Map<number, AlertAttemptRow[]>): z.output<typeof Alert> {
  return {
    id: a.id,
    kind: a.kind as z.output<typeof Alert>["kind"],
    state: a.state as z.output<typeof Alert>["state"],
    title: a.title,
    message: a.message,
    dagId: a.dag_id,
    taskId: a.task_id,
    runId: a.run_id,
    mapIndex: a.map_index,
    tryNumber: a.try_number,
    details: parseJson(a.details),
    suppressedCount: a.suppressed_count,
    createdAt: iso(a.created_at)!,
    deliveries: deliveries.map((d) => ({
      id: d.id,
      notifier: d.notifier,
      state: d.state as z.output<typeof Delivery>["state"],
      attempts: d.attempts,
      nextAttemptAt: d.state === "pending" ? iso(d.next_attempt_at) : null,
      lastError: d.last_error,
      deliveredAt: iso(d.delivered_at),
      attemptLog: (attempts.get(d.id) ?? []).map((t) => ({ attempt: t.attempt, startedAt: iso(t.started_at)!, durationMs: t.duration_ms, ok: t.ok === 1, error: t.error, response: t.response })),
    })),
  };
}

export function alertRoutes(app: ApiApp, { store, config, now }: ApiDeps): void {
  app.get(
    "/alerts",
    {
      schema: {
        tags: ["alerts"],
        summary: "Alert history, newest first, with each alert's deliveries per notifier and their attempts",
        querystring: z.strictObject({
          kind: csv(ALERT_KINDS, "alert kinds").optional(),
          state: csv(ALERT_STATES, "alert states").optional(),
          dagId: z.string().min(1).max(250).optional().describe("Only this DAG's alerts."),
          taskId: z.string().min(1).max(250).optional().describe("Only this task's alerts."),
          notifier: z.string().min(1).max(100).optional().describe("Only alerts with a delivery to this notifier."),
          since: Timestamp.optional().describe("Created at or after."),
          until: Timestamp.optional().describe("Created at or before."),
          ...Page,
        }),
        response: { 200: z.object({ alerts: z.array(Alert), total: z.number(), limit: z.number(), offset: z.number() }) },
      },
    },
    async (req) => {
      const q = req.query;
      const { rows, total } = await store.alerts.list({
        kinds: q.kind,
        states: q.state,
        dagId: q.dagId,
        taskId: q.taskId,
        notifier: q.notifier,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        until: q.until === undefined ? undefined : Date.parse(q.until),
        limit: q.limit,
        offset: q.offset,
      });
      const deliveries = await store.alerts.deliveriesOf(rows.map((a) => a.id));
      const attempts = new Map<number, AlertAttemptRow[]>();
      for (const t of await store.alerts.attemptsOf(deliveries.map((d) => d.id))) attempts.set(t.delivery_id, [...(attempts.get(t.delivery_id) ?? []), t]);
      const byAlert = new Map<number, AlertDeliveryRow[]>();
      for (const d of deliveries) byAlert.set(d.alert_id, [...(byAlert.get(d.alert_id) ?? []), d]);
      return { alerts: rows.map((a) => alertJson(a, byAlert.get(a.id) ?? [], attempts)), total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    "/alerts/notifiers",
    {
      schema: {
        tags: ["alerts"],
        summary: "The configured notifiers (names and kinds, never their settings) and how their deliveries have gone",
        response: { 200: z.object({ notifiers: z.array(NotifierState), enabled: z.boolean() }) },
      },
    },
    async () => {
      const configured = config.alerts.notifiers;
      const stats = new Map((await store.alerts.notifierStats(now() - 86_400_000)).map((s) => [s.notifier, s]));
      const names = [...new Set([...Object.keys(configured), ...stats.keys()])].sort();
      return {
        enabled: config.alerts.enabled,
        notifiers: names.map((name) => {
          const s = stats.get(name);
          return {
            name,
            kind: Object.hasOwn(configured, name) ? configured[name].kind : null,
            configured: Object.hasOwn(configured, name),
            isDefault: config.alerts.default.includes(name),
            last24h: s?.counts ?? { pending: 0, sending: 0, delivered: 0, failed: 0 },
            lastDeliveredAt: iso(s?.lastDeliveredAt),
            lastError: s?.lastError ?? null,
            lastErrorAt: iso(s?.lastErrorAt),
          };
        }),
      };
    },
  );
}
