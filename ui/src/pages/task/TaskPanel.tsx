/**
 * The task instance panel: a drawer on the right of the DAG page
 * (?run=…&task=…). State, tries, timestamps, where it ran; logs per try with
 * live tail; the result value; clear and mark. Esc closes it.
 */
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { ApiError } from "../../api/client";
import { useRun, useRunTasks, useStructure, useTaskDetail } from "../../api/hooks";
import type { TaskDetail } from "../../api/types";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { StateBadge } from "../../components/State";
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
  onClose: () => void;
  /** Show another instance of a mapped task. */
  onMapIndex: (mapIndex: number) => void;
}

export default function TaskPanel({ dagId, runId, taskId, mapIndex, onClose, onMapIndex }: Props) {
  const ti = useTaskDetail(dagId, runId, taskId);
  const run = useRun(dagId, runId);
  const siblings = useRunTasks(dagId, runId);
  const structure = useStructure(dagId, run.data?.versionHash);
  const now = useNow(1000);
  const [tab, setTab] = useState<Tab>("logs");
  const [pickedTry, setPickedTry] = useState<number | null>(null);
  const titleId = useId();
  const panel = useRef<HTMLElement>(null);

  // Esc closes the panel, unless a dialog (which handles Esc itself) is open.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || document.querySelector("dialog[open]")) return;
      onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  useEffect(() => setPickedTry(null), [runId, taskId, mapIndex]);

  const d = ti.data;
  // Follow the newest try unless the user picked one.
  const tryNumber = pickedTry ?? d?.tryNumber ?? 0;
  const tries = useMemo(() => {
    const n = d?.tryNumber ?? 0;
    return Array.from({ length: n }, (_, i) => i + 1);
  }, [d?.tryNumber]);
  const mapped = (siblings.data?.tasks ?? []).filter((t) => t.taskId === taskId && t.mapIndex >= 0);
  const def = structure.data?.tasks.find((t) => t.taskId === taskId);

  return (
    <aside className="task-panel" data-testid="task-panel" aria-labelledby={titleId} ref={panel}>
      <header className="task-panel-head">
        <div className="task-panel-title">
          <span className="section-title">Task instance</span>
          <h2 id={titleId} className="mono">
            {taskId}
            {mapIndex >= 0 && <span className="muted">[{mapIndex}]</span>}
          </h2>
          <span className="muted mono task-panel-run">{runId}</span>
        </div>
        {d && <StateBadge state={d.state} />}
        <button type="button" className="icon-btn" aria-label="Close task panel" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="task-panel-body">
        {ti.error ? (
          ti.error instanceof ApiError && ti.error.status === 404 ? (
            <EmptyState title="No such task instance" icon="search">
              {ti.error.message}
            </EmptyState>
          ) : (
            <ErrorBanner error={ti.error} onRetry={() => void ti.refetch()} />
          )
        ) : !d ? (
          <SkeletonRows rows={5} cols={2} />
        ) : (
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
              {mapped.length > 0 && (
                <label className="field-row">
                  <span className="field-label">Instance</span>
                  <select className="select" value={mapIndex} onChange={(e) => onMapIndex(Number(e.target.value))}>
                    {mapped.map((m) => (
                      <option key={m.mapIndex} value={m.mapIndex}>
                        [{m.mapIndex}] {m.state}
                      </option>
                    ))}
                  </select>
                </label>
              )}
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
                <button key={id} type="button" role="tab" id={`tp-tab-${id}`} aria-controls={`tp-pane-${id}`} aria-selected={tab === id} className="tab" onClick={() => setTab(id)}>
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
                    <LogView key={`${tryNumber}`} dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} tryNumber={tryNumber} />
                  </>
                ))}
              {tab === "result" && <ResultView dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} state={d.state} />}
              {tab === "tries" && <TriesTable tries={d.tries} onOpen={(n) => (setPickedTry(n), setTab("logs"))} />}
              {tab === "task" &&
                (def ? (
                  <dl className="kv">
                    <dt>Kind</dt>
                    <dd>{def.kind}</dd>
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
                ) : (
                  <SkeletonRows rows={4} cols={2} />
                ))}
            </div>
          </>
        )}
      </div>
    </aside>
  );
}
