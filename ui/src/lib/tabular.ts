/**
 * Recognises results that are tables, so the task panel can show a preview:
 * - an array of objects ([{a: 1, b: 2}, …]): columns are the union of keys;
 * - { columns: [...], rows: [[...], ...] } (or rows as objects);
 * - an object of equal-length arrays ({a: [1, 2], b: [3, 4]}), column-major;
 * - CSV text: a header line and rows with the same number of fields
 *   (a task that returns its output as CSV text);
 * and, one level down, a property of the result that is an array of
 * objects, { columns, rows } or CSV text ({ r2: 0.97, sample: [{…}, …] }).
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

/** A table found in a result: the whole value (prop null) or one of its properties. */
export interface FoundTable {
  prop: string | null;
  table: TablePreview;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

interface Shape {
  columns: string[];
  totalRows: number;
  rowAt: (i: number, cols: string[]) => unknown[];
}

function rowsOfObjects(value: unknown): Shape | null {
  if (!Array.isArray(value) || value.length === 0 || !value.every(isObj)) return null;
  const seen = new Set<string>();
  // Keys from the first rows are enough to name the columns; later rows rarely add new ones.
  for (const r of value.slice(0, 200)) for (const k of Object.keys(r)) seen.add(k);
  return { columns: [...seen], totalRows: value.length, rowAt: (i, cols) => cols.map((c) => (value[i] as Record<string, unknown>)[c]) };
}

function columnsAndRows(value: unknown): Shape | null {
  if (!isObj(value) || !Array.isArray(value.columns) || !Array.isArray(value.rows)) return null;
  if (!value.columns.every((c) => typeof c === "string" || typeof c === "number")) return null;
  const cols = value.columns.map(String);
  const rows = value.rows as unknown[];
  if (!rows.every((r) => Array.isArray(r) || isObj(r))) return null;
  return {
    columns: cols,
    totalRows: rows.length,
    rowAt: (i, cs) => {
      const r = rows[i];
      return Array.isArray(r) ? cs.map((c) => r[cols.indexOf(c)]) : cs.map((c) => (r as Record<string, unknown>)[c]);
    },
  };
}

function columnMajor(value: unknown): Shape | null {
  if (!isObj(value)) return null;
  const entries = Object.entries(value);
  if (entries.length === 0 || !entries.every(([, v]) => Array.isArray(v))) return null;
  const n = (entries[0][1] as unknown[]).length;
  if (n === 0 || !entries.every(([, v]) => (v as unknown[]).length === n)) return null;
  return { columns: entries.map(([k]) => k), totalRows: n, rowAt: (i, cs) => cs.map((c) => (value[c] as unknown[])[i]) };
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Fields of CSV text (RFC 4180 quoting: "a, b" and "" inside quotes), one
 * array per line; null when a quote is left open.
 */
function csvRecords(text: string, sep: string): string[][] | null {
  const out: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch !== '"') {
        field += ch;
      } else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
      }
    } else if (ch === '"' && field === "") {
      quoted = true;
    } else if (ch === sep) {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      out.push(row);
      row = [];
      field = "";
    } else {
      field += ch;
    }
  }
  if (quoted) return null;
  row.push(field);
  out.push(row);
  return out;
}

/**
 * CSV (or tab-separated) text with a header line: at least two data rows,
 * at least two columns, every line with as many fields as the header.
 * Anything less regular is prose that happens to hold commas.
 */
function csvText(value: unknown): Shape | null {
  if (typeof value !== "string") return null;
  const text = value.trim();
  const nl = text.search(/\r?\n/);
  if (nl < 0) return null;
  const firstLine = text.slice(0, nl);
  const sep = firstLine.includes(",") ? "," : firstLine.includes("\t") ? "\t" : null;
  if (!sep) return null;
  const records = csvRecords(text, sep);
  // Header and two rows at least: two lines with a comma each are as often a sentence broken in two.
  if (!records || records.length < 3) return null;
  const [header, ...rows] = records;
  if (header.length < 2 || header.some((h) => h.trim() === "") || !rows.every((r) => r.length === header.length)) return null;
  const columns = header.map((h) => h.trim());
  // Numbers become numbers, so the table right-aligns them like any numeric result.
  const cell = (s: string): unknown => (NUMBER.test(s.trim()) ? Number(s) : s);
  // The columns asked for are always the first ones (the preview cuts from the right): by position, so repeated names work.
  return { columns, totalRows: rows.length, rowAt: (i, cs) => cs.map((_, j) => cell(rows[i][j])) };
}

function preview(shape: Shape | null, maxRows: number, maxCols: number): TablePreview | null {
  if (!shape || shape.columns.length === 0) return null;
  const shownCols = shape.columns.slice(0, maxCols);
  const rows: unknown[][] = [];
  for (let i = 0; i < Math.min(shape.totalRows, maxRows); i++) rows.push(shape.rowAt(i, shownCols));
  return { columns: shownCols, rows, totalRows: shape.totalRows, totalCols: shape.columns.length, cutRows: shape.totalRows > maxRows, cutCols: shape.columns.length > maxCols };
}

/** The whole value as a table, or null. */
export function toTable(value: unknown, maxRows = 50, maxCols = 20): TablePreview | null {
  return preview(rowsOfObjects(value) ?? columnsAndRows(value) ?? columnMajor(value) ?? csvText(value), maxRows, maxCols);
}

/** Properties looked at for nested tables: a result with thousands of keys is a map, not a report. */
const MAX_PROPS = 100;

/**
 * Every table a result holds: the value itself, or else each property that
 * is one. Column-major arrays count only at the top: one level down,
 * { train: [...], test: [...] } is more often two lists than one table.
 */
export function findTables(value: unknown, maxRows = 50, maxCols = 20): FoundTable[] {
  const whole = toTable(value, maxRows, maxCols);
  if (whole) return [{ prop: null, table: whole }];
  if (!isObj(value)) return [];
  const out: FoundTable[] = [];
  for (const [prop, v] of Object.entries(value).slice(0, MAX_PROPS)) {
    const table = preview(rowsOfObjects(v) ?? columnsAndRows(v) ?? csvText(v), maxRows, maxCols);
    if (table) out.push({ prop, table });
  }
  return out;
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
