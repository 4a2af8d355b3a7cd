/**
 * Datasets: every URI a task produces or consumes, who produces and consumes
 * it, the DAGs scheduled on it, a graph of task → dataset → consumer, and the
 * latest events (each success of a producing task) with the runs they
 * triggered.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { api } from "../../api/client";
import { keys } from "../../api/keys";
import { DataTable, NoValue } from "../../components/DataTable";
import { EmptyState, ErrorBanner, ListBody, SkeletonRows } from "../../components/Feedback";
import { FlowGraph, type GraphNode } from "../../components/graph/FlowGraph";
import { Icon } from "../../components/Icon";
import { Pagination } from "../../components/Pagination";
import { Time } from "../../components/Time";
import { DatasetNode, ProducerNode, type DatasetGraphData } from "./DatasetNodes";

interface Ref {
  dagId: string;
  taskId: string | null;
}
interface ScheduledDag {
  dagId: string;
  paused: boolean;
  queued: boolean;
}
interface Dataset {
  uri: string;
  producers: { dagId: string; taskId: string }[];
  consumers: Ref[];
  scheduledDags: ScheduledDag[];
  lastEvent: { dagId: string; runId: string; taskId: string; mapIndex: number; createdAt: string; extra: unknown } | null;
  eventCount: number;
}
interface DatasetEvent {
  id: number;
  uri: string;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  createdAt: string;
  extra: unknown;
  triggeredRuns: { dagId: string; runId: string }[];
}

const PAGE = 50;
const nodeTypes = { dataset: DatasetNode, task: ProducerNode };

function taskHref(dagId: string, runId: string, taskId: string) {
  return `/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(runId)}&task=${encodeURIComponent(taskId)}`;
}

function runHref(dagId: string, runId: string) {
  return `/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(runId)}`;
}

/** DAGs scheduled on a dataset: whether one of its updates waits for their next run, and whether they are paused. */
function ScheduledList({ dags }: { dags: ScheduledDag[] }) {
  if (dags.length === 0) return <NoValue />;
  return (
    <div className="ref-list">
      {dags.map((d) => (
        <span key={d.dagId} className="ref-link">
          <Link to={`/dags/${encodeURIComponent(d.dagId)}/details`} className="mono" title={`${d.dagId} runs when this dataset updates (see its schedule)`}>
            {d.dagId}
          </Link>
          {d.queued && (
            <span className="muted" title="This dataset updated since the DAG's last dataset-triggered run; the update waits for the rest of its condition or the next scheduler pass">
              {" "}
              · update queued
            </span>
          )}
          {d.paused && <span className="muted"> · paused</span>}
        </span>
      ))}
    </div>
  );
}

function RefList({ refs }: { refs: Ref[] }) {
  return (
    <div className="ref-list">
      {refs.length
        ? refs.map((r) => (
            <Link key={`${r.dagId}.${r.taskId}`} to={`/dags/${encodeURIComponent(r.dagId)}/graph`} className="mono ref-link">
              {r.dagId}
              {r.taskId ? <span className="muted">.{r.taskId}</span> : <span className="muted"> (DAG)</span>}
            </Link>
          ))
        : <NoValue />}
    </div>
  );
}

export default function DatasetsPage() {
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const [uri, setUri] = useState<string | null>(null);
  const list = useQuery({
    queryKey: [...keys.datasets, "list", search, offset],
    queryFn: () => api<{ total: number; datasets: Dataset[] }>("/datasets", { query: { search: search || undefined, limit: PAGE, offset } }),
    placeholderData: keepPreviousData,
  });
  const events = useQuery({
    queryKey: [...keys.datasetEvents, uri],
    queryFn: () => api<{ total: number; events: DatasetEvent[] }>("/datasets/events", { query: { uri: uri ?? undefined, limit: 50 } }),
  });

  const graph = useMemo(() => {
    const nodes = new Map<string, GraphNode<DatasetGraphData>>();
    const edges: { source: string; target: string }[] = [];
    for (const d of list.data?.datasets ?? []) {
      const id = `ds:${d.uri}`;
      nodes.set(id, { id, type: "dataset", data: { label: d.uri, kind: "dataset", events: d.eventCount, selected: d.uri === uri }, width: 260, height: 50 });
      for (const p of d.producers) {
        const pid = `t:${p.dagId}.${p.taskId}`;
        if (!nodes.has(pid)) nodes.set(pid, { id: pid, type: "task", data: { label: p.taskId, dagId: p.dagId, kind: "task" }, width: 200, height: 50 });
        edges.push({ source: pid, target: id });
      }
      for (const c of d.consumers) {
        const cid = c.taskId ? `t:${c.dagId}.${c.taskId}` : `dag:${c.dagId}`;
        if (!nodes.has(cid)) nodes.set(cid, { id: cid, type: "task", data: { label: c.taskId ?? c.dagId, dagId: c.dagId, kind: c.taskId ? "task" : "dag" }, width: 200, height: 50 });
        edges.push({ source: id, target: cid });
      }
    }
    return { nodes: [...nodes.values()], edges };
  }, [list.data, uri]);

  return (
    <main className="page">
      <div className="page-header">
        <div className="page-title">
          <h1>Datasets</h1>
          <p className="muted">Data that tasks produce and consume. Each success of a producing task records an event.</p>
        </div>
      </div>
      <div className="toolbar">
        <label className="search" style={{ width: 340 }}>
          <span className="sr-only">Search datasets</span>
          <Icon name="search" />
          <input
            className="input"
            type="search"
            placeholder="Search URIs"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setOffset(0);
            }}
          />
        </label>
        <div className="toolbar-spacer" />
        {list.data && <Pagination offset={offset} limit={PAGE} total={list.data.total} onChange={setOffset} label="datasets" />}
      </div>
      <ErrorBanner error={list.error} title="Could not load the datasets" onRetry={() => void list.refetch()} />
      <ListBody
        pending={list.isPending}
        items={list.data?.datasets}
        loading={
          <div className="card">
            <SkeletonRows rows={5} cols={5} />
          </div>
        }
        empty={
          <div className="card">
            <EmptyState title={search ? "No dataset matches" : "No datasets yet"} icon="database">
              {search ? "Try another search." : (
                <>
                  Declare one in a DAG file with <code>dataset("s3://bucket/path")</code> and a task's <code>outlets</code>; it appears here after the next scan.
                </>
              )}
            </EmptyState>
          </div>
        }
      >
        {(datasets) => (
          <>
            <section className="card" aria-labelledby="ds-graph-h">
              <div className="card-head">
                <h2 id="ds-graph-h">Lineage</h2>
                <span className="muted">producing task → dataset → consumer</span>
              </div>
              <FlowGraph
                nodes={graph.nodes}
                edges={graph.edges}
                nodeTypes={nodeTypes}
                ariaLabel={`Lineage of ${datasets.length} datasets`}
                height={Math.min(520, 140 + graph.nodes.length * 28)}
                onNodeClick={(id) => id.startsWith("ds:") && setUri(id.slice(3))}
                miniMap={false}
              />
            </section>
            <section className="card" aria-labelledby="ds-list-h">
              <div className="card-head">
                <h2 id="ds-list-h">All datasets</h2>
              </div>
              <DataTable columns={["URI", "Producers", "Consumers", "Scheduled DAGs", "Last event", { label: "Events", num: true }]}>
                {datasets.map((d) => (
                  <tr key={d.uri} data-testid={`dataset-row-${d.uri}`} className={d.uri === uri ? "row-selected" : undefined}>
                    <td>
                      <button type="button" className="link-btn mono" onClick={() => setUri(uri === d.uri ? null : d.uri)} aria-pressed={uri === d.uri} title="Show only this dataset's events">
                        {d.uri}
                      </button>
                    </td>
                    <td>
                      <RefList refs={d.producers} />
                    </td>
                    <td>
                      <RefList refs={d.consumers.filter((c) => c.taskId !== null)} />
                    </td>
                    <td>
                      <ScheduledList dags={d.scheduledDags ?? []} />
                    </td>
                    <td>
                      {d.lastEvent ? (
                        <Link to={taskHref(d.lastEvent.dagId, d.lastEvent.runId, d.lastEvent.taskId)}>
                          <Time value={d.lastEvent.createdAt} relative />
                        </Link>
                      ) : (
                        <span className="muted">never</span>
                      )}
                    </td>
                    <td className="num">{d.eventCount.toLocaleString()}</td>
                  </tr>
                ))}
              </DataTable>
            </section>
          </>
        )}
      </ListBody>
      <section className="card" aria-labelledby="ds-events-h">
        <div className="card-head">
          <h2 id="ds-events-h">Recent events{uri ? <span className="muted mono"> · {uri}</span> : null}</h2>
          {uri && (
            <button type="button" className="btn btn-sm" onClick={() => setUri(null)}>
              Show all
            </button>
          )}
        </div>
        <ErrorBanner error={events.error} />
        <ListBody
          pending={events.isPending}
          items={events.data?.events}
          loading={<SkeletonRows rows={4} cols={4} />}
          empty={
            <EmptyState title="No events yet" icon="clock">
              An event is recorded each time a producing task succeeds.
            </EmptyState>
          }
        >
          {(rows) => (
            <DataTable compact columns={["When", "Dataset", "Produced by", "Run", "Triggered", "Extra"]}>
              {rows.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time value={e.createdAt} relative />
                  </td>
                  <td className="mono">{e.uri}</td>
                  <td>
                    <Link to={taskHref(e.dagId, e.runId, e.taskId)} className="mono">
                      {e.dagId}.{e.taskId}
                      {e.mapIndex >= 0 ? `[${e.mapIndex}]` : ""}
                    </Link>
                  </td>
                  <td className="mono muted">{e.runId}</td>
                  <td>
                    {e.triggeredRuns?.length ? (
                      <div className="ref-list">
                        {e.triggeredRuns.map((r) => (
                          <Link key={`${r.dagId}/${r.runId}`} to={runHref(r.dagId, r.runId)} className="mono ref-link" title={`Run ${r.runId} of ${r.dagId}`}>
                            {r.dagId}
                          </Link>
                        ))}
                      </div>
                    ) : (
                      <NoValue />
                    )}
                  </td>
                  <td className="mono extra-cell" title={e.extra == null ? undefined : JSON.stringify(e.extra)}>
                    {e.extra == null ? "—" : JSON.stringify(e.extra)}
                  </td>
                </tr>
              ))}
            </DataTable>
          )}
        </ListBody>
      </section>
    </main>
  );
}
