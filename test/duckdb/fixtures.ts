/**
 * Generated data for the DuckDB task tests: the same records as CSV (with
 * quoted commas, quotes and newlines), TSV, JSON Lines, JSON and Parquet,
 * written by a trusted writer here (Parquet by DuckDB from the JSON).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { prng } from "../helpers/prng.js";

/** Deterministic pseudo-random numbers (mulberry32), so a failure reproduces. */
export const rng = prng;

const PIECES = ["plain", "with,comma", 'say "hi"', "two\nlines", "crlf\r\ninside", "ünïcödé €", "  spaced  ", '"', ",", "\n", "tab\there"];

export interface Person {
  id: number;
  name: string;
  note: string;
  score: number;
}

/** Records whose text fields need quoting; `name` always has letters, so DuckDB types it VARCHAR in any slice. */
export function people(n: number, seed = 1): Person[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, id) => ({
    id,
    name: `p${id} ${PIECES[Math.floor(r() * PIECES.length)]}`,
    note: `n ${PIECES[Math.floor(r() * PIECES.length)]}${Math.floor(r() * 100)}`,
    score: Math.floor(r() * 10_000) / 100,
  }));
}

function field(v: string | number, delimiter: string): string {
  const s = String(v);
  return new RegExp(`["\\n\\r${delimiter === "\t" ? "\\t" : delimiter}]`).test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvText(rows: Person[], opts: { delimiter?: string; eol?: string; header?: boolean } = {}): string {
  const d = opts.delimiter ?? ",";
  const eol = opts.eol ?? "\n";
  const lines = rows.map((p) => [p.id, p.name, p.note, p.score].map((v) => field(v, d)).join(d));
  if (opts.header !== false) lines.unshift(["id", "name", "note", "score"].join(d));
  return lines.join(eol) + eol;
}

export function jsonlText(rows: Person[]): string {
  return rows.map((p) => JSON.stringify(p)).join("\n") + "\n";
}

/** Write people.{csv,tsv,jsonl,ndjson,json,parquet}, people.csv.gz and people-crlf.csv into dir. */
export async function writePeople(dir: string, rows: Person[]): Promise<void> {
  await writeFile(join(dir, "people.csv"), csvText(rows));
  await writeFile(join(dir, "people-crlf.csv"), csvText(rows, { eol: "\r\n" }));
  await writeFile(join(dir, "people.tsv"), csvText(rows, { delimiter: "\t" }));
  await writeFile(join(dir, "people.jsonl"), jsonlText(rows));
  await writeFile(join(dir, "people.ndjson"), jsonlText(rows));
  await writeFile(join(dir, "people.json"), JSON.stringify(rows));
  await writeFile(join(dir, "people.csv.gz"), gzipSync(csvText(rows)));
  await duckdb(`COPY (SELECT * FROM read_json('${join(dir, "people.json")}') ORDER BY id) TO '${join(dir, "people.parquet")}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
}

/** Run statements in a throwaway DuckDB (or one on a database file). */
export async function duckdb(sql: string | string[], path = ":memory:"): Promise<unknown[][]> {
  const inst = await DuckDBInstance.create(path, { threads: "2" });
  const conn = await inst.connect();
  try {
    let last: unknown[][] = [];
    for (const s of Array.isArray(sql) ? sql : [sql]) last = (await conn.runAndReadAll(s)).getRowsJS();
    return last;
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}
