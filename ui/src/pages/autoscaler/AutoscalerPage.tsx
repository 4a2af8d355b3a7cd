/**
 * Autoscaler: per queue, the workers the autoscaler ran and asked for against
 * the queue depth and the workers' CPU over a chosen time range (ScalingChart),
 * and its decisions with their reasons as a table (newest first; "changes
 * only" hides the ticks that kept the count). Re-read every few seconds: the
 * autoscaler records a decision per queue per interval, not a live event.
 */
import { useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { useAutoscalerDecisions } from "../../api/hooks";
import type { AutoscalerDecision } from "../../api/types";
import { DataTable, NoValue } from "../../components/DataTable";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Time } from "../../components/Time";
import { ScalingChart } from "./ScalingChart";
import "../../styles/autoscaler.css";

const RANGES = [
  { label: "15 min", ms: 15 * 60_000 },
  { label: "1 hour", ms: 60 * 60_000 },
  { label: "6 hours", ms: 6 * 60 * 60_000 },
  { label: "24 hours", ms: 24 * 60 * 60_000 },
];
const TABLE_ROWS = 100;

function NoDecisions() {
  return (
    <div className="card" data-testid="autoscaler-empty">
      <EmptyState title="No autoscaler decisions in this range" icon="chart">
        <p>
          The autoscaler sizes the pool of queue workers (<code>executor.kind: queue</code>). Start it with <code>sluice autoscaler</code> (and{" "}
          <code>autoscaler.enabled: true</code> in the config): it records one decision per queue every <code>autoscaler.intervalMs</code> (15 s by default), and
          this page draws them. On Kubernetes it scales the workers' Deployment; see <code>docs/kubernetes.md</code>.
        </p>
      </EmptyState>
    </div>
  );
}

function DecisionRows({ decisions, changesOnly }: { decisions: AutoscalerDecision[]; changesOnly: boolean }) {
  const rows = decisions.filter((d) => !changesOnly || d.desiredReplicas !== d.currentReplicas);
  const newest = rows.slice(-TABLE_ROWS).reverse();
  if (newest.length === 0) return <p className="muted scaling-none">No decision in this range changed the number of workers.</p>;
  return (
    <>
      <DataTable columns={["Time", { label: "Queued", num: true }, { label: "Running", num: true }, { label: "CPU / worker", num: true }, { label: "Workers", num: true }, "Reason"]} compact>
        {newest.map((d) => (
          <tr key={d.id} data-testid="autoscaler-decision" data-change={d.desiredReplicas !== d.currentReplicas || undefined}>
            <td className="nowrap">
              <Time value={d.at} />
            </td>
            <td className="num">{d.queued}</td>
            <td className="num">{d.running}</td>
            <td className="num">{d.cpu === null ? <NoValue /> : d.cpu.toFixed(2)}</td>
            <td className="num nowrap">
              {d.currentReplicas === d.desiredReplicas ? (
                d.currentReplicas
              ) : (
                <b>
                  {d.currentReplicas} → {d.desiredReplicas}
                </b>
              )}
            </td>
            <td className="scaling-reason-cell">{d.reason}</td>
          </tr>
        ))}
      </DataTable>
      {rows.length > TABLE_ROWS && (
        <p className="muted scaling-none">
          The newest {TABLE_ROWS} of {rows.length}; the API has them all: <code>GET /api/v1/autoscaler/decisions</code>.
        </p>
      )}
    </>
  );
}

export default function AutoscalerPage() {
  const [params, setParams] = useSearchParams();
  const rangeMs = RANGES.find((r) => String(r.ms) === params.get("range"))?.ms ?? RANGES[1].ms;
  const [changesOnly, setChangesOnly] = useState(false);
  const q = useAutoscalerDecisions(rangeMs);
  const byQueue = useMemo(() => {
    const m = new Map<string, AutoscalerDecision[]>();
    for (const d of q.data?.decisions ?? []) m.set(d.queue, [...(m.get(d.queue) ?? []), d]);
    return m;
  }, [q.data]);
  const queues = [...byQueue.keys()].sort();
  const queue = queues.includes(params.get("queue") ?? "") ? params.get("queue")! : queues.includes("default") ? "default" : queues[0];
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    next.set(k, v);
    setParams(next, { replace: true });
  };
  // The chart's right edge is the time of the last read, so the range does not drift between reads.
  const to = q.dataUpdatedAt || Date.now();

  return (
    <main className="page autoscaler-page">
      <div className="page-header">
        <div className="page-title">
          <h1>Autoscaler</h1>
          <p className="muted">How many queue workers ran, how many the autoscaler asked for and why, against the queue depth and the workers' CPU.</p>
        </div>
        <div className="segmented" role="group" aria-label="Time range">
          {RANGES.map((r) => (
            <button key={r.ms} type="button" className={`segmented-btn ${r.ms === rangeMs ? "active" : ""}`} aria-pressed={r.ms === rangeMs} onClick={() => set("range", String(r.ms))}>
              {r.label}
            </button>
          ))}
        </div>
      </div>
      <ErrorBanner error={q.error} title="Could not load the autoscaler's decisions" onRetry={() => void q.refetch()} />
      {q.isPending ? (
        <div className="card">
          <SkeletonRows rows={4} cols={3} />
        </div>
      ) : queue === undefined ? (
        !q.error && <NoDecisions />
      ) : (
        <>
          {queues.length > 1 && (
            <div className="segmented" role="group" aria-label="Queue">
              {queues.map((name) => (
                <button key={name} type="button" className={`segmented-btn mono ${name === queue ? "active" : ""}`} aria-pressed={name === queue} onClick={() => set("queue", name)}>
                  {name}
                </button>
              ))}
            </div>
          )}
          <section className="card" aria-label={`Queue ${queue} over time`}>
            <div className="card-body">
              <ScalingChart key={queue} queue={queue} decisions={byQueue.get(queue)!} from={to - rangeMs} to={to} />
            </div>
          </section>
          <section className="card" aria-labelledby="decisions-title">
            <div className="card-head">
              <h2 id="decisions-title">
                Decisions <span className="muted mono">{queue}</span>
              </h2>
              <label className="checkbox">
                <input type="checkbox" checked={changesOnly} onChange={(e) => setChangesOnly(e.target.checked)} /> Changes only
              </label>
            </div>
            <DecisionRows decisions={byQueue.get(queue)!} changesOnly={changesOnly} />
          </section>
        </>
      )}
    </main>
  );
}
