/**
 * The configured notifiers (names and kinds only: their settings hold
 * secrets and never leave the server) with their last day of deliveries,
 * their last success and their last error. A name deliveries went to that
 * the config no longer has is listed too, marked "not configured".
 */
import type { AlertNotifier } from "../../api/types";
import { DataTable, NoValue } from "../../components/DataTable";
import { EmptyState } from "../../components/Feedback";
import { Time } from "../../components/Time";

function Counts({ n }: { n: AlertNotifier }) {
  const parts = [
    n.last24h.delivered > 0 && `${n.last24h.delivered} delivered`,
    n.last24h.pending + n.last24h.sending > 0 && `${n.last24h.pending + n.last24h.sending} waiting`,
    n.last24h.failed > 0 && `${n.last24h.failed} failed`,
  ].filter(Boolean);
  return parts.length ? <span>{parts.join(" · ")}</span> : <NoValue />;
}

export function NotifierTable({ notifiers }: { notifiers: AlertNotifier[] }) {
  if (notifiers.length === 0) {
    return (
      <div className="card-body" data-testid="notifiers-empty">
        <EmptyState title="No notifier is configured" icon="alert">
          <p>
            Alerts are recorded but sent nowhere. Add Slack, email or webhook notifiers under <code>alerts.notifiers</code> in the config, list the ones every DAG
            uses in <code>alerts.default</code>, and check each with <code>sluice alerts test &lt;name&gt;</code>.
          </p>
        </EmptyState>
      </div>
    );
  }
  return (
    <DataTable columns={["Notifier", "Kind", "Last 24 hours", "Last delivered", "Last error"]} compact>
      {notifiers.map((n) => (
        <tr key={n.name} data-testid="notifier-row" data-notifier={n.name}>
          <td className="nowrap">
            <span className="mono">{n.name}</span> {n.isDefault && <span className="pill">default</span>}
          </td>
          <td>{n.configured ? n.kind : <span className="pill pill-warn">not configured</span>}</td>
          <td className="nowrap">
            <Counts n={n} />
          </td>
          <td className="nowrap">
            <Time value={n.lastDeliveredAt} relative />
          </td>
          <td className="notifier-error">
            {n.lastError ? (
              <>
                <span className="delivery-error">{n.lastError}</span> <Time value={n.lastErrorAt} relative />
              </>
            ) : (
              <NoValue />
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
