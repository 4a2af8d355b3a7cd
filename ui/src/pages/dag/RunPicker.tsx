/** Choose which run a view shows: the selected one, or by default the newest. */
import { useId } from "react";
import { useRecentRuns } from "../../api/hooks";
import { usePrefs } from "../../lib/prefs";
import { stateLabel } from "../../lib/states";

export function useEffectiveRun(dagId: string, runId: string | null) {
  const recent = useRecentRuns(dagId, 50);
  return { runId: runId ?? recent.data?.runs[0]?.runId ?? null, recent, isLatest: !runId };
}

export function RunPicker({ dagId, runId, onSelect }: { dagId: string; runId: string | null; onSelect: (runId: string) => void }) {
  const { recent } = useEffectiveRun(dagId, runId);
  const { fmt } = usePrefs();
  const id = useId();
  const runs = recent.data?.runs ?? [];
  const value = runId ?? runs[0]?.runId ?? "";
  return (
    <div className="field-row">
      <label htmlFor={id} className="field-label">
        Run
      </label>
      <select id={id} className="select run-picker" value={value} onChange={(e) => onSelect(e.target.value)} disabled={runs.length === 0}>
        {runs.length === 0 && <option value="">No runs</option>}
        {value && !runs.some((r) => r.runId === value) && <option value={value}>{value}</option>}
        {runs.map((r) => (
          <option key={r.runId} value={r.runId}>
            {fmt(r.logicalDate, "short")} · {stateLabel(r.state)} · {r.runId}
          </option>
        ))}
      </select>
    </div>
  );
}
