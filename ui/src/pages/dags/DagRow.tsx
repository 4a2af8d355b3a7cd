/** One DAG in the list. */
import { memo } from "react";
import { Link } from "react-router";
import { useAuth } from "../../api/auth";
import { usePauseDag } from "../../api/hooks";
import type { DagSummary } from "../../api/types";
import { Icon } from "../../components/Icon";
import { StateBadge } from "../../components/State";
import { Switch } from "../../components/Switch";
import { Time } from "../../components/Time";
import { useToast } from "../../components/Toast";
import { errorMessage } from "../../api/client";
import { RunStrip, useRowRuns } from "./RunStrip";

interface Props {
  dag: DagSummary;
  activeTag: string | null;
  onTag: (tag: string) => void;
  onTrigger: (dagId: string) => void;
}

/** The schedule cell's tooltip: the cron as written, what a dataset schedule means, or manual. */
function scheduleTitle(dag: DagSummary): string {
  if (dag.schedule) return `${dag.schedule} (${dag.timezone})`;
  // The API describes dataset schedules as "on datasets: ..." (the list carries no condition of its own).
  if (dag.scheduleDescription.startsWith("on datasets:")) return "Runs when these datasets update (their producing tasks succeed)";
  return "Runs only when triggered";
}

export const DagRow = memo(function DagRow({ dag, activeTag, onTag, onTrigger }: Props) {
  const { can } = useAuth();
  const pause = usePauseDag();
  const toast = useToast();
  const runs = useRowRuns(dag.dagId, dag.recentRuns);
  const last = runs?.[0];
  const operator = can("operator");
  const href = `/dags/${encodeURIComponent(dag.dagId)}`;

  return (
    <tr data-testid={`dag-row-${dag.dagId}`} className={dag.paused ? "row-paused" : undefined}>
      <td className="cell-pause">
        <Switch
          checked={dag.paused}
          label={`Pause ${dag.dagId}`}
          title={operator ? (dag.paused ? `${dag.dagId} is paused: no new scheduled runs. Switch off to resume.` : `Pause ${dag.dagId}`) : "Viewers cannot pause DAGs"}
          disabled={!operator}
          onChange={(paused) =>
            pause.mutate({ dagId: dag.dagId, paused }, { onError: (err) => toast.show(`Could not ${paused ? "pause" : "resume"} ${dag.dagId}: ${errorMessage(err)}`, "error") })
          }
        />
      </td>
      <td className="cell-dag">
        <Link to={href} className="dag-link">
          {dag.dagId}
        </Link>
        {dag.paused && <span className="pill pill-paused">Paused</span>}
        {!dag.active && <span className="pill" title="Its file is gone or no longer defines it">Inactive</span>}
        {dag.description && <div className="dag-desc">{dag.description}</div>}
      </td>
      <td className="nowrap">{dag.owner ?? <span className="muted">—</span>}</td>
      <td>
        <div className="chips">
          {dag.tags.map((t) => (
            <button
              type="button"
              key={t}
              className={`chip ${activeTag === t ? "chip-active" : ""}`}
              onClick={() => onTag(t)}
              aria-pressed={activeTag === t}
              aria-label={activeTag === t ? `Tag ${t} (filtering; click to clear)` : `Filter by tag ${t}`}
            >
              {t}
            </button>
          ))}
        </div>
      </td>
      <td>
        <span title={scheduleTitle(dag)}>{dag.scheduleDescription}</span>
      </td>
      <td>{dag.nextRun ? <Time value={dag.nextRun.runAfter} relative /> : <span className="muted">—</span>}</td>
      <td>{runs === undefined ? null : last ? <StateBadge state={last.state} size="sm" /> : <span className="muted">—</span>}</td>
      <td>
        <RunStrip dagId={dag.dagId} runs={runs} />
      </td>
      <td className="cell-actions">
        <button
          type="button"
          className="icon-btn trigger-btn"
          aria-label={`Trigger ${dag.dagId}`}
          title={operator ? `Trigger ${dag.dagId}` : "Viewers cannot trigger runs"}
          disabled={!operator}
          onClick={() => onTrigger(dag.dagId)}
        >
          <Icon name="play" />
        </button>
      </td>
    </tr>
  );
});
