/**
 * A table in its horizontally scrolling wrapper, its header row built from
 * column specs; the caller renders the body rows.
 */
import type { ReactNode } from "react";

export interface Column {
  label: string;
  /** Right-aligned numbers. */
  num?: boolean;
  /** Named for screen readers only (a column of row buttons). */
  hidden?: boolean;
}

/** The last column of a table whose rows end in buttons. */
export const ACTIONS: Column = { label: "Actions", hidden: true };

export function DataTable({ columns, compact, children }: { columns: (string | Column)[]; compact?: boolean; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={compact ? "table table-compact" : "table"}>
        <thead>
          <tr>
            {columns.map((c) => {
              const col = typeof c === "string" ? { label: c } : c;
              return (
                <th key={col.label} scope="col" className={col.num ? "num" : undefined}>
                  {col.hidden ? <span className="sr-only">{col.label}</span> : col.label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The muted dash of an empty cell. */
export function NoValue() {
  return <span className="muted">—</span>;
}
