/** State badges and squares: colour plus a text label (visible or as the accessible name). */
import { stateColor, stateLabel } from "../lib/states";

export function StateBadge({ state, size = "md" }: { state: string | null | undefined; size?: "sm" | "md" }) {
  return (
    <span className={`state-badge state-badge-${size}`} data-state={state ?? "none"}>
      <span className="state-dot" style={{ background: stateColor(state) }} aria-hidden="true" />
      {stateLabel(state)}
    </span>
  );
}

/** A coloured square whose meaning is in its title and accessible name. */
export function StateSquare({ state, title, size = 12 }: { state: string | null | undefined; title?: string; size?: number }) {
  return (
    <span
      className="state-square"
      role="img"
      aria-label={title ?? stateLabel(state)}
      title={title ?? stateLabel(state)}
      data-state={state ?? "none"}
      style={{ background: stateColor(state), width: size, height: size }}
    />
  );
}
