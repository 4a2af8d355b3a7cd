/**
 * Run durations over time: one bar per run (oldest left), its height the
 * run's duration and its colour the run's state, with the time it waited
 * before starting stacked below in grey. Click a bar to select the run.
 *
 * The y axis fits the finished runs: one run stuck for hours would otherwise
 * flatten every other bar to a sliver. Unfinished runs taller than that are
 * cut at the top and marked with a caret.
 */
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { useNow } from "../../components/Time";
import { usePrefs } from "../../lib/prefs";
import { stateColor, stateLabel } from "../../lib/states";
import { durationAxis, offsetLabel } from "../../lib/ticks";
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
/** top leaves room for the caret over a cut bar. */
const PAD = { left: 64, right: 12, top: 20, bottom: 34 };
const LIMITS = [50, 100, 200, 500];

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function ranText(b: { finished: boolean; run: number; startDate: string | null }): string {
  if (b.finished) return `Ran ${formatDuration(b.run)}`;
  return b.startDate ? `Running for ${formatDuration(b.run)} so far` : "Not started yet";
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
          const queuedAt = Date.parse(r.queuedAt);
          const s = r.startDate ? Date.parse(r.startDate) : null;
          const e = r.endDate ? Date.parse(r.endDate) : null;
          // A run that ended without starting (cancelled while queued) waited until its end, not until now.
          const queued = Math.max(0, (s ?? e ?? now) - queuedAt);
          const run = s !== null ? Math.max(0, (e ?? now) - s) : 0;
          return { ...r, finished: e !== null, run, queued, total: run + queued };
        }),
    [q.data, now],
  );

  if (q.error) return <ErrorBanner error={q.error} />;
  if (!q.data) return <SkeletonRows rows={5} cols={1} />;
  if (bars.length === 0) return <EmptyState title="No runs yet — trigger one" icon="chart" />;

  const finished = bars.filter((b) => b.finished).map((b) => b.run).sort((a, b) => a - b);
  const finishedTotals = bars.filter((b) => b.finished).map((b) => b.total);
  const axis = durationAxis(Math.max(1000, ...(finishedTotals.length ? finishedTotals : bars.map((b) => b.total))));
  const top = axis.top;
  const cut = bars.filter((b) => b.total > top);
  const innerW = Math.max(200, width - PAD.left - PAD.right - 2);
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / bars.length;
  const bw = Math.max(2, Math.min(28, slot * 0.7));
  const y = (v: number) => PAD.top + innerH - (Math.min(v, top) / top) * innerH;
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
          {axis.ticks.map((v) => (
            <g key={v}>
              <line x1={PAD.left} x2={PAD.left + innerW} y1={y(v)} y2={y(v)} className="chart-grid" />
              <text x={PAD.left - 8} y={y(v) + 4} className="chart-label" textAnchor="end">
                {offsetLabel(v)}
              </text>
            </g>
          ))}
          {bars.map((b, i) => {
            const cx = PAD.left + i * slot + slot / 2;
            const selected = b.runId === selectedRunId;
            const isCut = b.total > top;
            return (
              <g key={b.runId} className="chart-bar" onClick={() => onSelectRun(b.runId)} data-state={b.state} data-cut={isCut || undefined}>
                <title>{`${b.runId}\n${stateLabel(b.state)} · ${fmt(b.logicalDate)}\n${ranText(b)}, queued ${formatDuration(b.queued)}${isCut ? "\nTaller than the scale, which fits the finished runs" : ""}`}</title>
                <rect x={cx - slot / 2} y={PAD.top} width={slot} height={innerH} className={`chart-hit${selected ? " chart-hit-selected" : ""}`} />
                <rect x={cx - bw / 2} y={y(b.queued)} width={bw} height={Math.max(0, y(0) - y(b.queued))} className="chart-queued" />
                <rect x={cx - bw / 2} y={y(b.total)} width={bw} height={Math.max(1, y(b.queued) - y(b.total))} fill={stateColor(b.state)} rx={2} />
                {isCut && <path d={`M${cx - 6},${PAD.top - 3} L${cx + 6},${PAD.top - 3} L${cx},${PAD.top - 13} Z`} fill={stateColor(b.state)} className="chart-cut" />}
                {i % labelEvery === 0 && (
                  <text x={cx} y={H - PAD.bottom + 18} className="chart-label" textAnchor="middle">
                    {fmt(b.logicalDate, "short")}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
        {cut.length > 0 && (
          <p className="muted chart-note" data-testid="durations-cut-note">
            <span aria-hidden="true">▲</span> {cut.length === 1 ? "1 unfinished run is" : `${cut.length} unfinished runs are`} longer than the scale, which fits the finished runs
            {` (longest so far ${formatDuration(Math.max(...cut.map((b) => b.total)))})`}.
          </p>
        )}
        <ul className="sr-only">
          {bars.map((b) => (
            <li key={b.runId}>
              <button type="button" onClick={() => onSelectRun(b.runId)}>
                {b.runId}: {stateLabel(b.state)}, {ranText(b).toLowerCase()}
              </button>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
