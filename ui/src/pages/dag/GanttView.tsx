/**
 * Gantt chart of one run: per task instance, the time it waited in the queue
 * (light) and the time it ran (its state's colour), on a shared time axis.
 * Running instances grow with the clock.
 */
import { useMemo } from "react";
import { useRun, useRunTasks, useStructure } from "../../api/hooks";
import type { TaskInstance } from "../../api/types";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { useNow } from "../../components/Time";
import { usePrefs } from "../../lib/prefs";
import { stateColor, stateLabel } from "../../lib/states";
import { offsetLabel, timeTicks } from "../../lib/ticks";
import { formatDuration } from "../../lib/time";
import { topoOrder } from "../../lib/topo";
import { useWidth } from "../../lib/useWidth";
import { RunPicker, useEffectiveRun } from "./RunPicker";

const ROW = 26;
const LABEL = 220;
const AXIS = 26;

interface Props {
  dagId: string;
  runId: string | null;
  onSelectRun: (runId: string) => void;
  onSelectTask: (runId: string, taskId: string, mapIndex: number) => void;
}

const ms = (v: string | null) => (v ? Date.parse(v) : null);

export function GanttView({ dagId, runId: selected, onSelectRun, onSelectTask }: Props) {
  const { runId } = useEffectiveRun(dagId, selected);
  const run = useRun(dagId, runId);
  const tis = useRunTasks(dagId, runId);
  const structure = useStructure(dagId, run.data?.versionHash);
  const now = useNow(1000);
  const { fmt } = usePrefs();
  const [box, width] = useWidth();

  const rows = useMemo(() => {
    const list = tis.data?.tasks ?? [];
    const order = structure.data ? topoOrder(structure.data.tasks).map((t) => t.taskId) : [];
    const rank = new Map(order.map((t, i) => [t, i]));
    return list.slice().sort((a, b) => (rank.get(a.taskId) ?? 1e9) - (rank.get(b.taskId) ?? 1e9) || a.mapIndex - b.mapIndex);
  }, [tis.data, structure.data]);

  const header = (
    <div className="toolbar">
      <RunPicker dagId={dagId} runId={selected} onSelect={onSelectRun} />
      <div className="toolbar-spacer" />
      <span className="legend">
        <span className="legend-item">
          <span className="legend-sq legend-queued" /> queued
        </span>
        <span className="legend-item">
          <span className="legend-sq" style={{ background: "var(--state-success)" }} /> running → end (colour = state)
        </span>
      </span>
    </div>
  );

  if (!runId) return <EmptyState title="No runs yet — trigger one" icon="gantt" />;
  if (tis.error) return <ErrorBanner error={tis.error} />;
  if (!tis.data) return <SkeletonRows rows={6} cols={2} />;

  const started = rows.filter((r) => r.queuedAt || r.startDate);
  const t0 = Math.min(...started.map((r) => ms(r.queuedAt) ?? ms(r.startDate)!), ms(run.data?.startDate ?? null) ?? Infinity);
  const t1 = Math.max(...rows.map((r) => ms(r.endDate) ?? (r.startDate || r.queuedAt ? now : 0)), t0 + 100);
  const chartW = Math.max(200, width - LABEL - 24);
  const span = Math.max(100, t1 - t0);
  const x = (t: number) => ((t - t0) / span) * chartW;
  const step = timeTicks(span, Math.max(3, Math.floor(chartW / 110)));
  const ticks: number[] = [];
  for (let t = 0; t <= span; t += step) ticks.push(t);
  const height = AXIS + rows.length * ROW + 6;

  const bar = (ti: TaskInstance, i: number) => {
    const q = ms(ti.queuedAt);
    const s = ms(ti.startDate);
    const e = ms(ti.endDate) ?? (s || q ? now : null);
    const y = AXIS + i * ROW + 6;
    const title = `${ti.taskId}${ti.mapIndex >= 0 ? `[${ti.mapIndex}]` : ""} · ${stateLabel(ti.state)}\nQueued: ${fmt(ti.queuedAt)}\nStarted: ${fmt(ti.startDate)}\nEnded: ${fmt(ti.endDate)}\nDuration: ${formatDuration(s && e ? e - s : null)}`;
    return (
      <g key={`${ti.taskId}:${ti.mapIndex}`} className="gantt-row" onClick={() => runId && onSelectTask(runId, ti.taskId, ti.mapIndex)}>
        <title>{title}</title>
        <rect x={0} y={y - 4} width={chartW} height={ROW} className="gantt-hit" />
        {q !== null && (s !== null || e !== null) && <rect x={x(q)} y={y + 3} width={Math.max(1, x(s ?? e!) - x(q))} height={ROW - 14} className="gantt-queued" rx={2} />}
        {s !== null && e !== null && <rect x={x(s)} y={y} width={Math.max(2, x(e) - x(s))} height={ROW - 8} rx={3} fill={stateColor(ti.state)} data-state={ti.state} />}
      </g>
    );
  };

  return (
    <div className="gantt card" ref={box}>
      <div className="card-head">{header}</div>
      {rows.length === 0 ? (
        <EmptyState title="This run has no task instances yet" icon="gantt" />
      ) : (
        <div className="gantt-body">
          <ol className="gantt-labels" style={{ paddingTop: AXIS }} aria-label="Task instances">
            {rows.map((ti) => (
              <li key={`${ti.taskId}:${ti.mapIndex}`} style={{ height: ROW }}>
                <button type="button" className="gantt-label" onClick={() => onSelectTask(runId, ti.taskId, ti.mapIndex)}>
                  <span className="state-dot" style={{ background: stateColor(ti.state) }} aria-hidden="true" />
                  <span className="gantt-label-text">
                    {ti.taskId}
                    {ti.mapIndex >= 0 && <span className="muted">[{ti.mapIndex}]</span>}
                  </span>
                  <span className="sr-only">{stateLabel(ti.state)}</span>
                  <span className="muted num gantt-dur">{formatDuration(ti.durationMs ?? (ti.startDate && !ti.endDate ? now - Date.parse(ti.startDate) : null))}</span>
                </button>
              </li>
            ))}
          </ol>
          <svg width={chartW} height={height} className="gantt-svg" role="img" aria-label={`Timeline of run ${runId}: ${rows.length} task instances over ${formatDuration(span)}`}>
            {ticks.map((t) => (
              <g key={t}>
                <line x1={x(t0 + t)} x2={x(t0 + t)} y1={AXIS - 6} y2={height} className="gantt-grid" />
                <text x={x(t0 + t) + 3} y={14} className="gantt-tick">
                  {offsetLabel(t)}
                </text>
              </g>
            ))}
            {rows.map(bar)}
          </svg>
        </div>
      )}
      <div className="card-foot">
        <span>
          Started <strong>{fmt(run.data?.startDate ?? null)}</strong>
        </span>
        <span>Span {formatDuration(span)}</span>
      </div>
    </div>
  );
}
