/**
 * Recognises results that are tables, so the task panel can show a preview:
 * - an array of objects ([{a: 1, b: 2}, …]): columns are the union of keys;
 * - { columns: [...], rows: [[...], ...] } (or rows as objects);
 * - an object of equal-length arrays ({a: [1, 2], b: [3, 4]}), column-major.
 * The preview is cut to `maxRows` × `maxCols`, and says so.
 */
export interface TablePreview {
  columns: string[];
  rows: unknown[][];
  totalRows: number;
  totalCols: number;
  cutRows: boolean;
  cutCols: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function toTable(value: unknown, maxRows = 50, maxCols = 20): TablePreview | null {
  let columns: string[];
  let rowAt: (i: number, cols: string[]) => unknown[];
  let totalRows: number;

  if (Array.isArray(value) && value.length > 0 && value.every(isObj)) {
    const seen = new Set<string>();
    // Keys from the first rows are enough to name the columns; later rows rarely add new ones.
    for (const r of value.slice(0, 200)) for (const k of Object.keys(r)) seen.add(k);
    columns = [...seen];
    totalRows = value.length;
    rowAt = (i, cols) => cols.map((c) => (value[i] as Record<string, unknown>)[c]);
  } else if (isObj(value) && Array.isArray(value.columns) && Array.isArray(value.rows) && value.columns.every((c) => typeof c === "string" || typeof c === "number")) {
    const cols = value.columns.map(String);
    const rows = value.rows as unknown[];
    if (!rows.every((r) => Array.isArray(r) || isObj(r))) return null;
    columns = cols;
    totalRows = rows.length;
    rowAt = (i, cs) => {
      const r = rows[i];
      return Array.isArray(r) ? cs.map((c) => r[cols.indexOf(c)]) : cs.map((c) => (r as Record<string, unknown>)[c]);
    };
  } else if (isObj(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 || !entries.every(([, v]) => Array.isArray(v))) return null;
    const n = (entries[0][1] as unknown[]).length;
    if (n === 0 || !entries.every(([, v]) => (v as unknown[]).length === n)) return null;
    columns = entries.map(([k]) => k);
    totalRows = n;
    rowAt = (i, cs) => cs.map((c) => (value[c] as unknown[])[i]);
  } else {
    return null;
  }
  if (columns.length === 0) return null;
  const shownCols = columns.slice(0, maxCols);
  const rows: unknown[][] = [];
  for (let i = 0; i < Math.min(totalRows, maxRows); i++) rows.push(rowAt(i, shownCols));
  return { columns: shownCols, rows, totalRows, totalCols: columns.length, cutRows: totalRows > maxRows, cutCols: columns.length > maxCols };
}

/** A cell as text: numbers and strings as they are, anything else as compact JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
