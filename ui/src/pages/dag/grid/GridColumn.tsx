/** One run's column of task cells (only the rows in view). Memoized: scrolling re-renders only columns that enter the view. */
import { memo } from "react";
import type { GridRun, GridTask } from "../../../api/types";
import { stateColor, stateLabel } from "../../../lib/states";

export const COL_W = 18;
export const ROW_H = 24;
export const CELL = 14;

export function mapSummary(states: Record<string, number> | undefined): string {
  if (!states) return "";
  return Object.entries(states)
    .map(([s, n]) => `${n} ${stateLabel(s).toLowerCase()}`)
    .join(", ");
}

/** The accessible name: "<taskId> in <runId>: <state>" (tests and screen readers rely on this exact form). */
export function cellLabel(task: GridTask, run: GridRun, cell: GridRun["cells"][number]): string {
  return `${task.taskId} in ${run.runId}: ${cell?.state ?? "none"}`;
}

interface Props {
  run: GridRun;
  col: number;
  x: number;
  tasks: GridTask[];
  rowStart: number;
  rowEnd: number;
  /** Row of the selected cell in this column (-1: none; -2: the whole run is selected). */
  selectedRow: number;
  /** Row of the keyboard cursor in this column, or -1. */
  cursorRow: number;
  onCell: (run: GridRun, task: GridTask, col: number, row: number) => void;
}

/** Tooltip text of a cell, built only when the pointer is on it. */
export function cellTip(task: GridTask, cell: GridRun["cells"][number]): string {
  if (!cell) return `${task.taskId}\nnot in this run (another DAG version)`;
  const tries = cell.tryNumber > 1 ? ` · try ${cell.tryNumber}` : "";
  const mapped = cell.mapCount !== undefined ? `\n${cell.mapCount} mapped: ${mapSummary(cell.mapStates)}` : "";
  return `${task.taskId}\n${stateLabel(cell.state)}${tries}${mapped}`;
}

export const GridColumn = memo(function GridColumn({ run, col, x, tasks, rowStart, rowEnd, selectedRow, cursorRow, onCell }: Props) {
  const out = [];
  for (let row = rowStart; row <= rowEnd && row < tasks.length; row++) {
    const task = tasks[row];
    const cell = run.cells[row];
    const state = cell?.state ?? "none";
    const selected = selectedRow === row;
    out.push(
      <button
        key={row}
        type="button"
        className={`gcell${cell?.mapCount !== undefined ? " gcell-mapped" : ""}${selected ? " gcell-selected" : ""}${cell ? "" : " gcell-empty"}`}
        data-testid={`cell-${run.runId}-${task.taskId}`}
        data-state={state}
        data-col={col}
        data-row={row}
        data-tip=""
        aria-label={cellLabel(task, run, cell)}
        aria-pressed={selected}
        tabIndex={cursorRow === row ? 0 : -1}
        style={{ left: x + (COL_W - CELL) / 2, top: row * ROW_H + (ROW_H - CELL) / 2, background: cell ? stateColor(state) : undefined }}
        onClick={() => onCell(run, task, col, row)}
      />,
    );
  }
  return <>{out}</>;
});
