/**
 * The one error a DuckDB task raises: its message names the task and says
 * what to change; `retryable` tells the runner whether another attempt could
 * succeed (a cancelled query could, a SQL error or a missing file would not).
 */
import { ErrorCode, SluiceError } from "../core/errors.js";

export class DuckdbTaskError extends SluiceError {
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, { cause: opts.cause, details: opts.details });
    this.name = "DuckdbTaskError";
    this.retryable = opts.retryable ?? false;
  }
}

/** DuckDB's error text ("Binder Error: ..." and its caret diagram or hints), without the Node client's wrapper prefix. */
export function duckdbMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^Failed to extract statements: /, "").trim();
}
