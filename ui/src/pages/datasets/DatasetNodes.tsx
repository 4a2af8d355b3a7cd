/** Graph nodes of the lineage view: datasets (cylinders) and the DAGs/tasks around them. */
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { Icon } from "../../components/Icon";

export interface DatasetGraphData extends Record<string, unknown> {
  label: string;
  kind: "dataset" | "task" | "dag";
  dagId?: string;
  events?: number;
  selected?: boolean;
}

export const DatasetNode = memo(function DatasetNode({ data }: NodeProps) {
  const d = data as DatasetGraphData;
  // "s3://bucket/a/b/table" reads best as its last segments; the full URI is in the tooltip.
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(d.label);
  const path = m ? m[2] : d.label;
  const short = path.length > 30 ? `…${path.slice(-29)}` : path;
  return (
    <div className={`dsnode${d.selected ? " dsnode-selected" : ""}`} title={d.label}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <Icon name="database" />
      <div className="dsnode-text">
        <span className="dsnode-label mono">{short}</span>
        <span className="muted">
          {m ? `${m[1]} · ` : ""}
          {d.events ?? 0} {d.events === 1 ? "event" : "events"}
        </span>
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

export const ProducerNode = memo(function ProducerNode({ data }: NodeProps) {
  const d = data as DatasetGraphData;
  return (
    <div className="tnode dsnode-task" title={d.kind === "dag" ? `DAG ${d.dagId}` : `${d.dagId}.${d.label}`}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="tnode-top">
        <span className="tnode-id">{d.label}</span>
        <span className="tnode-kind">{d.kind}</span>
      </div>
      {d.kind === "task" && <div className="tnode-bottom muted mono">{d.dagId}</div>}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
