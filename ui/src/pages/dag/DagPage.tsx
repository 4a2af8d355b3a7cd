/**
 * One DAG: header, tabs (Grid | Graph | Gantt | Durations | Code | Details),
 * the selected run's header and the task panel. The tab is the last path
 * segment; the selection (?run, ?task) is shared by every tab.
 */
import { lazy, Suspense, useState } from "react";
import { Link, Navigate, useLocation, useParams } from "react-router";
import { useAuth } from "../../api/auth";
import { useDag } from "../../api/hooks";
import { ApiError } from "../../api/client";
import { EmptyState, ErrorBanner, SkeletonRows, Spinner } from "../../components/Feedback";
import { Icon, type IconName } from "../../components/Icon";
import { TriggerDialog } from "../../components/TriggerDialog";
import { DagHeader } from "./DagHeader";
import { GridView } from "./grid/GridView";
import { RunHeader } from "./RunHeader";
import { useDagSelection } from "./useDagSelection";
import { GanttView } from "./GanttView";
import { DurationsView } from "./DurationsView";

const GraphView = lazy(() => import("./GraphView"));
const CodeView = lazy(() => import("./CodeView"));
const DetailsView = lazy(() => import("./DetailsView"));
const TaskPanel = lazy(() => import("../task/TaskPanel"));

const TABS: { id: string; label: string; icon: IconName }[] = [
  { id: "grid", label: "Grid", icon: "grid" },
  { id: "graph", label: "Graph", icon: "graph" },
  { id: "gantt", label: "Gantt", icon: "gantt" },
  { id: "durations", label: "Durations", icon: "chart" },
  { id: "code", label: "Code", icon: "code" },
  { id: "details", label: "Details", icon: "info" },
];

export function DagPage() {
  const { dagId = "", tab } = useParams();
  const location = useLocation();
  const dag = useDag(dagId);
  const sel = useDagSelection();
  const { can } = useAuth();
  const [triggering, setTriggering] = useState(false);

  if (!tab) return <Navigate to={`/dags/${encodeURIComponent(dagId)}/grid${location.search}`} replace />;
  if (!TABS.some((t) => t.id === tab)) return <Navigate to={`/dags/${encodeURIComponent(dagId)}/grid${location.search}`} replace />;

  if (dag.error) {
    return (
      <main className="page">
        {dag.error instanceof ApiError && dag.error.status === 404 ? (
          <EmptyState heading="h1" title={`No DAG "${dagId}"`} icon="search">
            It may have been renamed, or its file removed. <Link to="/">Back to the DAG list</Link>
          </EmptyState>
        ) : (
          <ErrorBanner error={dag.error} title="Could not load the DAG" onRetry={() => void dag.refetch()} />
        )}
      </main>
    );
  }

  const onTrigger = can("operator") ? () => setTriggering(true) : undefined;
  const content = (() => {
    switch (tab) {
      case "grid":
        return (
          <GridView
            dagId={dagId}
            selectedRunId={sel.runId}
            selectedTaskId={sel.taskId}
            onSelectRun={(r) => sel.selectRun(sel.runId === r ? null : r)}
            onSelectCell={(r, t) => sel.selectTask(r, t)}
            onTrigger={onTrigger}
          />
        );
      case "graph":
        return <GraphView dagId={dagId} runId={sel.runId} onSelectRun={sel.selectRun} onSelectTask={(r, t, m) => sel.selectTask(r, t, m)} selectedTaskId={sel.taskId} />;
      case "gantt":
        return <GanttView dagId={dagId} runId={sel.runId} onSelectRun={sel.selectRun} onSelectTask={(r, t, m) => sel.selectTask(r, t, m)} />;
      case "durations":
        return <DurationsView dagId={dagId} selectedRunId={sel.runId} onSelectRun={sel.selectRun} />;
      case "code":
        return <CodeView dagId={dagId} runId={sel.runId} />;
      default:
        return dag.data ? <DetailsView dag={dag.data} /> : <SkeletonRows />;
    }
  })();

  return (
    <main className={`page page-wide dag-page dag-page-${tab}${sel.runId && sel.taskId ? " with-panel" : ""}`}>
      {dag.data ? <DagHeader dag={dag.data} onTrigger={() => setTriggering(true)} /> : <SkeletonRows rows={2} cols={3} />}
      <nav className="tabs" aria-label="DAG views">
        {TABS.map((t) => (
          <Link key={t.id} to={`/dags/${encodeURIComponent(dagId)}/${t.id}${location.search}`} className="tab" aria-current={t.id === tab ? "page" : undefined}>
            <Icon name={t.icon} /> {t.label}
          </Link>
        ))}
      </nav>
      {sel.runId && <RunHeader key={sel.runId} dagId={dagId} runId={sel.runId} onClose={() => sel.selectRun(null)} />}
      <div className="dag-content">
        <Suspense fallback={<Spinner />}>{content}</Suspense>
      </div>
      {sel.runId && sel.taskId && (
        <Suspense fallback={null}>
          <TaskPanel dagId={dagId} runId={sel.runId} taskId={sel.taskId} mapIndex={sel.mapIndex} onClose={sel.closeTask} onMapIndex={(m) => sel.selectTask(sel.runId!, sel.taskId!, m)} />
        </Suspense>
      )}
      {triggering && <TriggerDialog dagId={dagId} open onClose={() => setTriggering(false)} />}
    </main>
  );
}
