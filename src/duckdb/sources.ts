/**
 * A DuckDB task's sources become views named after them, so the SQL reads
 * `FROM input` whatever the source is:
 *
 * - a path, glob, directory or file:// URI, or a list of them (one format):
 *   read_csv / read_json / read_parquet chosen by the extension (.csv, .tsv,
 *   .jsonl, .ndjson, .json, .parquet, optionally .gz/.zst compressed);
 * - a CSV or JSON Lines partition: its byte range only (copied with the
 *   header to scratch, see fileSlice.ts);
 * - a Parquet partition: its row groups only (a file_row_number filter,
 *   which DuckDB turns into skipping the other row groups);
 * - a SQL key range of a DuckDB database file: the file attached read-only
 *   and a view with the range's predicate.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DuckDBConnection } from "@duckdb/node-api";
import { ErrorCode } from "../core/errors.js";
import { looksLikeDescriptor, partitionDescriptorSchema } from "../data/descriptorSchema.js";
import { rangePredicate } from "../data/sqlRange.js";
import type { CsvPartition, FileRangePartition, ParquetPartition, SqlRangePartition } from "../core/partitions.js";
import { DuckdbTaskError, duckdbMessage } from "./errors.js";
import { copyPartition } from "./fileSlice.js";
import { ident, str, strList } from "./sqlText.js";

export interface SourceContext {
  taskId: string;
  scratchDir: string;
  /** Relative paths resolve here (the DAG file's folder). */
  baseDir: string;
  signal: AbortSignal;
  log: (message: string) => void;
}

type FileFormat = "csv" | "tsv" | "jsonl" | "json" | "parquet";

const FORMATS: Record<string, FileFormat> = {
  ".csv": "csv",
  ".tsv": "tsv",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "json",
  ".parquet": "parquet",
};
const KNOWN = Object.keys(FORMATS).join(", ");
/** DuckDB decompresses these itself (CSV and JSON), so the format is the extension before them. */
const COMPRESSION = /\.(gz|gzip|zst|zstd)$/i;
const REMOTE = /^[a-z][a-z0-9+.-]*:\/\//i;
const GLOB = /[*?[]/;

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}

class SourceError extends DuckdbTaskError {
  constructor(c: SourceContext, name: string, message: string, opts: { cause?: unknown; retryable?: boolean } = {}) {
    super(ErrorCode.Usage, `DuckDB task "${c.taskId}", source "${name}": ${message}`, opts);
  }
}

function formatOf(location: string): FileFormat | undefined {
  const ext = extname(location.replace(COMPRESSION, "")).toLowerCase();
  return FORMATS[ext];
}

/** A path or URI as DuckDB should see it: file:// URIs and relative paths become absolute paths. */
function locate(c: SourceContext, name: string, raw: string): { location: string; local: boolean } {
  if (raw.startsWith("file://")) {
    try {
      return { location: fileURLToPath(raw), local: true };
    } catch (err) {
      throw new SourceError(c, name, `${JSON.stringify(raw)} is not a valid file:// URI (${(err as Error).message}); write it as file:///absolute/path.`);
    }
  }
  if (REMOTE.test(raw)) return { location: raw, local: false };
  return { location: resolve(c.baseDir, raw), local: true };
}

/** Files of a directory (not recursive) that have one known format. */
async function directoryFiles(c: SourceContext, name: string, dir: string): Promise<{ format: FileFormat; files: string[] }> {
  const byFormat = new Map<FileFormat, string[]>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isFile()) continue;
    const f = formatOf(e.name);
    if (f) byFormat.set(f, [...(byFormat.get(f) ?? []), join(dir, e.name)]);
  }
  if (byFormat.size === 0) throw new SourceError(c, name, `directory "${dir}" holds no file with a known extension (${KNOWN}); subdirectories are not searched — use a glob such as "${dir}/**/*.parquet".`);
  if (byFormat.size > 1) {
    throw new SourceError(c, name, `directory "${dir}" mixes formats (${[...byFormat.keys()].join(", ")}); use a glob that picks one, such as "${dir}/*.${[...byFormat.keys()][0]}".`);
  }
  const [format, files] = [...byFormat.entries()][0]!;
  return { format, files: files.sort() };
}

/** The reader call for a path, glob, directory or list. */
async function filesReader(c: SourceContext, name: string, value: string | readonly string[]): Promise<string> {
  const raws = typeof value === "string" ? [value] : value;
  if (raws.length === 0) throw new SourceError(c, name, "the list of files is empty; give at least one path.");
  const locations: string[] = [];
  let format: FileFormat | undefined;
  for (const raw of raws) {
    if (typeof raw !== "string" || raw.trim() === "") throw new SourceError(c, name, `${JSON.stringify(raw)} is not a path; give a path, glob, file:// URI or a list of them.`);
    const { location, local } = locate(c, name, raw);
    let found: { format: FileFormat; files: string[] } | undefined;
    if (local && !GLOB.test(location)) {
      const st = await stat(location).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") throw new SourceError(c, name, `"${location}" does not exist (relative paths resolve against the DAG's folder, ${c.baseDir}).`);
        throw err;
      });
      if (st.isDirectory()) found = await directoryFiles(c, name, location);
    }
    if (!found) {
      const f = formatOf(location);
      if (!f) {
        throw new SourceError(
          c,
          name,
          `can't tell the format of "${location}" from its extension; DuckDB tasks read ${KNOWN} (optionally .gz or .zst compressed). Rename the file, or read it yourself in the SQL (e.g. read_csv('${location}')) and leave it out of sources.`,
        );
      }
      found = { format: f, files: [location] };
    }
    if (format && found.format !== format) {
      throw new SourceError(c, name, `mixes formats (${format} and ${found.format}); a source is one format — give each format its own source and UNION them in the SQL.`);
    }
    format = found.format;
    locations.push(...found.files);
  }
  const arg = locations.length === 1 && !GLOB.test(locations[0]!) ? str(locations[0]!) : strList(locations);
  const many = locations.length > 1 || GLOB.test(locations[0]!);
  switch (format!) {
    case "csv":
      return `SELECT * FROM read_csv(${arg})`;
    case "tsv":
      return `SELECT * FROM read_csv(${arg}, delim = '\t')`;
    case "jsonl":
      return `SELECT * FROM read_json(${arg}, format = 'newline_delimited')`;
    case "json":
      return `SELECT * FROM read_json(${arg})`;
    case "parquet":
      return `SELECT * FROM read_parquet(${arg}${many ? ", union_by_name = true" : ""})`;
  }
}

function csvOptions(desc: CsvPartition): string {
  return `header = ${desc.header !== undefined}, delim = ${str(desc.delimiter)}, quote = ${str(desc.quote)}, escape = ${str(desc.quote)}`;
}

async function fileRangeReader(c: SourceContext, name: string, desc: FileRangePartition, seq: number): Promise<string> {
  const what = `${desc.format.toUpperCase()} partition ${desc.index + 1}/${desc.of} of ${desc.path}`;
  const reader = (path: string) =>
    desc.format === "csv" ? `read_csv(${str(path)}, ${csvOptions(desc)})` : `read_json(${str(path)}, format = 'newline_delimited')`;
  // An empty range takes its columns from the start of the whole file, so it unions with the other partitions.
  if (desc.end === desc.start) return `SELECT * FROM ${reader(desc.path)} LIMIT 0`;
  const dir = join(c.scratchDir, "sources");
  await mkdir(dir, { recursive: true });
  const copy = join(dir, `${seq}-${desc.index}.${desc.format}`);
  const t0 = Date.now();
  try {
    const bytes = await copyPartition(desc, copy, c.signal);
    c.log(`source "${name}": ${what} (${mib(bytes)}) copied to scratch in ${Date.now() - t0} ms`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new SourceError(c, name, `"${desc.path}" does not exist any more; partition the input again.`);
    if ((err as Error).name === "PartitionError") throw new SourceError(c, name, (err as Error).message);
    throw err;
  }
  return `SELECT * FROM ${reader(copy)}`;
}

async function parquetReader(c: SourceContext, name: string, desc: ParquetPartition): Promise<string> {
  await stat(desc.path).catch(() => {
    throw new SourceError(c, name, `"${desc.path}" (Parquet partition ${desc.index + 1}/${desc.of}) does not exist any more; partition the input again.`);
  });
  return `SELECT * EXCLUDE (file_row_number) FROM read_parquet(${str(desc.path)}, file_row_number = true)
    WHERE file_row_number >= ${desc.rowStart} AND file_row_number < ${desc.rowEnd}`;
}

async function sqlRangeReader(c: SourceContext, name: string, desc: SqlRangePartition, conn: DuckDBConnection, attached: Map<string, string>): Promise<string> {
  if (desc.engine !== "duckdb") {
    throw new SourceError(
      c,
      name,
      `a ${desc.engine} key range can't be read by a DuckDB task here (DuckDB's ${desc.engine} extension is not available). Read the rows in a function task with rangePredicate(item, "${desc.engine}"), or export the table to Parquet and partition that.`,
    );
  }
  if (!desc.database) {
    throw new SourceError(c, name, `the key range of table "${desc.table}" has no database file (it was partitioned from an in-memory DuckDB); partition a table of a DuckDB file instead.`);
  }
  let alias = attached.get(desc.database);
  if (!alias) {
    alias = `sluice_src_${attached.size + 1}`;
    try {
      await conn.run(`ATTACH ${str(desc.database)} AS ${ident(alias)} (READ_ONLY)`);
    } catch (err) {
      throw new SourceError(c, name, `could not open the DuckDB database "${desc.database}" read-only: ${duckdbMessage(err)}`, { cause: err });
    }
    attached.set(desc.database, alias);
  }
  const table = `${ident(alias)}.${desc.schema ? ident(desc.schema) : "main"}.${ident(desc.table)}`;
  return `SELECT * FROM ${table} WHERE ${rangePredicate(desc, "duckdb", { inline: true }).sql}`;
}

/** Check and register every source as a view named after it. */
export async function registerSources(conn: DuckDBConnection, sources: Record<string, unknown>, c: SourceContext): Promise<void> {
  const attached = new Map<string, string>();
  let seq = 0;
  for (const [name, value] of Object.entries(sources)) {
    if (c.signal.aborted) return;
    seq++;
    let select: string;
    if (typeof value === "string" || Array.isArray(value)) {
      select = await filesReader(c, name, value as string | string[]);
    } else if (looksLikeDescriptor(value)) {
      const parsed = partitionDescriptorSchema.safeParse(value);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
        throw new SourceError(c, name, `is not a valid partition descriptor (${issues}); pass a descriptor from partition() or partitionTable() unchanged.`);
      }
      const desc = parsed.data;
      if (desc.format === "csv" || desc.format === "jsonl") select = await fileRangeReader(c, name, desc, seq);
      else if (desc.format === "parquet") select = await parquetReader(c, name, desc);
      else select = await sqlRangeReader(c, name, desc, conn, attached);
    } else {
      throw new SourceError(c, name, `${JSON.stringify(value)?.slice(0, 200)} is not a source; give a path, glob, file:// URI, a list of them, or a partition descriptor.`);
    }
    try {
      await conn.run(`CREATE VIEW ${ident(name)} AS ${select}`);
    } catch (err) {
      if (c.signal.aborted) throw err;
      throw new SourceError(c, name, duckdbMessage(err), { cause: err });
    }
  }
}
