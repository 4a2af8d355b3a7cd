/**
 * Partition descriptors: small JSON values handed to mapped tasks, each naming
 * one slice of an input that a worker can read on its own. A discriminated
 * union on `format`, so Parquet row groups and SQL key ranges can join later
 * without changing the file-range shapes.
 */
import { ErrorCode, SluiceError } from "./errors.js";

interface FileRangeBase {
  /** Absolute path of the file. */
  path: string;
  /** First byte of the range (always the start of a record). */
  start: number;
  /** One past the last byte of the range (just after a newline, or the end of the file). */
  end: number;
  /** Position of this descriptor in the whole list returned by partition(), from 0. */
  index: number;
  /** Length of that list. */
  of: number;
  /** CSV: records counted while scanning (exact; estimated with multiline: false). JSON Lines: estimated from a sample of the file. */
  estimatedRows?: number;
}

export interface CsvPartition extends FileRangeBase {
  format: "csv";
  /** The file's header line (without its line ending), so this range can be parsed alone. */
  header?: string;
  delimiter: string;
  quote: string;
}

export interface JsonlPartition extends FileRangeBase {
  format: "jsonl";
}

/**
 * Consecutive row groups [first, last] of one Parquet file. A row group is
 * never split; an empty file (no row group) gives one partition with
 * rowGroups [0, -1] and rows 0, so every input file is represented.
 */
export interface ParquetPartition {
  format: "parquet";
  /** Absolute path of the file. */
  path: string;
  /** First and last row group of the range (inclusive, from 0). */
  rowGroups: [number, number];
  /** File row number of the first row (rows of the earlier row groups). */
  rowStart: number;
  /** File row number just past the last row (exclusive): the rows are [rowStart, rowEnd). */
  rowEnd: number;
  /** rowEnd - rowStart, from the file's footer (exact). */
  rows: number;
  index: number;
  of: number;
}

/** The database engines partitionTable() reads (see src/data/sqlClients.ts for the adapters). */
export type SqlEngine = "postgres" | "sqlite" | "duckdb";
/** A key bound: numbers when exact in JavaScript, else the database's text form (cast back by the database). */
export type SqlKeyValue = number | string;

/**
 * A key range of a SQL table: the rows with lo <= key < hi. The first range
 * has lo null (no lower bound) and the last has hi null (no upper bound), so
 * the ranges cover every key, also ones inserted after partitioning. Rows
 * with a NULL key belong to the first range (includeNulls). Build the WHERE
 * clause with rangePredicate().
 */
export interface SqlRangePartition {
  format: "sql-range";
  engine: SqlEngine;
  /** Database file (SQLite, DuckDB) the table lives in; absent for PostgreSQL (no credentials in descriptors). */
  database?: string;
  /** Schema of the table, when one was given. */
  schema?: string;
  table: string;
  key: string;
  /** Inclusive lower bound; null for the first range. */
  lo: SqlKeyValue | null;
  /** Exclusive upper bound; null for the last range. */
  hi: SqlKeyValue | null;
  /** The first range also holds the rows whose key is NULL. */
  includeNulls?: boolean;
  /** Rows counted in the range when partitioning (exact at that time). */
  rows: number;
  index: number;
  of: number;
}

export type PartitionDescriptor = CsvPartition | JsonlPartition | ParquetPartition | SqlRangePartition;
/** Descriptors that are byte ranges of a text file (what readPartition() reads). */
export type FileRangePartition = CsvPartition | JsonlPartition;
/** What partition() returns for files: every descriptor names a path. */
export type FilePartition = CsvPartition | JsonlPartition | ParquetPartition;
/** Formats of files partition() reads (a SQL table is partitioned by partitionTable()). */
export type FileFormat = Exclude<PartitionDescriptor["format"], "sql-range">;

/** Raised for bad partition inputs or options, and for malformed data found while reading. */
export class PartitionError extends SluiceError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCode.Usage, message, { details });
    this.name = "PartitionError";
  }
}
