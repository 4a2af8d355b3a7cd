import type { Store } from "../store/store.js";

/** Where log lines go: the store's log queries, or an attempt backend (HTTP for remote runners). */
export interface LogWriter {
  logs: Pick<Store["logs"], "append">;
}
import type { NewLogLine } from "../store/logQueries.js";

const MAX_LINE = 16_384;

/**
 * Buffers one try's log lines and writes them in batches: a chatty task costs
 * one insert per flush, not one per line. Flushed on a timer and at the end.
 */
export class LogSink {
  private buf: NewLogLine[] = [];
  private partial = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: LogWriter,
    private readonly tiId: number,
    private readonly tryNumber: number,
    private readonly flushMs = 250,
  ) {}

  /** Add text from a stream; complete lines are queued, a trailing partial line waits for more. */
  write(stream: string, text: string): void {
    const joined = (this.partial.get(stream) ?? "") + text;
    const parts = joined.split(/\r?\n/);
    this.partial.set(stream, parts.pop() ?? "");
    for (const p of parts) this.line(stream, p);
  }

  line(stream: string, line: string): void {
    this.buf.push({ ti_id: this.tiId, try_number: this.tryNumber, ts: Date.now(), stream, line: line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}… [line truncated]` : line });
    if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.flushMs);
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.buf;
    this.buf = [];
    if (lines.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.store.logs.append(lines)).catch(() => {});
    return this.flushing;
  }

  /** Flush everything, including unterminated last lines. */
  async close(): Promise<void> {
    await this.store.logs.append(await this.drain());
  }

  /**
   * Stop buffering and hand back the lines not yet written (after earlier
   * flushes have landed, so order is kept), for the caller to write in the
   * same transaction as the attempt's final state.
   */
  async drain(): Promise<NewLogLine[]> {
    for (const [stream, rest] of this.partial) if (rest) this.line(stream, rest);
    this.partial.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    const lines = this.buf;
    this.buf = [];
    return lines;
  }
}
