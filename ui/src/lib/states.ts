/**
 * One colour and one text label per state (src/core/states.ts), used by every
 * badge, grid cell, graph node and chart, so a state always looks the same.
 * The label is always available as text or a tooltip for colour-blind users.
 */
export const STATE_ORDER = ["success", "running", "failed", "upstream_failed", "up_for_retry", "queued", "scheduled", "skipped", "none"] as const;

const LABELS: Record<string, string> = {
  success: "Success",
  failed: "Failed",
  running: "Running",
  queued: "Queued",
  scheduled: "Scheduled",
  up_for_retry: "Up for retry",
  skipped: "Skipped",
  upstream_failed: "Upstream failed",
  none: "No status",
  removed: "Removed",
};

export function stateLabel(state: string | null | undefined): string {
  if (!state) return "No status";
  return LABELS[state] ?? state.replaceAll("_", " ");
}

/** CSS custom property with the state's colour (defined in styles/app.css for both themes). */
export function stateColor(state: string | null | undefined): string {
  const s = state && state in LABELS ? state : "none";
  return `var(--state-${s.replaceAll("_", "-")})`;
}

export const isActiveState = (s: string | null | undefined) => s === "running" || s === "queued" || s === "scheduled" || s === "up_for_retry";
export const isFinishedRunState = (s: string | null | undefined) => s === "success" || s === "failed";
