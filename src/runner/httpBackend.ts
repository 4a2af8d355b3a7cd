/**
 * The attempt backend of a runner without database credentials (a Kubernetes
 * pod, a remote worker): every read and write is a call to the task API
 * (api/routes/taskApi.ts) with the attempt token. See docs/task-api.md.
 *
 * Lost connections and 502/503/504 answers are retried with backoff: reads,
 * the claim and log batches for a bounded time, the final write until it is
 * acknowledged or the token expired (the server's compare-and-set on the try
 * makes a repeated finish answer the state already written). Heartbeats are
 * not retried: the next interval is the retry, and a missed one is harmless
 * until the zombie threshold.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, SluiceError } from "../core/errors.js";
import type { TaskState } from "../core/states.js";
import type { NewLogLine } from "../store/logQueries.js";
import type { AttemptContext } from "../store/taskQueries.js";
import type { AttemptBackend, ClaimedInstance, ClaimInfo, ResultRow, RetryPolicy } from "./attemptBackend.js";
import type { AttemptOutcome } from "./finishAttempt.js";
import type { AttemptIdentity, ConnectionInfo, SparkAppNote, TaskServices } from "./taskServices.js";

/** What GET context answers (api/routes/taskApi.ts TaskApiContext). */
export interface RemoteContext extends AttemptContext {
  upstream: { taskIds: string[]; rows: ResultRow[] };
  limits: { heartbeatIntervalMs: number; maxResultBytes: number };
}

/** The token expired: the attempt can no longer report (the scheduler will judge it by its heartbeat). */
export class AttemptTokenExpiredError extends SluiceError {
  constructor(message: string) {
    super(ErrorCode.StateConflict, message);
    this.name = "AttemptTokenExpiredError";
  }
}

export interface HttpBackendOptions {
  /** The API server's base URL, e.g. http://sluice-api:8080 (with or without /api/v1). */
  apiUrl: string;
  token: string;
  /** How long reads, the claim and log batches keep retrying a lost connection (default 2 min). */
  retryForMs?: number;
  /** Waits between retries, the last one repeated (default 100 ms growing to 5 s). */
  backoffMs?: readonly number[];
  /** Per-request timeout (default 30 s): a hung connection counts as lost. */
  requestTimeoutMs?: number;
  /** Told about each retried request (the runner logs it to stderr). */
  onRetry?: (what: string, err: unknown) => void;
  now?: () => number;
}

const DEFAULT_BACKOFF = [100, 250, 500, 1_000, 2_000, 5_000];
/** Keep request bodies well under the server's default 1 MB limit. */
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_BATCH_LINES = 5_000;

/** A failure worth retrying: no answer at all, or a proxy/server that is restarting. */
class Transient extends Error {}

/** The expiry the token claims (unverified: the server checks it; we only use it to know when to stop retrying). */
export function tokenClaims(token: string): { tiId: number; tryNumber: number; exp: number } {
  try {
    const p = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8")) as { tiId: number; tryNumber: number; exp: number };
    if (Number.isInteger(p.tiId) && Number.isInteger(p.tryNumber) && Number.isFinite(p.exp)) return p;
  } catch {
    // fall through
  }
  throw new SluiceError(ErrorCode.Usage, "The attempt token is not in the form an executor issues (<payload>.<signature>); pass the token from the pod's SLUICE_TASK_TOKEN unchanged.");
}

export class HttpBackend implements AttemptBackend {
  private token: string;
  private exp: number;
  private readonly base: string;
  private cached: RemoteContext | undefined;
  private readonly now: () => number;
  /** The finish request was sent more than once (an answer was lost). */
  private finishResent = false;

  constructor(private readonly opts: HttpBackendOptions) {
    this.token = opts.token;
    this.exp = tokenClaims(opts.token).exp;
    this.base = opts.apiUrl.replace(/\/+$/, "").replace(/\/api\/v1$/, "") + "/api/v1/task-api/attempts";
    this.now = opts.now ?? Date.now;
  }

  /** The attempt this token names. */
  get attempt(): { tiId: number; tryNumber: number } {
    const { tiId, tryNumber } = tokenClaims(this.token);
    return { tiId, tryNumber };
  }

  /** GET context (cached: executeAttempt reads it again right after the runner learned its limits from it). */
  async remoteContext(): Promise<RemoteContext> {
    const { tiId, tryNumber } = this.attempt;
    this.cached ??= (await this.call("GET", `${tiId}/${tryNumber}/context`, undefined, "bounded")) as RemoteContext;
    return this.cached;
  }

  async context(tiId: number, tryNumber: number): Promise<AttemptContext | undefined> {
    this.checkAttempt(tiId, tryNumber);
    const c = await this.remoteContext();
    return { ti: c.ti, run: c.run, fileloc: c.fileloc, bundleVersion: c.bundleVersion };
  }

  async claim(tiId: number, tryNumber: number, from: readonly TaskState[], info: ClaimInfo): Promise<boolean> {
    const r = (await this.call("POST", `${tiId}/${tryNumber}/claim`, { from, hostname: info.hostname, pid: info.pid }, "bounded")) as { claimed: boolean };
    return r.claimed;
  }

  async heartbeat(tiId: number, tryNumber: number): Promise<boolean> {
    const r = (await this.call("POST", `${tiId}/${tryNumber}/heartbeat`, {}, "once")) as { ours: boolean; token: string | null };
    if (r.token) {
      this.token = r.token;
      this.exp = tokenClaims(r.token).exp;
    }
    return r.ours;
  }

  async appendLogs(lines: NewLogLine[]): Promise<void> {
    for (const batch of batches(lines)) await this.postLogs(batch);
  }

  async results(_runPk: number, taskIds: readonly string[]): Promise<ResultRow[]> {
    // The server sent the results of the task's upstream in the run's stored DAG version with the context.
    const c = await this.remoteContext();
    const wanted = new Set(taskIds);
    return c.upstream.rows.filter((r) => wanted.has(r.task_id));
  }

  services(who: AttemptIdentity): TaskServices & { dispose(): Promise<void> } {
    const path = `${who.tiId}/${who.tryNumber}`;
    let scratch: Promise<string> | undefined;
    return {
      connection: async (connId) => (await this.call("GET", `${path}/connections/${encodeURIComponent(connId)}`, undefined, "bounded")) as ConnectionInfo,
      recordSparkApp: async (app: SparkAppNote) => {
        const { id } = (await this.call("POST", `${path}/spark-apps`, app, "bounded")) as { id: number };
        return async (patch) => void (await this.call("PATCH", `${path}/spark-apps/${id}`, patch, "bounded"));
      },
      scratchDir() {
        scratch ??= mkdtemp(join(tmpdir(), `sluice-${who.taskId.slice(0, 40)}-`));
        return scratch;
      },
      async dispose() {
        if (scratch) await rm(await scratch, { recursive: true, force: true }).catch(() => {});
      },
    };
  }

  async finish(ti: ClaimedInstance, outcome: AttemptOutcome, policy: RetryPolicy, lastLines: NewLogLine[]): Promise<TaskState | null> {
    const all = batches(lastLines);
    // Earlier lines go ahead as ordinary batches; the last batch rides in the finish request, in its commit.
    const last = all.pop() ?? [];
    for (const batch of all) await this.postLogs(batch);
    const body = {
      outcome,
      policy: { retryDelayMs: policy.retryDelayMs, retryExponentialBackoff: policy.retryExponentialBackoff, maxRetryDelayMs: policy.maxRetryDelayMs },
      lines: last.map(({ ts, stream, line }) => ({ ts, stream, line })),
    };
    const r = (await this.call("POST", `${ti.id}/${ti.try_number}/finish`, body, "untilAcked")) as { state: TaskState | null; alreadyFinished: boolean };
    // A resent finish that finds the try finished most likely finds our own first send, whose answer was lost.
    return r.alreadyFinished && !this.finishResent ? null : r.state;
  }

  private postLogs(batch: NewLogLine[]): Promise<unknown> {
    const { tiId, tryNumber } = this.attempt;
    return this.call("POST", `${tiId}/${tryNumber}/logs`, { lines: batch.map(({ ts, stream, line }) => ({ ts, stream, line })) }, "bounded");
  }

  private checkAttempt(tiId: number, tryNumber: number): void {
    const a = this.attempt;
    if (a.tiId !== tiId || a.tryNumber !== tryNumber) {
      throw new SluiceError(ErrorCode.Usage, `The attempt token is for attempt ${a.tryNumber} of task instance ${a.tiId}, not ${tryNumber} of ${tiId}.`);
    }
  }

  /**
   * One task API request. "once": no retry; "bounded": retried for retryForMs;
   * "untilAcked": retried until answered or the token expired. A retried
   * finish says so (resend), so the server does not store its lines twice.
   */
  private async call(method: string, path: string, body: unknown, retry: "once" | "bounded" | "untilAcked"): Promise<unknown> {
    const backoff = this.opts.backoffMs ?? DEFAULT_BACKOFF;
    const giveUpAt = this.now() + (this.opts.retryForMs ?? 120_000);
    for (let i = 0; ; i++) {
      const resend = path.endsWith("/finish") && i > 0;
      if (resend) this.finishResent = true;
      const sent = resend ? { ...(body as object), resend: true } : body;
      try {
        return await this.request(method, path, sent);
      } catch (err) {
        if (!(err instanceof Transient) || retry === "once") throw err;
        if (retry === "bounded" && this.now() >= giveUpAt) {
          throw new SluiceError(ErrorCode.TaskFailed, `The task API at ${this.opts.apiUrl} did not answer ${method} ${path} for ${this.opts.retryForMs ?? 120_000} ms: ${err.message}`);
        }
        if (retry === "untilAcked" && this.now() >= this.exp) {
          throw new AttemptTokenExpiredError(`The attempt token expired while the task API at ${this.opts.apiUrl} was unreachable (${err.message}); the outcome was not recorded.`);
        }
        this.opts.onRetry?.(`${method} ${path}`, err);
        await new Promise((r) => setTimeout(r, backoff[Math.min(i, backoff.length - 1)]));
      }
    }
  }

  private async request(method: string, path: string, body: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Transient(cause?.code ?? cause?.message ?? (err as Error).message);
    }
    const text = await res.text().catch((err: unknown) => {
      throw new Transient(`the answer was cut off: ${(err as Error).message}`);
    });
    if (res.status === 502 || res.status === 503 || res.status === 504) throw new Transient(`HTTP ${res.status}`);
    if (res.status === 204) return null;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new Transient(`HTTP ${res.status} with a body that is not JSON`);
    }
    if (res.ok) return json;
    const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
    const message = `Task API ${method} ${path}: ${res.status} ${e?.code ?? ""} ${e?.message ?? text}`.trim();
    if (e?.code === "TOKEN_EXPIRED") throw new AttemptTokenExpiredError(message);
    if (res.status >= 500) throw new Transient(message);
    throw new SluiceError(e?.code === "CONNECTION_NOT_FOUND" ? ErrorCode.Usage : ErrorCode.TaskFailed, message);
  }
}

/** Split lines into request-sized batches, keeping order. */
function batches(lines: NewLogLine[]): NewLogLine[][] {
  const out: NewLogLine[][] = [];
  let cur: NewLogLine[] = [];
  let bytes = 0;
  for (const l of lines) {
    const size = l.line.length * 3 + l.stream.length + 40;
    if (cur.length > 0 && (bytes + size > MAX_BATCH_BYTES || cur.length >= MAX_BATCH_LINES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(l);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
