/**
 * Alerts: how each configured notifier has been doing (NotifierTable), and
 * the history of alerts, newest first, each with its deliveries per notifier:
 * delivered, waiting for a retry, or failed with the error that stopped it.
 * Filters and the page live in the URL. Re-read every few seconds: alerts are
 * recorded by the scheduler's alert monitor, not sent as live events.
 */
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useAlertNotifiers, useAlerts } from "../../api/hooks";
import type { Alert, AlertDelivery, AlertKind, AlertState } from "../../api/types";
import { DataTable } from "../../components/DataTable";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Pagination } from "../../components/Pagination";
import { Time } from "../../components/Time";
import { taskInstanceHref } from "../../lib/taskLinks";
import { NotifierTable } from "./NotifierTable";
import { AlertStateBadge, DeliveryStateBadge } from "./badges";
import "../../styles/alerts.css";

const PAGE = 50;

export const KIND_LABELS: Record<AlertKind, string> = {
  task_failed: "Task failed",
  task_retry: "Up for retry",
  run_failed: "Run failed",
  run_succeeded: "Run succeeded",
  deadline_missed: "Deadline missed",
  import_error: "Import error",
  git_sync_failed: "Git sync failed",
};
const STATE_FILTERS: { value: AlertState; label: string }[] = [
  { value: "failed", label: "Failed" },
  { value: "pending", label: "Sending" },
  { value: "delivered", label: "Delivered" },
  { value: "suppressed", label: "Suppressed" },
  { value: "no_notifiers", label: "No notifier" },
];

function Delivery({ d }: { d: AlertDelivery }) {
  return (
    <li className="delivery" data-testid="alert-delivery" data-notifier={d.notifier} data-state={d.state}>
      <span className="delivery-head">
        <span className="mono delivery-name">{d.notifier}</span>
        <DeliveryStateBadge state={d.state} />
        {d.attempts > 1 && <span className="muted">{d.attempts} attempts</span>}
        {d.state === "pending" && d.nextAttemptAt && d.attempts > 0 && (
          <span className="muted">
            next <Time value={d.nextAttemptAt} relative />
          </span>
        )}
      </span>
      {d.lastError && d.state !== "delivered" && (
        <span className="delivery-error" data-testid="delivery-error">
          {d.lastError}
        </span>
      )}
    </li>
  );
}

function Subject({ a }: { a: Alert }) {
  return (
    <span className="alert-subject">
      {a.dagId && (
        <Link to={`/dags/${encodeURIComponent(a.dagId)}`} className="mono">
          {a.dagId}
        </Link>
      )}
      {a.dagId && a.taskId && a.runId && (
        <>
          {" · "}
          <Link to={taskInstanceHref({ dagId: a.dagId, runId: a.runId, taskId: a.taskId, mapIndex: a.mapIndex ?? -1 })} className="mono">
            {a.taskId}
            {a.mapIndex !== null && a.mapIndex >= 0 ? `[${a.mapIndex}]` : ""}
          </Link>
          {a.tryNumber !== null && <span className="muted"> try {a.tryNumber}</span>}
        </>
      )}
      {a.dagId && !a.taskId && a.runId && (
        <>
          {" · "}
          <Link to={`/dags/${encodeURIComponent(a.dagId)}/grid?${new URLSearchParams({ run: a.runId }).toString()}`} className="mono">
            {a.runId}
          </Link>
        </>
      )}
    </span>
  );
}

function Details({ a }: { a: Alert }) {
  const attempts = a.deliveries.flatMap((d) => d.attemptLog.map((t) => ({ ...t, notifier: d.notifier })));
  return (
    <div className="alert-details">
      {a.message && <pre className="alert-message">{a.message}</pre>}
      {attempts.length > 0 ? (
        <table className="table table-compact alert-attempts">
          <caption className="sr-only">Send attempts</caption>
          <thead>
            <tr>
              <th scope="col">Notifier</th>
              <th scope="col" className="num">
                Attempt
              </th>
              <th scope="col">Sent</th>
              <th scope="col" className="num">
                Took
              </th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {attempts.map((t) => (
              <tr key={`${t.notifier}-${t.attempt}`} data-testid="alert-attempt">
                <td className="mono">{t.notifier}</td>
                <td className="num">{t.attempt}</td>
                <td className="nowrap">
                  <Time value={t.startedAt} />
                </td>
                <td className="num">{t.durationMs} ms</td>
                <td>{t.ok ? <span>{t.response ?? "sent"}</span> : <span className="delivery-error">{t.error}</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{a.state === "suppressed" ? "Held back by the rate limit (alerts.rateLimit): nothing was sent." : "No send attempt yet."}</p>
      )}
    </div>
  );
}

function AlertRow({ a }: { a: Alert }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr data-testid="alert-row" data-alert-id={a.id} data-kind={a.kind} data-state={a.state}>
        <td className="nowrap">
          <Time value={a.createdAt} kind="short" />
        </td>
        <td className="nowrap">
          <span className={`alert-kind alert-kind-${a.kind}`}>{KIND_LABELS[a.kind] ?? a.kind}</span>
        </td>
        <td>
          <div className="alert-main">
            <span className="alert-title">{a.title}</span>
            <Subject a={a} />
            {a.suppressedCount > 0 && (
              <span className="alert-suppressed" data-testid="alert-suppressed-count">
                {a.suppressedCount} similar {a.suppressedCount === 1 ? "alert was" : "alerts were"} suppressed before this one
              </span>
            )}
          </div>
        </td>
        <td>
          <AlertStateBadge state={a.state} />
        </td>
        <td>
          {a.deliveries.length > 0 ? (
            <ul className="deliveries">
              {a.deliveries.map((d) => (
                <Delivery key={d.id} d={d} />
              ))}
            </ul>
          ) : (
            <span className="muted">{a.state === "suppressed" ? "rate-limited" : "no notifier"}</span>
          )}
        </td>
        <td>
          <button type="button" className="btn btn-ghost btn-sm" aria-expanded={open} aria-label={`${open ? "Hide" : "Show"} details of alert ${a.id}`} onClick={() => setOpen(!open)}>
            {open ? "Hide" : "Details"}
          </button>
        </td>
      </tr>
      {open && (
        <tr className="alert-details-row">
          <td colSpan={6}>
            <Details a={a} />
          </td>
        </tr>
      )}
    </>
  );
}

export default function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const kind = params.get("kind") ?? "";
  const state = params.get("state") ?? "";
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const q = useAlerts({ kind: kind || undefined, state: state || undefined, limit: PAGE, offset });
  const notifiers = useAlertNotifiers();
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!("offset" in changes)) next.delete("offset");
    setParams(next, { replace: true });
  };
  const filtered = kind !== "" || state !== "";

  return (
    <main className="page alerts-page">
      <div className="page-header">
        <div className="page-title">
          <h1>Alerts</h1>
          <p className="muted">Failures, retries, missed deadlines and import errors, and whether each notifier got them.</p>
        </div>
      </div>

      <section className="card" aria-labelledby="notifiers-title">
        <div className="card-head">
          <h2 id="notifiers-title">Notifiers</h2>
          {notifiers.data && !notifiers.data.enabled && <span className="pill">alerts.enabled is false</span>}
        </div>
        <ErrorBanner error={notifiers.error} title="Could not load the notifiers" onRetry={() => void notifiers.refetch()} />
        {notifiers.isPending ? <SkeletonRows rows={2} cols={4} /> : notifiers.data && <NotifierTable notifiers={notifiers.data.notifiers} />}
      </section>

      <section className="card" aria-labelledby="history-title">
        <div className="card-head alerts-head">
          <h2 id="history-title">History</h2>
          <div className="alerts-filters">
            <label className="field-inline">
              <span>Event</span>
              <select className="select" value={kind} onChange={(e) => set({ kind: e.target.value })}>
                <option value="">All events</option>
                {Object.entries(KIND_LABELS).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field-inline">
              <span>State</span>
              <select className="select" value={state} onChange={(e) => set({ state: e.target.value })}>
                <option value="">All states</option>
                {STATE_FILTERS.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </label>
          </div>
        </div>
        <ErrorBanner error={q.error} title="Could not load the alerts" onRetry={() => void q.refetch()} />
        {q.isPending ? (
          <SkeletonRows rows={5} cols={5} />
        ) : q.data && q.data.alerts.length === 0 ? (
          <div data-testid="alerts-empty">
            <EmptyState title={filtered ? "No alert matches these filters" : "No alerts yet"} icon="alert">
              {!filtered && (
                <p>
                  When a task fails, a run fails or misses its deadline, or a DAG file does not import, the scheduler records an alert here and sends it to the
                  notifiers in <code>alerts.notifiers</code> (Slack, email, webhook). Check a notifier with <code>sluice alerts test &lt;name&gt;</code>; see{" "}
                  <code>docs/alerts.md</code>.
                </p>
              )}
            </EmptyState>
          </div>
        ) : (
          q.data && (
            <>
              <DataTable columns={["Time", "Event", "Alert", "State", "Deliveries", { label: "Details", hidden: true }]} compact>
                {q.data.alerts.map((a) => (
                  <AlertRow key={a.id} a={a} />
                ))}
              </DataTable>
              <div className="card-foot">
                <Pagination offset={offset} limit={PAGE} total={q.data.total} onChange={(o) => set({ offset: o ? String(o) : "" })} label="alerts" />
              </div>
            </>
          )
        )}
      </section>
    </main>
  );
}
