/**
 * State badges of alerts and deliveries, drawn like task-state badges (a
 * coloured dot and a text label) with the task states' colours: delivered is
 * success, failed is failed, waiting is queued, suppressed is skipped.
 */
import type { AlertDelivery, AlertState } from "../../api/types";
import { stateColor } from "../../lib/states";

const ALERT: Record<AlertState, { label: string; color: string }> = {
  delivered: { label: "Delivered", color: "success" },
  failed: { label: "Failed", color: "failed" },
  pending: { label: "Sending", color: "queued" },
  suppressed: { label: "Suppressed", color: "skipped" },
  no_notifiers: { label: "No notifier", color: "none" },
};

const DELIVERY: Record<AlertDelivery["state"], { label: string; color: string }> = {
  delivered: { label: "delivered", color: "success" },
  failed: { label: "failed", color: "failed" },
  pending: { label: "waiting", color: "queued" },
  sending: { label: "sending", color: "running" },
};

function Badge({ label, color, state }: { label: string; color: string; state: string }) {
  return (
    <span className="state-badge state-badge-sm" data-state={color} data-alert-state={state}>
      <span className="state-dot" style={{ background: stateColor(color) }} aria-hidden="true" />
      {label}
    </span>
  );
}

export function AlertStateBadge({ state }: { state: AlertState }) {
  const s = ALERT[state] ?? { label: state, color: "none" };
  return <Badge label={s.label} color={s.color} state={state} />;
}

export function DeliveryStateBadge({ state }: { state: AlertDelivery["state"] }) {
  const s = DELIVERY[state] ?? { label: state, color: "none" };
  return <Badge label={s.label} color={s.color} state={state} />;
}
