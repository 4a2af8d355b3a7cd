/**
 * A read-only graph (DAG tasks, datasets) drawn with React Flow and laid out
 * by ELK. Nodes keep their layout while their data (state colours) changes;
 * only a change of the node or edge set lays the graph out again.
 */
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow, type Edge, type Node, type NodeTypes } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useEffect, useMemo, useState } from "react";
import { usePrefs } from "../../lib/prefs";
import { ErrorBanner, Spinner } from "../Feedback";
import { layoutGraph } from "./layout";

export interface GraphNode<D extends Record<string, unknown>> {
  id: string;
  type: string;
  data: D;
  width: number;
  height: number;
}

interface Props<D extends Record<string, unknown>> {
  nodes: GraphNode<D>[];
  edges: { source: string; target: string; animated?: boolean }[];
  nodeTypes: NodeTypes;
  onNodeClick?: (id: string, data: D) => void;
  selectedId?: string | null;
  height?: number | string;
  ariaLabel: string;
  miniMap?: boolean;
}

function Fit({ signature }: { signature: string }) {
  const flow = useReactFlow();
  useEffect(() => {
    const t = requestAnimationFrame(() => void flow.fitView({ padding: 0.15, maxZoom: 1.1 }));
    return () => cancelAnimationFrame(t);
  }, [signature, flow]);
  return null;
}

function FlowGraphInner<D extends Record<string, unknown>>({ nodes, edges, nodeTypes, onNodeClick, selectedId, height = 560, ariaLabel, miniMap = true }: Props<D>) {
  const { resolvedTheme } = usePrefs();
  // Lay out again only when the shape changes, not when states do.
  const signature = useMemo(
    () => JSON.stringify([nodes.map((n) => `${n.id}:${n.width}x${n.height}`), edges.map((e) => `${e.source}>${e.target}`)]),
    [nodes, edges],
  );
  const [positions, setPositions] = useState<Map<string, { x: number; y: number }> | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    layoutGraph({
      nodes: nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
      edges: edges.map((e, i) => ({ id: `e${i}`, source: e.source, target: e.target })),
    })
      .then((p) => !cancelled && setPositions(p))
      .catch((err) => !cancelled && setError(err));
    return () => {
      cancelled = true;
    };
    // The signature captures everything the layout depends on.
  }, [signature]);

  const rfNodes: Node[] = useMemo(
    () =>
      positions
        ? nodes.map((n) => ({
            id: n.id,
            type: n.type,
            data: n.data,
            position: positions.get(n.id) ?? { x: 0, y: 0 },
            width: n.width,
            height: n.height,
            selected: n.id === selectedId,
            draggable: false,
            connectable: false,
          }))
        : [],
    [nodes, positions, selectedId],
  );
  const rfEdges: Edge[] = useMemo(
    () => edges.map((e) => ({ id: `${e.source}->${e.target}`, source: e.source, target: e.target, animated: e.animated, type: "smoothstep", focusable: false })),
    [edges],
  );

  if (error) return <ErrorBanner error={error} title="Could not lay out the graph" />;
  return (
    <div className="flow" style={{ height }} role="figure" aria-label={ariaLabel}>
      {!positions ? (
        <div className="flow-loading">
          <Spinner label="Laying out the graph" />
        </div>
      ) : (
        <ReactFlow
          nodes={rfNodes}
          edges={rfEdges}
          nodeTypes={nodeTypes}
          colorMode={resolvedTheme}
          onNodeClick={(_e, n) => onNodeClick?.(n.id, n.data as D)}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable
          minZoom={0.1}
          maxZoom={2}
          proOptions={{ hideAttribution: true }}
          fitView
        >
          <Fit signature={signature} />
          <Background gap={20} size={1} />
          <Controls showInteractive={false} />
          {miniMap && nodes.length > 12 && <MiniMap pannable zoomable />}
        </ReactFlow>
      )}
    </div>
  );
}

export function FlowGraph<D extends Record<string, unknown>>(props: Props<D>) {
  return (
    <ReactFlowProvider>
      <FlowGraphInner {...props} />
    </ReactFlowProvider>
  );
}
