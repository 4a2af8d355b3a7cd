/**
 * A task in the graph: name, kind, state (colour and text). A mapped task is
 * drawn as a stack of cards with a "[ ]" badge from its declaration on, and
 * shows its instance counts once the run has expanded it.
 */
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { stateColor, stateLabel } from "../../lib/states";
import { KindIcon, kindLabel } from "../TaskKind";

export interface TaskNodeData extends Record<string, unknown> {
  taskId: string;
  kind: string;
  triggerRule: string;
  state: string | null;
  tryNumber: number;
  /** Declared with `expand` (known before any run expands it). */
  mapped?: boolean;
  /** Mapped tasks: the upstream whose result list is mapped over. */
  expandFrom?: string | null;
  /** Mapped tasks: instances per state, once expanded. */
  mapStates?: Record<string, number>;
  mapCount?: number;
}

export const TASK_NODE_W = 210;
export const TASK_NODE_H = 58;

export const TaskNode = memo(function TaskNode({ data, selected }: NodeProps) {
  const d = data as TaskNodeData;
  const state = d.state ?? "none";
  return (
    <div
      className={`tnode${selected ? " tnode-selected" : ""}${d.mapped ? " tnode-mapped" : ""}`}
      data-testid={`node-${d.taskId}`}
      data-state={state}
      data-mapped={d.mapped ? "true" : undefined}
      title={`${d.taskId}: ${stateLabel(state)}${d.tryNumber > 1 ? ` (try ${d.tryNumber})` : ""}${d.mapped ? `\nMapped: one instance per element of ${d.expandFrom ?? "an upstream"}'s result` : ""}`}
      style={{ borderLeftColor: d.state ? stateColor(state) : "var(--border-strong)" }}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="tnode-top">
        <span className="tnode-id">{d.taskId}</span>
        {d.mapped && (
          <span className="tnode-mapped-badge" title="Mapped task">
            <span aria-hidden="true">[ ]</span>
            <span className="sr-only">mapped</span>
          </span>
        )}
        <span className="tnode-kind">
          <KindIcon kind={d.kind} />
          {kindLabel(d.kind)}
        </span>
      </div>
      <div className="tnode-bottom">
        <span className="state-dot" style={{ background: stateColor(state) }} aria-hidden="true" />
        <span>{d.state ? stateLabel(state) : "no run"}</span>
        {d.mapCount !== undefined && (
          <span className="tnode-map" title={Object.entries(d.mapStates ?? {}).map(([s, n]) => `${n} ${stateLabel(s)}`).join(", ")}>
            {d.mapStates?.success ?? 0}/{d.mapCount} mapped
          </span>
        )}
        {d.triggerRule !== "all_success" && <span className="tnode-rule">{d.triggerRule}</span>}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
