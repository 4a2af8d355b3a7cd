/**
 * The grid: runs as columns (oldest left, newest right, a duration bar on
 * top), tasks as rows in topological order, one cell per task instance
 * coloured by state. Virtualized in both directions (@tanstack/react-virtual)
 * and fed page by page from the grid endpoint as the view scrolls, so 10,000
 * runs × 50 tasks render as fast as 10. Arrow keys move the cursor; Enter or
 * a click opens the task panel; a click on a run's bar selects the run.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { GridRun, GridTask } from "../../../api/types";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../../components/Feedback";
import { Icon } from "../../../components/Icon";
import { KindIcon, kindLabel } from "../../../components/TaskKind";
import { usePrefs } from "../../../lib/prefs";
import { stateColor, stateLabel } from "../../../lib/states";
import { formatDuration, spanMs } from "../../../lib/time";
import { useNow } from "../../../components/Time";
import { cellTip, COL_W, GridColumn, ROW_H } from "./GridColumn";
import { useGridData, type GridData } from "./useGridData";
import { useHoverTip } from "./useHoverTip";

const LABEL_W = 232;
const HEAD_H = 92;
const BAR_MAX = 58;
/** A date label every 8 columns (144 px), fixed to the column so labels do not move while scrolling. */
const TICK_EVERY = 8;

/** A run's duration bar (and, every few columns, its date). Memoized: scrolling renders only new ones. */
const GridBar = memo(function GridBar(p: { run: GridRun; col: number; x: number; height: number; selected: boolean; tick: string | null; onSelectRun: (runId: string) => void }) {
  return (
    <>
      {p.tick && (
        <span className="grid-tick" style={{ left: p.x }}>
          {p.tick}
        </span>
      )}
      <button
        type="button"
        className={`grid-bar${p.selected ? " grid-bar-selected" : ""}`}
        data-testid={`run-bar-${p.run.runId}`}
        data-state={p.run.state}
        data-col={p.col}
        data-tip=""
        aria-label={`Run ${p.run.runId}: ${p.run.state}`}
        aria-pressed={p.selected}
        tabIndex={-1}
        style={{ left: p.x + 3, width: COL_W - 6, height: p.height, background: stateColor(p.run.state) }}
        onClick={() => p.onSelectRun(p.run.runId)}
      />
    </>
  );
});

declare global {
  interface Window {
    /** performance.now() when the first grid cells were on screen (read by the benchmark). */
    __sluiceGridFirstRender?: number;
  }
}

interface Props {
  dagId: string;
  selectedRunId: string | null;
  selectedTaskId: string | null;
  onSelectRun: (runId: string) => void;
  onSelectCell: (runId: string, taskId: string) => void;
  onTrigger?: () => void;
}

function runTip(run: GridRun, fmt: (v: string | null) => string, now: number): string {
  const d = run.durationMs ?? spanMs(run.startDate, run.endDate, now);
  return `${run.runId}\n${stateLabel(run.state)} · ${run.runType}\nLogical date: ${fmt(run.logicalDate)}\nDuration: ${formatDuration(d)}`;
}

export function GridView({ dagId, selectedRunId, selectedTaskId, onSelectRun, onSelectCell, onTrigger }: Props) {
  const [range, setRange] = useState<{ start: number; end: number } | null>(null);
  const data = useGridData(dagId, range);
  const { total } = data;

  if (data.first.isPending) return <SkeletonRows rows={8} cols={6} />;
  if (data.first.error) return <ErrorBanner error={data.first.error} title="Could not load the grid" onRetry={() => void data.first.refetch()} />;
  if (total === 0) {
    return (
      <EmptyState title="No runs yet — trigger one" icon="grid">
        {onTrigger ? (
          <button type="button" className="btn btn-primary" onClick={onTrigger}>
            <Icon name="play" /> Trigger a run
          </button>
        ) : (
          "Runs appear here as the schedule creates them."
        )}
      </EmptyState>
    );
  }
  // Mounted once the run count is known, so the virtualizer starts at the newest runs.
  return (
    <GridCanvas
      dagId={dagId}
      data={data}
      onRange={setRange}
      selectedRunId={selectedRunId}
      selectedTaskId={selectedTaskId}
      onSelectRun={onSelectRun}
      onSelectCell={onSelectCell}
    />
  );
}

interface CanvasProps extends Omit<Props, "onTrigger"> {
  data: GridData;
  onRange: (r: { start: number; end: number }) => void;
}

function GridCanvas({ dagId, data, onRange, selectedRunId, selectedTaskId, onSelectRun, onSelectCell }: CanvasProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const { fmt } = usePrefs();
  const now = useNow(5000);
  const { total, tasks } = data;
  const tipFor = useCallback(
    (el: HTMLElement) => {
      const col = Number(el.dataset.col);
      const run = data.runAt(col);
      if (!run) return null;
      if (el.dataset.row !== undefined) {
        const row = Number(el.dataset.row);
        return tasks[row] ? `${cellTip(tasks[row], run.cells[row])}\n${run.runId}` : null;
      }
      return runTip(run, (x) => fmt(x), Date.now());
    },
    [data, tasks, fmt],
  );
  const tip = useHoverTip(wrapRef, tipFor);

  const cols = useVirtualizer({
    horizontal: true,
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => COL_W,
    overscan: 12,
    paddingStart: LABEL_W,
    // Open on the newest runs (the right end).
    initialOffset: () => Math.max(0, LABEL_W + total * COL_W - (scrollRef.current?.clientWidth ?? window.innerWidth)),
  });
  const rows = useVirtualizer({
    count: tasks.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 6,
    paddingStart: HEAD_H,
  });

  const vcols = cols.getVirtualItems();
  const vrows = rows.getVirtualItems();
  const colStart = vcols.length ? vcols[0].index : -1;
  const colEnd = vcols.length ? vcols[vcols.length - 1].index : -1;
  const rowStart = vrows.length ? vrows[0].index : 0;
  const rowEnd = vrows.length ? vrows[vrows.length - 1].index : -1;

  // Fetch the pages of what is in view.
  useEffect(() => {
    if (colStart >= 0) onRange({ start: colStart, end: colEnd });
  }, [colStart, colEnd, onRange]);

  // The estimate above used the window's width; land exactly on the right end before the first paint.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el) el.scrollLeft = el.scrollWidth;
  }, []);

  // Stay pinned to the newest run when new runs arrive, if the view was at the right end.
  const prevTotal = useRef(total);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && total > prevTotal.current && prevTotal.current > 0) {
      const atEnd = el.scrollLeft + el.clientWidth >= LABEL_W + prevTotal.current * COL_W - COL_W * 2;
      if (atEnd) cols.scrollToOffset(LABEL_W + total * COL_W - el.clientWidth);
    }
    prevTotal.current = total;
  }, [total, cols]);

  // Selection and keyboard cursor.
  const selCol = selectedRunId ? data.colOf(selectedRunId) : -1;
  const selRow = selectedTaskId ? tasks.findIndex((t) => t.taskId === selectedTaskId) : -1;
  const [cursor, setCursor] = useState<{ col: number; row: number } | null>(null);
  const effCursor = cursor ?? (selCol >= 0 ? { col: selCol, row: Math.max(0, selRow) } : total > 0 ? { col: total - 1, row: 0 } : null);
  const focusPending = useRef(false);

  // Bring the selected run into view: when it is chosen elsewhere (a link, the durations chart)
  // and when the grid narrows because the task panel opened beside it.
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || selCol < 0) return;
    const reveal = () => {
      cols.scrollToIndex(selCol, { align: "auto" });
      if (selRow >= 0) rows.scrollToIndex(selRow, { align: "auto" });
    };
    reveal();
    const ro = new ResizeObserver(reveal);
    ro.observe(el);
    return () => ro.disconnect();
  }, [selCol, selRow, cols, rows]);

  const onCell = useCallback(
    (run: GridRun, task: GridTask, col: number, row: number) => {
      setCursor({ col, row });
      onSelectCell(run.runId, task.taskId);
    },
    [onSelectCell],
  );

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (!effCursor || tasks.length === 0) return;
    let { col, row } = effCursor;
    switch (e.key) {
      case "ArrowLeft":
        col = Math.max(0, col - 1);
        break;
      case "ArrowRight":
        col = Math.min(total - 1, col + 1);
        break;
      case "ArrowUp":
        row = Math.max(0, row - 1);
        break;
      case "ArrowDown":
        row = Math.min(tasks.length - 1, row + 1);
        break;
      case "Home":
        col = 0;
        break;
      case "End":
        col = total - 1;
        break;
      case "PageUp":
        col = Math.max(0, col - 20);
        break;
      case "PageDown":
        col = Math.min(total - 1, col + 20);
        break;
      default:
        return;
    }
    e.preventDefault();
    setCursor({ col, row });
    cols.scrollToIndex(col, { align: "auto" });
    rows.scrollToIndex(row, { align: "auto" });
    focusPending.current = true;
  };

  // Move DOM focus to the cursor's cell once it is rendered (it may need its page first).
  useEffect(() => {
    if (!focusPending.current || !effCursor) return;
    const el = scrollRef.current?.querySelector<HTMLButtonElement>(`button[data-col="${effCursor.col}"][data-row="${effCursor.row}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      focusPending.current = false;
    }
  });

  // Duration bars: scaled to the longest run in view.
  const visibleRuns = useMemo(() => {
    const out: { run: GridRun; col: number; x: number }[] = [];
    for (const v of vcols) {
      const run = data.runAt(v.index);
      if (run) out.push({ run, col: v.index, x: v.start });
    }
    return out;
  }, [vcols, data]);
  // Scaled to the longest finished run in view: one run stuck for hours must not flatten all the others.
  const finishedDurs = visibleRuns.map(({ run }) => run.durationMs).filter((d): d is number => d !== null);
  const maxDur = Math.max(1, ...(finishedDurs.length ? finishedDurs : visibleRuns.map(({ run }) => spanMs(run.startDate, run.endDate, now) ?? 0)));

  const rendered = visibleRuns.length > 0 && tasks.length > 0;
  useEffect(() => {
    if (rendered && window.__sluiceGridFirstRender === undefined) window.__sluiceGridFirstRender = performance.now();
  }, [rendered]);

  const totalW = cols.getTotalSize();
  const totalH = rows.getTotalSize();
  return (
    <div className="grid-wrap" ref={wrapRef}>
      <div className="grid-scroll" ref={scrollRef} data-testid="grid" tabIndex={0} role="group" aria-label={`Grid of ${dagId}: ${total} ${total === 1 ? "run" : "runs"} × ${tasks.length} ${tasks.length === 1 ? "task" : "tasks"}. Arrow keys move, Enter opens the task.`} onKeyDown={onKeyDown} {...tip.handlers}>
        <div className="grid-canvas" style={{ width: totalW, height: totalH }}>
          <div className="grid-head" style={{ height: HEAD_H, width: totalW }}>
            <div className="grid-corner" style={{ width: LABEL_W, height: HEAD_H }}>
              <span className="grid-corner-title">Task</span>
              <span className="muted grid-corner-count">
                {total.toLocaleString()} {total === 1 ? "run" : "runs"}
                {data.fetching ? " · loading…" : ""}
              </span>
            </div>
            {vcols.map((v) => {
              const run = data.runAt(v.index);
              if (!run) return <span key={v.key} className="grid-bar-ph" style={{ left: v.start + 4, width: COL_W - 8 }} />;
              const d = run.durationMs ?? spanMs(run.startDate, run.endDate, now) ?? 0;
              const h = Math.max(4, Math.min(BAR_MAX, Math.round((d / maxDur) * BAR_MAX)));
              return (
                <GridBar
                  key={v.key}
                  run={run}
                  col={v.index}
                  x={v.start}
                  height={h}
                  selected={selectedRunId === run.runId}
                  tick={v.index % TICK_EVERY === 0 ? fmt(run.logicalDate, "short") : null}
                  onSelectRun={onSelectRun}
                />
              );
            })}
          </div>
          <div className="grid-body" style={{ height: totalH - HEAD_H }}>
            <div className="grid-labels" style={{ width: LABEL_W }}>
              {vrows.map((r) => {
                const t = tasks[r.index];
                return (
                  <div
                    key={r.key}
                    className={`grid-label${selRow === r.index ? " grid-label-selected" : ""}`}
                    style={{ top: r.start - HEAD_H, height: ROW_H }}
                    title={`${t.taskId} (${kindLabel(t.kind)}${t.mapped ? ", mapped" : ""}, ${t.triggerRule})`}
                  >
                    <KindIcon kind={t.kind} />
                    <span className="grid-label-text">{t.taskId}</span>
                    {t.mapped && (
                      <span className="pill pill-xs" data-testid={`mapped-label-${t.taskId}`}>
                        [ ]
                      </span>
                    )}
                  </div>
                );
              })}
            </div>
            {selCol >= 0 && <div className="grid-col-highlight" style={{ left: LABEL_W + selCol * COL_W, width: COL_W, height: totalH - HEAD_H }} />}
            {selRow >= 0 && <div className="grid-row-highlight" style={{ top: selRow * ROW_H, height: ROW_H, width: totalW }} />}
            {vcols.map((v) => {
              const run = data.runAt(v.index);
              if (!run) return <span key={v.key} className="grid-col-ph" style={{ left: v.start + 3, width: COL_W - 6, top: rowStart * ROW_H, height: (rowEnd - rowStart + 1) * ROW_H }} />;
              return (
                <GridColumn
                  key={v.key}
                  run={run}
                  col={v.index}
                  x={v.start}
                  tasks={tasks}
                  rowStart={rowStart}
                  rowEnd={rowEnd}
                  selectedRow={selectedRunId === run.runId ? selRow : -1}
                  cursorRow={effCursor && effCursor.col === v.index ? effCursor.row : -1}
                  onCell={onCell}
                />
              );
            })}
          </div>
        </div>
      </div>
      {!!data.error && !data.first.error && <ErrorBanner error={data.error} title="Some runs could not be loaded" />}
      {tip.element}
    </div>
  );
}
