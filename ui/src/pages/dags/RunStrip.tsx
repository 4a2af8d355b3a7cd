/** The last runs of a DAG as coloured squares, oldest left; each names its run and state. */
import { Link } from "react-router";
import { useRecentRuns } from "../../api/hooks";
import type { RunBrief } from "../../api/types";
import { Skeleton } from "../../components/Feedback";
import { usePrefs } from "../../lib/prefs";
import { stateColor, stateLabel } from "../../lib/states";
import { formatDuration, spanMs } from "../../lib/time";

export const STRIP_RUNS = 14;

export function RunStrip({ dagId, runs }: { dagId: string; runs: RunBrief[] | undefined }) {
  const { fmt } = usePrefs();
  if (!runs) return <Skeleton width={STRIP_RUNS * 14} height={14} />;
  if (runs.length === 0) return <span className="muted">No runs yet</span>;
  const oldestFirst = runs.slice(0, STRIP_RUNS).reverse();
  return (
    <ol className="run-strip" aria-label={`Last ${oldestFirst.length} runs of ${dagId}, oldest first`}>
      {Array.from({ length: STRIP_RUNS - oldestFirst.length }, (_, i) => (
        <li key={`pad${i}`} className="run-strip-pad" aria-hidden="true" />
      ))}
      {oldestFirst.map((r) => {
        const tip = `${r.runId}\n${stateLabel(r.state)} · ${fmt(r.logicalDate)}\nDuration: ${formatDuration(spanMs(r.startDate, r.endDate))}`;
        return (
          <li key={r.runId}>
            <Link
              to={`/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(r.runId)}`}
              className="run-strip-sq tip"
              data-tip={tip}
              data-state={r.state}
              aria-label={`${r.runId}: ${stateLabel(r.state)}`}
              style={{ background: stateColor(r.state) }}
            />
          </li>
        );
      })}
    </ol>
  );
}

/** Recent runs from the list answer when the server includes them, else one small query per visible row. */
export function useRowRuns(dagId: string, included: RunBrief[] | undefined): RunBrief[] | undefined {
  const q = useRecentRuns(dagId, STRIP_RUNS, included === undefined);
  return included ?? q.data?.runs;
}
