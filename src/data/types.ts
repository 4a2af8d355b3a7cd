/**
 * Partition descriptors: small JSON values handed to mapped tasks, each naming
 * one slice of an input that a worker can read on its own. A discriminated
 * union on `format`, so Parquet row groups and SQL key ranges can join later
 * without changing the file-range shapes.
 */
import { ErrorCode, SluiceError } from "../core/errors.js";

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
  /** CSV: records counted while scanning (exact). JSON Lines: estimated from a sample of the file. */
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

export type PartitionDescriptor = CsvPartition | JsonlPartition;
export type FileFormat = PartitionDescriptor["format"];

/** Raised for bad partition inputs or options, and for malformed data found while reading. */
export class PartitionError extends SluiceError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCode.Usage, message, { details });
    this.name = "PartitionError";
  }
}
