/**
 * The DAG as a graph laid out left to right, coloured by the task states of
 * the chosen run; mapped tasks are drawn as stacks from their declaration on
 * and show their instance counts once expanded. Click a task to open it in
 * the task panel (a mapped one with its list of instances).
 */
import { useMemo } from "react";
import { useRun, useRunTasks, useStructure } from "../../api/hooks";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { FlowGraph, type GraphNode } from "../../components/graph/FlowGraph";
import { TASK_NODE_H, TASK_NODE_W, TaskNode, type TaskNodeData } from "../../components/graph/TaskNode";
import { stateColor, STATE_ORDER, stateLabel } from "../../lib/states";
import { RunPicker, useEffectiveRun } from "./RunPicker";

const nodeTypes = { task: TaskNode };
const RANK = ["running", "queued", "up_for_retry", "scheduled", "failed", "upstream_failed", "none", "success", "skipped"];

interface Props {
  dagId: string;
  runId: string | null;
  selectedTaskId: string | null;
  onSelectRun: (runId: string) => void;
  onSelectTask: (runId: string, taskId: string, mapIndex: number) => void;
}

export default function GraphView({ dagId, runId: selected, selectedTaskId, onSelectRun, onSelectTask }: Props) {
  const { runId } = useEffectiveRun(dagId, selected);
  const run = useRun(dagId, runId);
  const tis = useRunTasks(dagId, runId);
  // The run's own version: a run made before an edit shows the tasks it had.
  const structure = useStructure(dagId, run.data?.versionHash);

  const nodes = useMemo((): GraphNode<TaskNodeData>[] => {
    if (!structure.data) return [];
    const byTask = new Map<string, { state: string; tryNumber: number; mapIndex: number }[]>();
    for (const ti of tis.data?.tasks ?? []) {
      const list = byTask.get(ti.taskId) ?? [];
      list.push({ state: ti.state, tryNumber: ti.tryNumber, mapIndex: ti.mapIndex });
      byTask.set(ti.taskId, list);
    }
    return structure.data.tasks.map((t) => {
      const inst = byTask.get(t.taskId) ?? [];
      const mapped = inst.filter((i) => i.mapIndex >= 0);
      let data: TaskNodeData = {
        taskId: t.taskId,
        kind: t.kind,
        triggerRule: t.triggerRule,
        state: inst[0]?.state ?? null,
        tryNumber: inst[0]?.tryNumber ?? 0,
        mapped: t.mapped,
        expandFrom: t.expandFrom ?? null,
      };
      if (mapped.length > 0) {
        const mapStates: Record<string, number> = {};
        for (const m of mapped) mapStates[m.state] = (mapStates[m.state] ?? 0) + 1;
        const state = mapped.map((m) => m.state).sort((a, b) => RANK.indexOf(a) - RANK.indexOf(b))[0];
        data = { ...data, state, mapStates, mapCount: mapped.length, tryNumber: Math.max(...mapped.map((m) => m.tryNumber)) };
      }
      return { id: t.taskId, type: "task", data, width: TASK_NODE_W, height: TASK_NODE_H };
    });
  }, [structure.data, tis.data]);

  const edges = useMemo(
    () => (structure.data?.edges ?? []).map((e) => ({ source: e.from, target: e.to, animated: nodes.find((n) => n.id === e.to)?.data.state === "running" })),
    [structure.data, nodes],
  );

  const legend = useMemo(() => {
    const present = new Set(nodes.map((n) => n.data.state ?? "none"));
    return STATE_ORDER.filter((s) => present.has(s));
  }, [nodes]);

  if (structure.error) return <ErrorBanner error={structure.error} />;
  if (!structure.data) return <SkeletonRows rows={5} cols={3} />;
  if (structure.data.tasks.length === 0) return <EmptyState title="This DAG has no tasks" icon="graph" />;

  return (
    <div className="card graph-card">
      <div className="card-head">
        <RunPicker dagId={dagId} runId={selected} onSelect={onSelectRun} />
        <span className="legend">
          {legend.map((s) => (
            <span key={s} className="legend-item">
              <span className="legend-sq" style={{ background: stateColor(s), boxShadow: s === "none" ? "inset 0 0 0 1px var(--state-none-border)" : undefined }} /> {stateLabel(s)}
            </span>
          ))}
        </span>
      </div>
      <FlowGraph
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        selectedId={selectedTaskId}
        ariaLabel={`Graph of ${dagId}: ${nodes.length} tasks${runId ? `, states of run ${runId}` : ""}`}
        onNodeClick={(id, d) => runId && d.state !== null && onSelectTask(runId, id, -1)}
        height="calc(100vh - 330px)"
      />
      {/* The canvas is not keyboard friendly; the same tasks as a list of buttons. */}
      <ul className="sr-only" aria-label="Tasks">
        {nodes.map((n) => (
          <li key={n.id}>
            <button type="button" disabled={!runId || n.data.state === null} onClick={() => runId && onSelectTask(runId, n.id, -1)}>
              {n.id}
              {n.data.mapped ? " (mapped)" : ""}: {stateLabel(n.data.state)}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
