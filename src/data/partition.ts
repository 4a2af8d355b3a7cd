/**
 * partition(): split CSV and JSON Lines inputs (a file, a directory or a glob)
 * into byte ranges aligned to record starts, as small JSON descriptors for
 * mapped tasks; readPartition() reads one of them back with bounded memory.
 *
 * CSV is scanned from the start of each file (quote-aware, see csvScan.ts) so
 * a newline inside a quoted field never splits a record; JSON Lines only reads
 * around each boundary. Neither loads a file into memory. Parquet files are
 * split by row groups from their footers (parquetScan.ts); SQL tables by key
 * range with partitionTable() (sqlRange.ts).
 */
import { open, stat } from "node:fs/promises";
import { extname } from "node:path";
import { z } from "zod";
import { readCsvHeader, scanCsvCuts } from "./csvScan.js";
import { expandInputs } from "./glob.js";
import { jsonlCuts, sampleBytesPerLine } from "./jsonlScan.js";
import { ParquetFooterReader, partitionParquet } from "./parquetScan.js";
import { PartitionError, type FileFormat, type FilePartition, type PartitionDescriptor } from "../core/partitions.js";

export { readPartition, type ReadPartitionOptions, type CsvRecord } from "./readPartition.js";
export { PartitionError, type PartitionDescriptor, type CsvPartition, type JsonlPartition, type FileFormat } from "../core/partitions.js";
export type { ParquetPartition, SqlRangePartition, FileRangePartition, SqlEngine, SqlKeyValue } from "../core/partitions.js";

/** Used when neither targetBytes nor targetRows is given. */
export const DEFAULT_TARGET_BYTES = 64 * 1024 * 1024;

const singleChar = (what: string) =>
  z.string().refine((s) => s.length === 1 && s !== "\n" && s !== "\r", { message: `${what} must be one character other than a line ending` });

const optionsSchema = z
  .strictObject({
    /** File format; by default taken from the extension (.csv, .tsv, .jsonl, .ndjson, .parquet). */
    format: z.enum(["csv", "jsonl", "parquet"]).optional(),
    /** Approximate size of each partition in bytes (default 64 MiB). */
    targetBytes: z.number().int().positive().optional(),
    /** Records per partition: exact for CSV (counted while scanning), estimated from the first 1 MiB for JSON Lines. */
    targetRows: z.number().int().positive().optional(),
    /** CSV: the first record is a header (default true). */
    header: z.boolean().optional(),
    /** CSV field delimiter (default "," and a tab for .tsv). */
    delimiter: singleChar("delimiter").optional(),
    /** CSV quote character (default '"'). */
    quote: singleChar("quote").optional(),
    /**
     * CSV: whether a quoted field may hold a line break (default true). With
     * false (Spark's multiLine=false), every line is a record: boundaries are
     * found by seeking to each target offset instead of scanning the whole
     * file quote by quote, and row counts are estimated from the first 1 MiB.
     */
    multiline: z.boolean().optional(),
  })
  .refine((o) => !(o.targetBytes !== undefined && o.targetRows !== undefined), {
    message: "give targetBytes or targetRows, not both",
  });

export type PartitionOptions = z.input<typeof optionsSchema>;

const EXTENSIONS: Record<string, FileFormat> = { ".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet" };
const COMPRESSED = new Set([".gz", ".gzip", ".bz2", ".xz", ".zst", ".zip", ".snappy", ".lz4"]);

function formatOf(path: string, given: FileFormat | undefined): FileFormat {
  const ext = extname(path).toLowerCase();
  if (COMPRESSED.has(ext)) {
    throw new PartitionError(
      `partition(): "${path}" is compressed (${ext}); compressed files can't be split by byte range. Decompress it first, or give each file to one task whole.`,
      { path },
    );
  }
  if (given) return given;
  const format = EXTENSIONS[ext];
  if (!format) {
    throw new PartitionError(
      `partition(): can't tell the format of "${path}" from its extension "${ext}"; pass format: "csv" or "jsonl" for text, "parquet" for Parquet (known extensions: .csv, .tsv, .jsonl, .ndjson, .parquet).`,
      { path },
    );
  }
  return format;
}

type Draft = Omit<PartitionDescriptor, "index" | "of">;

/**
 * Split the input into partitions. Ranges are [start, end) in bytes, start at a
 * record start and never overlap; every record lies in exactly one range. An
 * empty file (or a CSV with only a header) gives one empty partition so that
 * each input file is represented; no other partition is empty.
 */
export async function partition(input: string | string[], options: PartitionOptions = {}): Promise<FilePartition[]> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
    throw new PartitionError(`partition(): invalid options: ${issues}.`, { issues: parsed.error.issues });
  }
  const opts = parsed.data;
  const files = await expandInputs(input, (p) => {
    const ext = extname(p).toLowerCase();
    const f = EXTENSIONS[ext];
    return f !== undefined && (opts.format === undefined || opts.format === f);
  });
  const drafts: Draft[] = [];
  // Parquet footers are read through one DuckDB instance for all files (see parquetScan.ts).
  const footers = new ParquetFooterReader();
  try {
    for (const path of files) {
      const format = formatOf(path, opts.format);
      if (format === "parquet") {
        const target = opts.targetRows !== undefined ? { rows: opts.targetRows } : { bytes: opts.targetBytes ?? DEFAULT_TARGET_BYTES };
        drafts.push(...(await partitionParquet(footers, path, target)));
        continue;
      }
      drafts.push(...(format === "csv" ? await partitionCsv(path, opts) : await partitionJsonl(path, opts)));
    }
  } finally {
    footers.close();
  }
  return drafts.map((d, index) => ({ ...d, index, of: drafts.length }) as FilePartition);
}

type ParsedOptions = z.output<typeof optionsSchema>;

async function openInput(path: string) {
  const st = await stat(path);
  if (!st.isFile()) throw new PartitionError(`partition(): "${path}" is not a regular file.`, { path });
  return { fh: await open(path, "r"), size: st.size };
}

async function partitionCsv(path: string, opts: ParsedOptions): Promise<Draft[]> {
  const delimiter = opts.delimiter ?? (extname(path).toLowerCase() === ".tsv" ? "\t" : ",");
  const quote = opts.quote ?? '"';
  const quoteByte = Buffer.from(quote, "utf8");
  if (quoteByte.length !== 1) throw new PartitionError(`partition(): the quote character must be a single byte (ASCII), got "${quote}".`);
  const { fh, size } = await openInput(path);
  try {
    const hasHeader = opts.header ?? true;
    const header = hasHeader ? await readCsvHeader(fh, size, quoteByte[0]!, path) : undefined;
    const dataStart = header?.dataStart ?? 0;
    let cuts: { start: number; end: number; rows?: number }[];
    if (opts.multiline === false) {
      // Only the bytes around each cut are read: a line ending is always a record ending here.
      const bytesPerLine = await sampleBytesPerLine(fh, size);
      const targetBytes = opts.targetRows !== undefined ? Math.max(1, Math.round(opts.targetRows * bytesPerLine)) : (opts.targetBytes ?? DEFAULT_TARGET_BYTES);
      cuts = (await jsonlCuts(fh, size, targetBytes, dataStart)).map((c) => ({ ...c, rows: Math.round((c.end - c.start) / bytesPerLine) }));
    } else {
      const target = opts.targetRows !== undefined ? { rows: opts.targetRows } : { bytes: opts.targetBytes ?? DEFAULT_TARGET_BYTES };
      cuts = await scanCsvCuts(fh, size, dataStart, quoteByte[0]!, target, path);
    }
    return cuts.map((c) => ({
      format: "csv" as const,
      path,
      start: c.start,
      end: c.end,
      ...(header ? { header: header.text } : {}),
      delimiter,
      quote,
      estimatedRows: c.rows,
    }));
  } finally {
    await fh.close();
  }
}

async function partitionJsonl(path: string, opts: ParsedOptions): Promise<Draft[]> {
  const { fh, size } = await openInput(path);
  try {
    const bytesPerLine = await sampleBytesPerLine(fh, size);
    const targetBytes = opts.targetRows !== undefined ? Math.max(1, Math.round(opts.targetRows * bytesPerLine)) : (opts.targetBytes ?? DEFAULT_TARGET_BYTES);
    const cuts = await jsonlCuts(fh, size, targetBytes);
    return cuts.map((c) => ({
      format: "jsonl" as const,
      path,
      start: c.start,
      end: c.end,
      estimatedRows: Math.round((c.end - c.start) / bytesPerLine),
    }));
  } finally {
    await fh.close();
  }
}
