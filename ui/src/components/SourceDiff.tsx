/**
 * A unified line diff of two texts (jsdiff's structuredPatch), as a table:
 * both line numbers, removed lines marked "-" and added ones "+" (colour is
 * the second signal, not the only one), unchanged stretches folded down to a
 * few lines of context around each change with a row saying how many lines
 * it hides. "Show all lines" unfolds every stretch.
 */
import { structuredPatch } from "diff";
import { memo, useMemo, useState } from "react";
import "../styles/versions.css";

/** Unchanged lines kept above and below each change (what `git diff` shows). */
const CONTEXT = 3;

export type DiffRow =
  | { kind: "line"; change: "added" | "removed" | "unchanged"; oldNo: number | null; newNo: number | null; text: string }
  | { kind: "gap"; hidden: number };

function lineCount(s: string): number {
  if (s === "") return 0;
  const n = s.split("\n").length;
  return s.endsWith("\n") ? n - 1 : n;
}

/** The rows of the diff from `before` to `after`; `context` unchanged lines around each change, the rest folded into gap rows. */
export function diffRows(before: string, after: string, context: number): { rows: DiffRow[]; added: number; removed: number } {
  const patch = structuredPatch("before", "after", before, after, undefined, undefined, { context });
  const rows: DiffRow[] = [];
  let added = 0;
  let removed = 0;
  // The first line of `after` not shown yet: what lies between it and the next hunk is folded.
  let nextNew = 1;
  for (const h of patch.hunks) {
    // jsdiff's structured hunks start at the hunk's first line, 1-based, even for a side with no lines in it
    // (the "line before" of the unified text format is applied only when the patch is formatted as text).
    let o = h.oldStart;
    let n = h.newStart;
    if (n > nextNew) rows.push({ kind: "gap", hidden: n - nextNew });
    for (const line of h.lines) {
      const text = line.slice(1);
      if (line[0] === "+") {
        rows.push({ kind: "line", change: "added", oldNo: null, newNo: n++, text });
        added++;
      } else if (line[0] === "-") {
        rows.push({ kind: "line", change: "removed", oldNo: o++, newNo: null, text });
        removed++;
      } else if (line[0] === " ") {
        rows.push({ kind: "line", change: "unchanged", oldNo: o++, newNo: n++, text });
      }
      // "\ No newline at end of file" is a note of the patch format, not a line of either text.
    }
    nextNew = n;
  }
  const total = lineCount(after);
  if (patch.hunks.length > 0 && total >= nextNew) rows.push({ kind: "gap", hidden: total - nextNew + 1 });
  return { rows, added, removed };
}

const SIGN = { added: "+", removed: "-", unchanged: " " } as const;

export const SourceDiff = memo(function SourceDiff({ before, after, label }: { before: string; after: string; label: string }) {
  const [all, setAll] = useState(false);
  const { rows, added, removed } = useMemo(() => diffRows(before, after, all ? Number.MAX_SAFE_INTEGER : CONTEXT), [before, after, all]);
  const folded = rows.some((r) => r.kind === "gap");
  return (
    <div className="source-diff" data-testid="source-diff">
      <div className="diff-head">
        <span className="diff-title">{label}</span>
        <span className="diff-stat" data-testid="diff-stat">
          <span className="diff-stat-added">+{added}</span> <span className="diff-stat-removed">−{removed}</span>
          <span className="sr-only">
            {" "}
            ({added} {added === 1 ? "line" : "lines"} added, {removed} removed)
          </span>
        </span>
        {(folded || all) && (
          <button type="button" className="btn btn-sm btn-ghost" aria-pressed={all} onClick={() => setAll((a) => !a)}>
            {all ? "Fold unchanged lines" : "Show all lines"}
          </button>
        )}
      </div>
      {rows.length === 0 ? (
        <p className="diff-same muted">The two versions' sources are the same.</p>
      ) : (
        <div className="diff-scroll" tabIndex={0} role="region" aria-label={label}>
          <table className="diff">
            <caption className="sr-only">{label}</caption>
            <thead className="diff-cols">
              <tr>
                <th scope="col">
                  <span className="sr-only">Line before</span>
                </th>
                <th scope="col">
                  <span className="sr-only">Line after</span>
                </th>
                <th scope="col">
                  <span className="sr-only">Change</span>
                </th>
                <th scope="col">
                  <span className="sr-only">Code</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) =>
                r.kind === "gap" ? (
                  <tr key={i} className="diff-gap" data-testid="diff-gap">
                    <td colSpan={4}>
                      ⋯ {r.hidden} unchanged {r.hidden === 1 ? "line" : "lines"}
                    </td>
                  </tr>
                ) : (
                  <tr key={i} className={`diff-line diff-${r.change}`} data-change={r.change} data-testid="diff-line">
                    <td className="diff-ln">{r.oldNo ?? ""}</td>
                    <td className="diff-ln">{r.newNo ?? ""}</td>
                    <td className="diff-sign">
                      <span aria-hidden="true">{SIGN[r.change]}</span>
                      {r.change !== "unchanged" && <span className="sr-only">{r.change}</span>}
                    </td>
                    <td className="diff-text">{r.text}</td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
});
