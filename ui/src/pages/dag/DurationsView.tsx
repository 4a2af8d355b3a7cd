/**
 * Run durations over time: one bar per run (oldest left), its height the
 * run's duration and its colour the run's state, with the time it waited
 * before starting stacked below in grey. Click a bar to select the run.
 */
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { useNow } from "../../components/Time";
import { usePrefs } from "../../lib/prefs";
import { stateColor, stateLabel } from "../../lib/states";
import { formatDuration } from "../../lib/time";
import { useWidth } from "../../lib/useWidth";

interface Timing {
  runId: string;
  logicalDate: string;
  state: string;
  queuedAt: string;
  startDate: string | null;
  endDate: string | null;
}

const H = 260;
const PAD = { left: 64, right: 12, top: 12, bottom: 34 };
const LIMITS = [50, 100, 200, 500];

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function DurationsView({ dagId, selectedRunId, onSelectRun }: { dagId: string; selectedRunId: string | null; onSelectRun: (runId: string) => void }) {
  const [limit, setLimit] = useState(100);
  const q = useQuery({
    queryKey: [...keys.runsOf(dagId), "durations", limit],
    queryFn: () => api<{ runs: Timing[] }>(`/dags/${seg(dagId)}/runs/durations`, { query: { limit } }),
  });
  const now = useNow(2000);
  const { fmt } = usePrefs();
  const [box, width] = useWidth();

  const bars = useMemo(
    () =>
      (q.data?.runs ?? [])
        .slice()
        .reverse()
        .map((r) => {
          const s = r.startDate ? Date.parse(r.startDate) : null;
          const e = r.endDate ? Date.parse(r.endDate) : s !== null ? now : null;
          const queued = Math.max(0, (s ?? now) - Date.parse(r.queuedAt));
          return { ...r, run: s !== null && e !== null ? e - s : 0, queued: s === null ? queued : Math.max(0, s - Date.parse(r.queuedAt)) };
        }),
    [q.data, now],
  );

  if (q.error) return <ErrorBanner error={q.error} />;
  if (!q.data) return <SkeletonRows rows={5} cols={1} />;
  if (bars.length === 0) return <EmptyState title="No runs yet — trigger one" icon="chart" />;

  const finished = bars.filter((b) => b.endDate).map((b) => b.run).sort((a, b) => a - b);
  const max = Math.max(1000, ...bars.map((b) => b.run + b.queued));
  const innerW = Math.max(200, width - PAD.left - PAD.right - 2);
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / bars.length;
  const bw = Math.max(2, Math.min(28, slot * 0.7));
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const labelEvery = Math.max(1, Math.ceil(bars.length / Math.max(2, Math.floor(innerW / 120))));

  return (
    <div className="card" ref={box}>
      <div className="card-head">
        <dl className="run-facts">
          <div>
            <dt>Median</dt>
            <dd className="num">{formatDuration(quantile(finished, 0.5))}</dd>
          </div>
          <div>
            <dt>p95</dt>
            <dd className="num">{formatDuration(quantile(finished, 0.95))}</dd>
          </div>
          <div>
            <dt>Longest</dt>
            <dd className="num">{formatDuration(finished.length ? finished[finished.length - 1] : null)}</dd>
          </div>
          <div>
            <dt>Runs</dt>
            <dd className="num">{bars.length}</dd>
          </div>
        </dl>
        <div className="segmented" role="group" aria-label="Runs shown">
          {LIMITS.map((l) => (
            <button key={l} type="button" className={`segmented-btn ${l === limit ? "active" : ""}`} aria-pressed={l === limit} onClick={() => setLimit(l)}>
              Last {l}
            </button>
          ))}
        </div>
      </div>
      <div className="card-body">
        <svg width={innerW + PAD.left + PAD.right} height={H} className="chart" role="img" aria-label={`Durations of the last ${bars.length} runs of ${dagId}`}>
          {yTicks.map((v) => (
            <g key={v}>
              <line x1={PAD.left} x2={PAD.left + innerW} y1={y(v)} y2={y(v)} className="chart-grid" />
              <text x={PAD.left - 8} y={y(v) + 4} className="chart-label" textAnchor="end">
                {formatDuration(v)}
              </text>
            </g>
          ))}
          {bars.map((b, i) => {
            const cx = PAD.left + i * slot + slot / 2;
            const selected = b.runId === selectedRunId;
            return (
              <g key={b.runId} className="chart-bar" onClick={() => onSelectRun(b.runId)} data-state={b.state}>
                <title>{`${b.runId}\n${stateLabel(b.state)} · ${fmt(b.logicalDate)}\nRan ${formatDuration(b.run)}, queued ${formatDuration(b.queued)}`}</title>
                <rect x={cx - slot / 2} y={PAD.top} width={slot} height={innerH} className={`chart-hit${selected ? " chart-hit-selected" : ""}`} />
                <rect x={cx - bw / 2} y={y(b.queued)} width={bw} height={Math.max(0, y(0) - y(b.queued))} className="chart-queued" />
                <rect x={cx - bw / 2} y={y(b.queued + b.run)} width={bw} height={Math.max(1, y(b.queued) - y(b.queued + b.run))} fill={stateColor(b.state)} rx={2} />
                {i % labelEvery === 0 && (
                  <text x={cx} y={H - PAD.bottom + 18} className="chart-label" textAnchor="middle">
                    {fmt(b.logicalDate, "short")}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
        <ul className="sr-only">
          {bars.map((b) => (
            <li key={b.runId}>
              <button type="button" onClick={() => onSelectRun(b.runId)}>
                {b.runId}: {stateLabel(b.state)}, ran {formatDuration(b.run)}
              </button>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
