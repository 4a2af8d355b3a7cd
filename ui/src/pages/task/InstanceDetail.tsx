/**
 * One task instance in the task panel: its facts, its error, clear and mark,
 * and the Logs (per try, live tail) | Result | Tries | Task tabs. The same
 * for an unmapped task and for one selected instance of a mapped task.
 */
import { useMemo, useState } from "react";
import type { TaskDetail, TaskNode } from "../../api/types";
import { EmptyState, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { TaskKind } from "../../components/TaskKind";
import { Time, useNow } from "../../components/Time";
import { stateColor, stateLabel } from "../../lib/states";
import { formatDuration, spanMs } from "../../lib/time";
import { LogView } from "./LogView";
import { ResultView } from "./ResultView";
import { TaskActions } from "./TaskActions";
import { TriesTable } from "./TriesTable";

type Tab = "logs" | "result" | "tries" | "task";

/** States whose instance is failed now: its error is the reason, in red. */
const FAILED_STATES = new Set(["failed", "up_for_retry", "upstream_failed"]);

/**
 * The instance's error. Red only while it explains the current state; once
 * the instance was marked success or cleared, the old error stays reachable
 * but collapsed and neutral, named by its try, so nobody reads a green
 * instance as broken.
 */
function TryError({ state, error, tries }: { state: string; error: string | null; tries: TaskDetail["tries"] }) {
  if (!error) return null;
  if (FAILED_STATES.has(state)) {
    return (
      <div className="banner banner-error" role="note" data-testid="ti-error">
        <Icon name="alert" />
        <pre className="ti-error">{error}</pre>
      </div>
    );
  }
  const from = [...tries].reverse().find((t) => t.error === error) ?? [...tries].reverse().find((t) => t.error);
  return (
    <details className="ti-past-error" data-testid="ti-past-error">
      <summary>
        <Icon name="alert" size={14} />
        {from ? `Error of try ${from.tryNumber}` : "Earlier error"}
        <span className="muted"> · the instance is {stateLabel(state).toLowerCase()} now</span>
      </summary>
      <pre className="ti-error">{error}</pre>
    </details>
  );
}

interface Props {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  d: TaskDetail;
  /** The task's definition in the run's DAG version (undefined while it loads). */
  def: TaskNode | undefined;
  /** Tab chosen in the panel; kept when another instance or task is shown. */
  tab: Tab;
  onTab: (tab: Tab) => void;
}

export type { Tab as InstanceTab };

export function InstanceDetail({ dagId, runId, taskId, mapIndex, d, def, tab, onTab }: Props) {
  const now = useNow(1000);
  // The picked try belongs to one instance: showing another instance follows its newest try again.
  const instanceKey = `${runId}\u0000${taskId}\u0000${mapIndex}`;
  const [picked, setPicked] = useState<{ instance: string; tryNumber: number } | null>(null);
  const setPickedTry = (tryNumber: number) => setPicked({ instance: instanceKey, tryNumber });

  // Follow the newest try unless the user picked one.
  const tryNumber = picked?.instance === instanceKey ? picked.tryNumber : d.tryNumber;
  const tries = useMemo(() => Array.from({ length: d.tryNumber }, (_, i) => i + 1), [d.tryNumber]);
  const logKey = `${instanceKey}\u0000${tryNumber}`;

  return (
    <>
      <dl className="ti-facts">
        <div>
          <dt>Try</dt>
          <dd>
            {d.tryNumber} of {d.maxTries}
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>
            <Time value={d.startDate} />
          </dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd>
            <Time value={d.endDate} />
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd className="num">{formatDuration(d.durationMs ?? spanMs(d.startDate, d.endDate, now))}</dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>
            <Time value={d.queuedAt} />
          </dd>
        </div>
        <div>
          <dt>Host · PID</dt>
          <dd className="mono">
            {d.hostname ?? "—"}
            {d.pid !== null ? ` · ${d.pid}` : ""}
          </dd>
        </div>
        <div>
          <dt>Pool · queue</dt>
          <dd>
            {d.pool} · {d.queue}
          </dd>
        </div>
        {d.nextTryAt && (
          <div>
            <dt>Next try</dt>
            <dd>
              <Time value={d.nextTryAt} relative />
            </dd>
          </div>
        )}
      </dl>
      <TryError state={d.state} error={d.error} tries={d.tries} />
      <div className="task-panel-actions">
        <TaskActions dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} state={d.state} />
      </div>
      <div className="tabs" role="tablist" aria-label="Task instance views">
        {(
          [
            ["logs", "Logs"],
            ["result", "Result"],
            ["tries", `Tries (${d.tries.length})`],
            ["task", "Task"],
          ] as [Tab, string][]
        ).map(([id, label]) => (
          <button key={id} type="button" role="tab" id={`tp-tab-${id}`} aria-controls={`tp-pane-${id}`} aria-selected={tab === id} className="tab" onClick={() => onTab(id)}>
            {label}
          </button>
        ))}
      </div>
      <div className="task-panel-pane" role="tabpanel" id={`tp-pane-${tab}`} aria-labelledby={`tp-tab-${tab}`}>
        {tab === "logs" &&
          (tries.length === 0 ? (
            <EmptyState title="No log yet" icon="clock">
              The task has not started; its log appears here when it does.
            </EmptyState>
          ) : (
            <>
              {tries.length > 1 && (
                <div className="try-tabs" role="group" aria-label="Try">
                  {tries.map((n) => {
                    const t = d.tries.find((x) => x.tryNumber === n);
                    return (
                      <button key={n} type="button" className={`try-tab ${n === tryNumber ? "active" : ""}`} aria-pressed={n === tryNumber} onClick={() => setPickedTry(n)}>
                        <span className="state-dot" style={{ background: stateColor(t?.state ?? d.state) }} aria-hidden="true" />
                        Try {n}
                      </button>
                    );
                  })}
                </div>
              )}
              {/* Keyed by the instance too: another instance's lines must never be appended to this one's. */}
              <LogView key={logKey} dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} tryNumber={tryNumber} />
            </>
          ))}
        {tab === "result" && <ResultView dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} state={d.state} kind={def?.kind} />}
        {tab === "tries" && <TriesTable tries={d.tries} onOpen={(n) => (setPickedTry(n), onTab("logs"))} />}
        {tab === "task" && (def ? <TaskFacts def={def} /> : <SkeletonRows rows={4} cols={2} />)}
      </div>
    </>
  );
}

function TaskFacts({ def }: { def: TaskNode }) {
  return (
    <dl className="kv">
      <dt>Kind</dt>
      <dd>
        <TaskKind kind={def.kind} />
      </dd>
      {def.mapped && (
        <>
          <dt>Mapped over</dt>
          <dd className="mono">{def.expandFrom ?? "—"}</dd>
        </>
      )}
      <dt>Trigger rule</dt>
      <dd className="mono">{def.triggerRule}</dd>
      <dt>Upstream</dt>
      <dd className="mono">{def.upstream.join(", ") || "—"}</dd>
      <dt>Downstream</dt>
      <dd className="mono">{def.downstream.join(", ") || "—"}</dd>
      <dt>Retries</dt>
      <dd>{def.retries}</dd>
      <dt>Timeout</dt>
      <dd>{def.timeoutMs ? formatDuration(def.timeoutMs) : "none"}</dd>
      <dt>Pool · queue · priority</dt>
      <dd>
        {def.pool} · {def.queue} · {def.priorityWeight}
      </dd>
      {def.command && (
        <>
          <dt>Command</dt>
          <dd>
            <pre className="code-block">{def.command}</pre>
          </dd>
        </>
      )}
      {def.doc && (
        <>
          <dt>Doc</dt>
          <dd>{def.doc}</dd>
        </>
      )}
    </dl>
  );
}
