/**
 * An incremental RFC 4180 CSV parser over decoded text: push() text in pieces of
 * any size, get back the records completed so far. Quoted fields may hold the
 * delimiter, doubled quotes and newlines; CRLF and LF line endings both work;
 * blank lines are skipped.
 */
import { PartitionError } from "../core/partitions.js";

export class CsvParser {
  private field = "";
  private row: string[] = [];
  private inQuotes = false;
  /** A quote just closed a quoted section: a second quote right after is an escaped quote. */
  private quoteClosed = false;
  /** The current field started with a quote (so its content is literal). */
  private quoted = false;
  /** A "\r" outside quotes waits to see whether a "\n" follows. */
  private pendingCR = false;
  /** Records completed so far (for error messages). */
  recordCount = 0;

  constructor(
    private readonly delimiter: string,
    private readonly quote: string,
    private readonly path: string,
  ) {}

  push(text: string): string[][] {
    const out: string[][] = [];
    const { delimiter, quote } = this;
    // Literal characters are copied in runs (text.slice), not one by one: far
    // less garbage, which keeps memory flat while reading a large partition.
    let run = 0;
    const flush = (i: number) => {
      if (i > run) this.field += text.slice(run, i);
    };
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.inQuotes) {
        if (c === quote) {
          flush(i);
          this.inQuotes = false;
          this.quoteClosed = true;
          run = i + 1;
        }
        continue;
      }
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c !== "\n") this.field += "\r";
      }
      if (c === quote && this.quoteClosed) {
        this.field += quote;
        this.inQuotes = true;
        this.quoteClosed = false;
        run = i + 1;
        continue;
      }
      this.quoteClosed = false;
      if (c === delimiter) {
        flush(i);
        this.endField();
        run = i + 1;
      } else if (c === "\n") {
        flush(i);
        this.endRecord(out);
        run = i + 1;
      } else if (c === "\r") {
        flush(i);
        this.pendingCR = true;
        run = i + 1;
      } else if (c === quote && i === run && this.field === "" && !this.quoted) {
        this.inQuotes = true;
        this.quoted = true;
        run = i + 1;
      }
    }
    flush(text.length);
    return out;
  }

  /** The last record when the text does not end with a newline. */
  finish(): string[][] {
    if (this.inQuotes) {
      throw new PartitionError(
        `readPartition(): "${this.path}" ends inside a quoted field after record ${this.recordCount}; the file is malformed or the partition was cut by a different quote character.`,
        { path: this.path },
      );
    }
    this.pendingCR = false;
    const out: string[][] = [];
    if (this.field !== "" || this.row.length > 0 || this.quoted) this.endRecord(out);
    return out;
  }

  private endField(): void {
    this.row.push(this.field);
    this.field = "";
    this.quoted = false;
  }

  private endRecord(out: string[][]): void {
    const blank = this.row.length === 0 && this.field === "" && !this.quoted;
    this.endField();
    if (!blank) {
      out.push(this.row);
      this.recordCount++;
    }
    this.row = [];
  }
}
