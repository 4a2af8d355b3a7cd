/** Summary of the selected run above the tab content: state, type, dates, duration, conf, actions. */
import { useState } from "react";
import { useRun } from "../../api/hooks";
import { ErrorBanner, Skeleton } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { StateBadge, StateSquare } from "../../components/State";
import { Time, useNow } from "../../components/Time";
import { stateLabel } from "../../lib/states";
import { formatDuration, spanMs } from "../../lib/time";
import { RunActions } from "./RunActions";

export function RunHeader({ dagId, runId, onClose }: { dagId: string; runId: string; onClose: () => void }) {
  const q = useRun(dagId, runId);
  const now = useNow(1000);
  const [showConf, setShowConf] = useState(false);
  if (q.error) return <ErrorBanner error={q.error} title={`Run ${runId}`} />;
  const run = q.data;
  const conf = run && run.conf && typeof run.conf === "object" && Object.keys(run.conf).length > 0 ? run.conf : null;
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
        </dl>
      ) : (
        <Skeleton width="60%" />
      )}
      {run?.note && <p className="run-note muted">{run.note}</p>}
      {showConf && conf && <pre className="code-block">{JSON.stringify(conf, null, 2)}</pre>}
    </section>
  );
}
