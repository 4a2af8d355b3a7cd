/**
 * A mapped task's instances by state: one bar split in the state colours
 * (its meaning in its accessible name), and one button per state that
 * filters the instance list ("All" clears the filter).
 */
import { stateColor, STATE_ORDER, stateLabel } from "../../lib/states";

/** States in the legend's order; states this UI does not know go last. */
export function orderedStates(counts: Record<string, number>): string[] {
  const known = STATE_ORDER.filter((s) => (counts[s] ?? 0) > 0) as string[];
  const other = Object.keys(counts).filter((s) => counts[s] > 0 && !known.includes(s));
  return [...known, ...other.sort()];
}

export function countsText(counts: Record<string, number>): string {
  return orderedStates(counts)
    .map((s) => `${counts[s]} ${stateLabel(s).toLowerCase()}`)
    .join(", ");
}

interface Props {
  counts: Record<string, number>;
  total: number;
  filter: string | null;
  onFilter: (state: string | null) => void;
}

export function MapCounts({ counts, total, filter, onFilter }: Props) {
  const states = orderedStates(counts);
  return (
    <div className="map-counts" data-testid="mapped-counts">
      <div className="map-bar" role="img" aria-label={`${total} instances: ${countsText(counts)}`}>
        {states.map((s) => (
          <span key={s} className="map-bar-seg" data-state={s} style={{ flexGrow: counts[s], background: stateColor(s) }} />
        ))}
      </div>
      <div className="chips map-chips" role="group" aria-label="Show instances in state">
        <button type="button" className={`chip${filter === null ? " chip-active" : ""}`} aria-pressed={filter === null} onClick={() => onFilter(null)}>
          All <span className="num">{total.toLocaleString()}</span>
        </button>
        {states.map((s) => (
          <button
            key={s}
            type="button"
            className={`chip${filter === s ? " chip-active" : ""}`}
            aria-pressed={filter === s}
            data-testid={`mapped-count-${s}`}
            data-count={counts[s]}
            onClick={() => onFilter(filter === s ? null : s)}
          >
            <span className="state-dot" data-state={s} style={{ background: stateColor(s) }} aria-hidden="true" />
            {stateLabel(s)} <span className="num">{counts[s].toLocaleString()}</span>
          </button>
        ))}
      </div>
    </div>
  );
}
