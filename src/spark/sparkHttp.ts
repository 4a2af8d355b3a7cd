/**
 * HTTP to Spark's own servers (the master's REST submission server and web
 * UI, a worker's log pages), with a bounded wait and one error type for
 * "could not talk to Spark": the runner treats it as an infrastructure
 * failure (retryable), the API as 502.
 */
import { ErrorCode, SluiceError } from "../core/errors.js";

export class SparkHttpError extends SluiceError {
  constructor(message: string, opts: { url: string; status?: number; cause?: unknown }) {
    super(ErrorCode.TaskFailed, message, { cause: opts.cause, details: { url: opts.url, ...(opts.status ? { status: opts.status } : {}) } });
    this.name = "SparkHttpError";
  }
}

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export interface SparkFetchOptions {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** JSON body (sent as application/json) or form fields (sent url-encoded). */
  json?: unknown;
  form?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** What is being read, for the error message ("the driver's status"). */
  what: string;
  /** Return the body as text instead of parsing JSON. */
  text?: boolean;
}

/** One request; the parsed JSON (or text) of a 2xx answer, else SparkHttpError naming the URL and what to check. */
export async function sparkFetch(url: string, o: SparkFetchOptions): Promise<any> {
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const headers: Record<string, string> = { ...o.headers };
  let body: string | undefined;
  if (o.json !== undefined) {
    headers["content-type"] = "application/json;charset=UTF-8";
    body = JSON.stringify(o.json);
  } else if (o.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(o.form).toString();
  }
  let res: Response;
  try {
    res = await fetch(url, { method: o.method ?? "GET", headers, body, signal, redirect: "follow" });
  } catch (err) {
    const why = timeout.aborted ? `no answer within ${o.timeoutMs ?? 10_000} ms` : (((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
    throw new SparkHttpError(`Could not reach ${o.what} at ${url} (${why}). Check that the Spark master is running and that the connection's URLs are right.`, { url, cause: err });
  }
  const text = await res.text().catch(() => "");
  if (!res.ok) {
    const hint = res.status === 401 || res.status === 403 ? " The connection's password is sent as a bearer token; check it." : "";
    throw new SparkHttpError(`${o.what} at ${url} answered HTTP ${res.status}: ${text.slice(0, 300).trim()}${hint}`, { url, status: res.status });
  }
  if (o.text) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new SparkHttpError(`${o.what} at ${url} did not answer JSON (got: ${text.slice(0, 120).trim()}). Is the URL the right Spark endpoint?`, { url, status: res.status });
  }
}
