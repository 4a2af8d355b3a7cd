/** Summary of the selected run above the tab content: state, type, dates, duration, git commit, conf, what triggered it, actions. */
import { useState } from "react";
import { Link } from "react-router";
import { useDag, useRun } from "../../api/hooks";
import type { ConsumedDatasetEvent } from "../../api/types";
import { ErrorBanner, Skeleton } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { StateBadge, StateSquare } from "../../components/State";
import { Time, useNow } from "../../components/Time";
import { stateLabel } from "../../lib/states";
import { formatDuration, spanMs } from "../../lib/time";
import { RunActions } from "./RunActions";

/** The dataset events a dataset-triggered run consumed: which producing task's success updated which dataset. */
function ConsumedEvents({ events, total }: { events: ConsumedDatasetEvent[]; total: number }) {
  return (
    <div className="consumed-events" data-testid="consumed-events">
      <ul className="plain-list">
        {events.map((e) => (
          <li key={e.id}>
            <span className="mono">{e.uri}</span>
            <span className="muted"> ← </span>
            <Link className="mono" to={`/dags/${encodeURIComponent(e.dagId)}/grid?run=${encodeURIComponent(e.runId)}&task=${encodeURIComponent(e.taskId)}`}>
              {e.dagId}.{e.taskId}
              {e.mapIndex >= 0 ? `[${e.mapIndex}]` : ""}
            </Link>
            <span className="muted">
              {" "}
              · <Time value={e.createdAt} relative />
            </span>
          </li>
        ))}
      </ul>
      {total > events.length && <p className="muted">and {total - events.length} older (the newest {events.length} are shown)</p>}
    </div>
  );
}

export function RunHeader({ dagId, runId, onClose }: { dagId: string; runId: string; onClose: () => void }) {
  const q = useRun(dagId, runId);
  const dag = useDag(dagId);
  const now = useNow(1000);
  const [showConf, setShowConf] = useState(false);
  const [showEvents, setShowEvents] = useState(false);
  if (q.error) return <ErrorBanner error={q.error} title={`Run ${runId}`} />;
  const run = q.data;
  const conf = run && run.conf && typeof run.conf === "object" && Object.keys(run.conf).length > 0 ? run.conf : null;
  const consumed = run?.consumedDatasetEvents ?? null;
  return (
    <section className="run-header card" aria-label={`Run ${runId}`} data-testid="run-header">
      <div className="run-header-main">
        <div className="run-header-title">
          <span className="section-title">Run</span>
          <span className="mono run-id">{runId}</span>
          {run ? <StateBadge state={run.state} /> : <Skeleton width={70} />}
          {run && <span className="pill">{run.runType}</span>}
        </div>
        {run && <RunActions run={run} onDeleted={onClose} />}
        <button type="button" className="icon-btn" aria-label="Close run details" onClick={onClose}>
          <Icon name="close" />
        </button>
      </div>
      {run ? (
        <dl className="run-facts">
          <div>
            <dt>Logical date</dt>
            <dd>
              <Time value={run.logicalDate} />
            </dd>
          </div>
          <div>
            <dt>Data interval</dt>
            <dd>
              <Time value={run.dataIntervalStart} /> → <Time value={run.dataIntervalEnd} />
            </dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>
              <Time value={run.startDate} />
            </dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd className="num">{formatDuration(spanMs(run.startDate, run.endDate, now))}</dd>
          </div>
          {run.bundleVersion && (
            <div>
              <dt>Commit</dt>
              <dd>
                <span className="mono" title={run.bundleVersion} data-testid="run-commit">
                  {run.bundleVersion.slice(0, 12)}
                </span>
                {/* Every task of the run runs this commit; say when the DAG has moved on (Clear can run it on the latest code). */}
                {dag.data?.bundleVersion && dag.data.bundleVersion !== run.bundleVersion && (
                  <span className="muted" title={`The DAG's current code is commit ${dag.data.bundleVersion.slice(0, 12)}`}>
                    {" "}
                    · not the latest
                  </span>
                )}
              </dd>
            </div>
          )}
          {run.taskStates && (
            <div>
              <dt>Tasks</dt>
              <dd className="task-state-counts">
                {Object.entries(run.taskStates).map(([s, n]) => (
                  <span key={s} className="count" title={stateLabel(s)}>
                    <StateSquare state={s} size={10} /> {n} {stateLabel(s).toLowerCase()}
                  </span>
                ))}
              </dd>
            </div>
          )}
          <div>
            <dt>Conf</dt>
            <dd>
              {conf ? (
                <button type="button" className="btn btn-ghost btn-sm" aria-expanded={showConf} onClick={() => setShowConf((s) => !s)}>
                  {showConf ? "Hide" : "Show"} ({Object.keys(conf).length} {Object.keys(conf).length === 1 ? "key" : "keys"})
                </button>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
          </div>
          {consumed && (
            <div>
              <dt>Triggered by</dt>
              <dd>
                <button type="button" className="btn btn-ghost btn-sm" aria-expanded={showEvents} onClick={() => setShowEvents((s) => !s)}>
                  {showEvents ? "Hide" : "Show"} {consumed.total} dataset {consumed.total === 1 ? "update" : "updates"}
                </button>
              </dd>
            </div>
          )}
        </dl>
      ) : (
        <Skeleton width="60%" />
      )}
      {run?.note && <p className="run-note muted">{run.note}</p>}
      {showConf && conf && <pre className="code-block">{JSON.stringify(conf, null, 2)}</pre>}
      {showEvents && consumed && <ConsumedEvents events={consumed.events} total={consumed.total} />}
    </section>
  );
}
