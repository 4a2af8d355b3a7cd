/** Title block of the DAG page: id, description, pause switch, trigger, schedule, owner, tags, next run. */
import { Link, useNavigate } from "react-router";
import { useAuth } from "../../api/auth";
import { errorMessage } from "../../api/client";
import { usePauseDag } from "../../api/hooks";
import type { DagDetail } from "../../api/types";
import { Icon } from "../../components/Icon";
import { Switch } from "../../components/Switch";
import { Time } from "../../components/Time";
import { useToast } from "../../components/Toast";

export function DagHeader({ dag, onTrigger }: { dag: DagDetail; onTrigger: () => void }) {
  const { can } = useAuth();
  const pause = usePauseDag();
  const toast = useToast();
  const navigate = useNavigate();
  const operator = can("operator");
  return (
    <header className="dag-header">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">DAGs</Link>
        <Icon name="chevronRight" size={12} />
        <span aria-current="page">{dag.dagId}</span>
      </nav>
      <div className="dag-title-row">
        <Switch
          checked={dag.paused}
          label={`Pause ${dag.dagId}`}
          disabled={!operator}
          title={operator ? (dag.paused ? "Paused: switch off to resume" : "Pause: stop creating scheduled runs") : "Viewers cannot pause DAGs"}
          onChange={(paused) => pause.mutate({ dagId: dag.dagId, paused }, { onError: (err) => toast.show(errorMessage(err), "error") })}
        />
        <h1 className="dag-title">{dag.dagId}</h1>
        {dag.paused && <span className="pill pill-paused">Paused</span>}
        {!dag.active && <span className="pill">Inactive</span>}
        <div className="toolbar-spacer" />
        <button
          type="button"
          className="btn btn-primary"
          onClick={onTrigger}
          disabled={!operator}
          aria-label={`Trigger ${dag.dagId}`}
          title={operator ? "Start a run now, with params" : "Viewers cannot trigger runs"}
        >
          <Icon name="play" /> Trigger
        </button>
      </div>
      {dag.description && <p className="dag-description">{dag.description}</p>}
      <dl className="dag-facts">
        <div>
          <dt>Schedule</dt>
          <dd title={dag.schedule ? `${dag.schedule} (${dag.timezone})` : dag.datasetSchedule ? `Runs ${dag.datasetSchedule.description}` : undefined}>{dag.scheduleDescription}</dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd>{dag.nextRun ? <Time value={dag.nextRun.runAfter} relative /> : "—"}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>{dag.owner ?? "—"}</dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd className="chips">
            {dag.tags.length === 0
              ? "—"
              : dag.tags.map((t) => (
                  <button key={t} type="button" className="chip" onClick={() => navigate(`/?tag=${encodeURIComponent(t)}`)} aria-label={`DAGs tagged ${t}`}>
                    {t}
                  </button>
                ))}
          </dd>
        </div>
        <div>
          <dt>Tasks</dt>
          <dd>{dag.taskCount}</dd>
        </div>
      </dl>
    </header>
  );
}
