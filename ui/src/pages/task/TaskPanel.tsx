/**
 * The task instance panel: a drawer on the right of the DAG page
 * (?run=…&task=…[&mapIndex=…]). For an unmapped task, its one instance
 * (InstanceDetail: state, tries, logs with live tail, result, clear and
 * mark). For a mapped task, its instances first (counts by state, a paged
 * list, "Clear all instances"), and the chosen one, by map index, below.
 * Esc closes it.
 */
import { useEffect, useId, useState } from "react";
import { ApiError } from "../../api/client";
import { useRun, useStructure, useTaskDetail, useTaskInstances } from "../../api/hooks";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { StateBadge } from "../../components/State";
import { InstanceDetail, type InstanceTab } from "./InstanceDetail";
import { MappedInstances } from "./MappedInstances";

/** Instances per page of a mapped task's list. */
const PAGE = 100;

interface Props {
  dagId: string;
  runId: string;
  taskId: string;
  /** The chosen instance of a mapped task, or -1. */
  mapIndex: number;
  onClose: () => void;
  /** Show another instance of a mapped task (-1: none chosen). */
  onMapIndex: (mapIndex: number) => void;
}

/** The list page that holds `mapIndex` when the list is not filtered (instances are numbered 0..n-1). */
const pageOf = (mapIndex: number) => (mapIndex >= 0 ? Math.floor(mapIndex / PAGE) * PAGE : 0);

export default function TaskPanel({ dagId, runId, taskId, mapIndex, onClose, onMapIndex }: Props) {
  const run = useRun(dagId, runId);
  const structure = useStructure(dagId, run.data?.versionHash);
  const [tab, setTab] = useState<InstanceTab>("logs");
  const titleId = useId();
  // The list's filter and page belong to one task, and follow an instance chosen from outside the
  // list (a link, back/forward) to its page. Adjusted while rendering, so no request goes out for a stale page.
  const taskKey = `${runId}\u0000${taskId}`;
  const [list, setList] = useState(() => ({ taskKey, mapIndex, filter: null as string | null, offset: pageOf(mapIndex) }));
  if (list.taskKey !== taskKey) {
    setList({ taskKey, mapIndex, filter: null, offset: pageOf(mapIndex) });
  } else if (list.mapIndex !== mapIndex) {
    const outside = list.filter === null && mapIndex >= 0 && (mapIndex < list.offset || mapIndex >= list.offset + PAGE);
    setList({ ...list, mapIndex, offset: outside ? pageOf(mapIndex) : list.offset });
  }
  const { filter, offset } = list;

  // Esc closes the panel, unless a dialog (which handles Esc itself) is open.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || document.querySelector("dialog[open]")) return;
      onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const inst = useTaskInstances(dagId, runId, taskId, { state: filter, offset, limit: PAGE });
  const mapped = inst.data?.mapped === true;
  // An unmapped task (or a mapped one not expanded yet) is one instance at -1; a mapped one needs an index.
  const ti = useTaskDetail(dagId, runId, taskId, mapIndex, mapIndex >= 0 || (inst.data !== undefined && !mapped));
  const def = structure.data?.tasks.find((t) => t.taskId === taskId);
  const d = ti.data;
  const showInstance = !mapped || mapIndex >= 0;

  const notFound = (err: unknown) =>
    err instanceof ApiError && err.status === 404 ? (
      <EmptyState title="No such task instance" icon="search">
        {err.message}
      </EmptyState>
    ) : (
      <ErrorBanner error={err} onRetry={() => void (inst.error ? inst.refetch() : ti.refetch())} />
    );

  return (
    <aside className="task-panel" data-testid="task-panel" data-mapped={mapped ? "true" : undefined} aria-labelledby={titleId}>
      <header className="task-panel-head">
        <div className="task-panel-title">
          <span className="section-title">{mapped && mapIndex < 0 ? "Mapped task" : "Task instance"}</span>
          <h2 id={titleId} className="mono">
            {taskId}
            {mapIndex >= 0 && <span className="muted">[{mapIndex}]</span>}
          </h2>
          <span className="muted mono task-panel-run">{runId}</span>
        </div>
        {showInstance && d && <StateBadge state={d.state} />}
        <button type="button" className="icon-btn" aria-label="Close task panel" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="task-panel-body">
        {inst.error ? (
          notFound(inst.error)
        ) : !inst.data ? (
          <SkeletonRows rows={5} cols={2} />
        ) : (
          <>
            {mapped && (
              <MappedInstances
                dagId={dagId}
                runId={runId}
                taskId={taskId}
                data={inst.data}
                fetching={inst.isPlaceholderData}
                filter={filter}
                onFilter={(s) => setList({ ...list, filter: s, offset: 0 })}
                offset={offset}
                pageSize={PAGE}
                onOffset={(o) => setList({ ...list, offset: o })}
                selected={mapIndex}
                onSelect={onMapIndex}
              />
            )}
            {!mapped && def?.mapped && <NotExpanded expandFrom={def.expandFrom} state={d?.state} />}
            {!showInstance ? (
              <EmptyState title="Choose an instance" icon="layers">
                Pick a map index above to see its log, tries and result.
              </EmptyState>
            ) : ti.error ? (
              notFound(ti.error)
            ) : !d ? (
              <SkeletonRows rows={5} cols={2} />
            ) : (
              <>
                {mapped && <h3 className="section-title mapped-detail-title">Instance [{mapIndex}]</h3>}
                <InstanceDetail dagId={dagId} runId={runId} taskId={taskId} mapIndex={mapIndex} d={d} def={def} tab={tab} onTab={setTab} />
              </>
            )}
          </>
        )}
      </div>
    </aside>
  );
}

/** A mapped task whose run has not expanded it: one placeholder instance until its list is known. */
function NotExpanded({ expandFrom, state }: { expandFrom: string | null; state: string | undefined }) {
  // Skipped (an empty list) and failed (a bad list) instances say why in their own error.
  if (state === "skipped" || state === "failed" || state === "upstream_failed") return null;
  return (
    <div className="banner banner-info" role="note" data-testid="mapped-pending">
      <Icon name="layers" />
      <span>
        A mapped task: one instance per element of <span className="mono">{expandFrom ?? "its upstream"}</span>&apos;s result, created when {expandFrom ? "that task" : "it"} succeeds.
      </span>
    </div>
  );
}
