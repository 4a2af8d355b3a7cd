/**
 * One queue's autoscaling over time, as three panels on one time axis:
 * workers (current as a solid step line, desired dashed), queue depth
 * (running below queued, stacked) and CPU per worker in cores. Hovering
 * picks the nearest decision and shows its numbers and reason above the
 * chart, so "why did it scale?" is answered where the step is.
 *
 * Panels instead of one chart with several y axes: 3 workers and 500 queued
 * tasks do not share a scale, and a second axis makes readers guess which
 * line belongs to which.
 */
import { useMemo, useState } from "react";
import type { AutoscalerDecision } from "../../api/types";
import { usePrefs } from "../../lib/prefs";
import { countAxis, timeTicks } from "../../lib/ticks";
import { useWidth } from "../../lib/useWidth";

const PANEL_H = 96;
const GAP = 18;
const PAD = { left: 56, right: 16, top: 8, bottom: 26 };

interface Point {
  at: number;
  d: AutoscalerDecision;
}

/**
 * Where the line breaks: a pause between decisions much longer than their
 * usual interval means the autoscaler was not running, and drawing a flat
 * line across it would claim it was.
 */
function breakAfter(points: Point[]): number {
  const gaps = points
    .slice(1)
    .map((p, i) => p.at - points[i].at)
    .sort((a, b) => a - b);
  const median = gaps.length ? gaps[Math.floor(gaps.length / 2)] : 0;
  return Math.max(60_000, 4 * median);
}

/** An SVG step path through (x, y) pairs, broken (new "M") where `broken[i]` says the gap before point i is too long. */
function stepPath(xs: number[], ys: (number | null)[], broken: boolean[], endX: number[]): string {
  let d = "";
  let open = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y === null) {
      open = false;
      continue;
    }
    d += open && !broken[i] ? ` V${y.toFixed(1)} H${endX[i].toFixed(1)}` : ` M${xs[i].toFixed(1)},${y.toFixed(1)} H${endX[i].toFixed(1)}`;
    open = true;
  }
  return d.trim();
}

/** A filled step band between `lo` and `hi` (per point), broken like stepPath. */
function bandPath(xs: number[], lo: number[], hi: number[], broken: boolean[], endX: number[]): string {
  const parts: string[] = [];
  let seg: number[] = [];
  const flush = () => {
    if (!seg.length) return;
    const top = seg.map((i) => `L${xs[i].toFixed(1)},${hi[i].toFixed(1)} L${endX[i].toFixed(1)},${hi[i].toFixed(1)}`).join(" ");
    const bottom = seg
      .slice()
      .reverse()
      .map((i) => `L${endX[i].toFixed(1)},${lo[i].toFixed(1)} L${xs[i].toFixed(1)},${lo[i].toFixed(1)}`)
      .join(" ");
    parts.push(`M${xs[seg[0]].toFixed(1)},${lo[seg[0]].toFixed(1)} ${top} ${bottom} Z`);
    seg = [];
  };
  for (let i = 0; i < xs.length; i++) {
    if (broken[i]) flush();
    seg.push(i);
  }
  flush();
  return parts.join(" ");
}

function cpuText(v: number | null): string {
  return v === null ? "not measured" : `${v.toFixed(2)} cores`;
}

export function ScalingChart({ queue, decisions, from, to }: { queue: string; decisions: AutoscalerDecision[]; from: number; to: number }) {
  const { fmt } = usePrefs();
  const [box, width] = useWidth();
  const [hover, setHover] = useState<number | null>(null);

  const points = useMemo<Point[]>(() => decisions.map((d) => ({ at: Date.parse(d.at), d })).filter((p) => p.at >= from && p.at <= to), [decisions, from, to]);
  const innerW = Math.max(240, width - PAD.left - PAD.right - 2);
  const x = (t: number) => PAD.left + ((t - from) / Math.max(1, to - from)) * innerW;
  const maxGap = breakAfter(points);
  const broken = points.map((p, i) => i > 0 && p.at - points[i - 1].at > maxGap);
  const xs = points.map((p) => x(p.at));
  // Each value holds until the next decision (or for one usual interval after the last one).
  const endX = points.map((p, i) => {
    const next = points[i + 1];
    return next && !broken[i + 1] ? x(next.at) : Math.min(PAD.left + innerW, x(p.at + Math.min(maxGap / 4, to - p.at)));
  });

  const workersAxis = countAxis(Math.max(...points.map((p) => Math.max(p.d.currentReplicas, p.d.desiredReplicas)), 1), 3);
  const depthAxis = countAxis(Math.max(...points.map((p) => p.d.queued + p.d.running), 1), 3);
  const cpuTop = Math.max(1, Math.ceil(Math.max(...points.map((p) => p.d.cpu ?? 0), 0) * 2) / 2);
  const cpuAxis = { top: cpuTop, ticks: cpuTop <= 1 ? [0, 0.5, 1] : [0, cpuTop / 2, cpuTop] };

  const panelTop = (i: number) => PAD.top + i * (PANEL_H + GAP);
  const scale = (i: number, top: number) => (v: number) => panelTop(i) + PANEL_H - (Math.min(v, top) / top) * PANEL_H;
  const yW = scale(0, workersAxis.top);
  const yD = scale(1, depthAxis.top);
  const yC = scale(2, cpuAxis.top);
  const height = panelTop(3) - GAP + PAD.bottom;
  const step = timeTicks(to - from, Math.max(2, Math.floor(innerW / 110)));
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);

  const panels = [
    { title: "Workers", axis: workersAxis, y: yW, label: (v: number) => String(v) },
    { title: "Queue depth", axis: depthAxis, y: yD, label: (v: number) => String(v) },
    { title: "CPU per worker", axis: cpuAxis, y: yC, label: (v: number) => `${v}` },
  ];

  const onMove = (e: React.MouseEvent<SVGRectElement>) => {
    if (!points.length) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const t = from + ((e.clientX - rect.left) / rect.width) * (to - from);
    let best = 0;
    for (let i = 1; i < points.length; i++) if (Math.abs(points[i].at - t) < Math.abs(points[best].at - t)) best = i;
    setHover(best);
  };
  const shown = hover !== null ? points[hover] : points.at(-1);

  return (
    <div className="scaling" ref={box}>
      <div className="scaling-readout" data-testid="scaling-readout" aria-live="polite">
        {shown ? (
          <>
            <span className="scaling-when">{hover === null ? "Latest" : fmt(shown.at, "time")}</span>
            <span>
              <b className="num">{shown.d.currentReplicas}</b> → <b className="num">{shown.d.desiredReplicas}</b> workers
            </span>
            <span>
              <b className="num">{shown.d.queued}</b> queued, <b className="num">{shown.d.running}</b> running
            </span>
            <span>CPU {cpuText(shown.d.cpu)}</span>
            <span className="scaling-reason">{shown.d.reason}</span>
          </>
        ) : (
          <span className="muted">No decisions in this range.</span>
        )}
      </div>
      <div className="legend scaling-legend" aria-hidden="true">
        <span className="legend-item">
          <i className="legend-line scaling-current" /> current workers
        </span>
        <span className="legend-item">
          <i className="legend-line legend-dashed scaling-desired" /> desired
        </span>
        <span className="legend-item">
          <i className="legend-box scaling-running" /> running
        </span>
        <span className="legend-item">
          <i className="legend-box scaling-queued" /> queued
        </span>
        <span className="legend-item">
          <i className="legend-line scaling-cpu" /> CPU (cores)
        </span>
      </div>
      <svg
        width={innerW + PAD.left + PAD.right}
        height={height}
        className="chart scaling-chart"
        role="img"
        aria-label={`Autoscaling of queue ${queue}: workers, queue depth and CPU per worker for ${points.length} decisions; the table below lists them`}
        data-testid="scaling-chart"
      >
        {panels.map((p, i) => (
          <g key={p.title} className="scaling-panel">
            <text x={PAD.left} y={panelTop(i) - 1} className="chart-label scaling-panel-title">
              {p.title}
            </text>
            {p.axis.ticks.map((v) => (
              <g key={v}>
                <line x1={PAD.left} x2={PAD.left + innerW} y1={p.y(v)} y2={p.y(v)} className="chart-grid" />
                <text x={PAD.left - 8} y={p.y(v) + 4} className="chart-label" textAnchor="end">
                  {p.label(v)}
                </text>
              </g>
            ))}
          </g>
        ))}
        {ticks.map((t) => (
          <text key={t} x={x(t)} y={height - 8} className="chart-label" textAnchor="middle">
            {fmt(t, "time").replace(/ UTC$/, "")}
          </text>
        ))}
        <path
          d={bandPath(xs, points.map(() => yD(0)), points.map((p) => yD(p.d.running)), broken, endX)}
          className="scaling-running"
          data-testid="scaling-running"
        />
        <path
          d={bandPath(xs, points.map((p) => yD(p.d.running)), points.map((p) => yD(p.d.running + p.d.queued)), broken, endX)}
          className="scaling-queued"
          data-testid="scaling-queued"
        />
        <path d={stepPath(xs, points.map((p) => yW(p.d.desiredReplicas)), broken, endX)} className="scaling-line scaling-desired" data-testid="scaling-desired" />
        <path d={stepPath(xs, points.map((p) => yW(p.d.currentReplicas)), broken, endX)} className="scaling-line scaling-current" data-testid="scaling-current" />
        <path d={stepPath(xs, points.map((p) => (p.d.cpu === null ? null : yC(p.d.cpu))), broken, endX)} className="scaling-line scaling-cpu" data-testid="scaling-cpu" />
        {hover !== null && shown && <line x1={x(shown.at)} x2={x(shown.at)} y1={PAD.top} y2={panelTop(3) - GAP} className="scaling-cursor" />}
        <rect
          x={PAD.left}
          y={PAD.top}
          width={innerW}
          height={panelTop(3) - GAP - PAD.top}
          className="chart-hit"
          onMouseMove={onMove}
          onMouseLeave={() => setHover(null)}
          data-testid="scaling-hit"
        />
      </svg>
    </div>
  );
}
