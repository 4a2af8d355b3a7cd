/**
 * `sluice_task_duration_seconds{dag_id, queue, state}`: a histogram of how
 * long task attempts ran, one observation per finished attempt (state
 * success, failed — including a try that will be retried — or skipped).
 *
 * Where the attempts are observed, and why here. GET /metrics is served by
 * the API (every API replica; `sluice standalone` includes one). No process
 * sees every attempt end: a task process of the local executor, a queue
 * worker, a pod reporting through the task-execution API (on any API
 * replica), the scheduler's reaper (zombies, timeouts) and a person cancelling
 * a run through the API each record it. What they all write, in the same
 * transaction as the state change (runner/finishAttempt.ts), is the attempt's
 * task_try row with its end_date and duration. So the histogram is fed from
 * those rows, read when Prometheus scrapes — not from in-process scheduler
 * events, which an API running apart from the scheduler never receives.
 *
 * Counting: like any Prometheus counter, the histogram lives in this process
 * and starts empty when it starts: it counts the attempts that ended from
 * then on. Each API replica reads the same table, so each replica's series is
 * complete on its own (rate() of any one of them is the cluster's rate);
 * scrape each replica as its own target (Kubernetes pod or endpoints
 * discovery), not through the Service, whose answers would come from
 * replicas with different start times. A sum over replicas counts every
 * attempt once per replica; quantiles (histogram_quantile over `sum by (le)`)
 * are unaffected.
 *
 * Late commits: a try's end_date is stamped before its transaction commits,
 * on the writer's clock, so a scrape can miss a row that ends up behind rows
 * it already read. Each scrape therefore reads again from OVERLAP_MS before
 * the newest end_date it has read (its frontier) and skips the attempts it
 * already counted (a set of keys pruned as the frontier moves), as the alert
 * monitor does (alerts/monitor.ts). The frontier never passes this process's
 * clock, so one writer whose clock runs ahead does not make the others' rows
 * look too old to read.
 */
import { Histogram, type Registry } from "prom-client";
import type { EndedTryRow, TryPosition } from "../../store/metricQueries.js";
import type { Store } from "../../store/store.js";

export const TASK_DURATION_METRIC = "sluice_task_duration_seconds";

/** Upper bounds in seconds: from a no-op task (tens of ms) to a long Spark job (hours), about 2–3× apart. */
export const TASK_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 10800];

/** How far each scrape reads back before its frontier (late commits, clock skew between machines): the alert monitor's value. */
export const OVERLAP_MS = 60_000;

/** Rows per query. */
const PAGE = 5_000;

/**
 * Rows one scrape reads at most, so a scrape stays well within Prometheus'
 * default 10 s timeout; a longer backlog (scrapes far apart during a burst)
 * is read over the next scrapes, from where this one stopped.
 */
const MAX_ROWS_PER_SCRAPE = 50_000;

type Labels = "dag_id" | "queue" | "state";

export class TaskDurationHistogram {
  private readonly histogram: Histogram<Labels>;
  /** Rows that ended before this process started are not counted (the counters start empty). */
  private readonly floor: number;
  /** The newest end_date read, capped at this process's clock. */
  private frontier: number;
  /** Set while a backlog is being read: where the last scrape stopped, the next continues from here. */
  private resume: TryPosition | undefined;
  /** Attempts counted whose end_date is within OVERLAP_MS of the frontier ("ti_id:try" -> end_date): they will be read again. */
  private readonly seen = new Map<string, number>();
  private reading: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    registry: Registry,
    private readonly now: () => number,
    /** Page size and per-scrape budget in rows (tests make them small). */
    private readonly limits = { page: PAGE, maxRowsPerScrape: MAX_ROWS_PER_SCRAPE },
  ) {
    this.floor = now();
    this.frontier = this.floor;
    this.histogram = new Histogram<Labels>({
      name: TASK_DURATION_METRIC,
      help: "How long finished task attempts ran (start to end), by DAG, queue and the attempt's state (success, failed, skipped; a try that is retried counts as failed).",
      labelNames: ["dag_id", "queue", "state"] as const,
      buckets: TASK_DURATION_BUCKETS,
      registers: [registry],
      collect: () => this.catchUp(),
    });
  }

  /**
   * Observe every attempt that ended since the last call. Concurrent scrapes
   * (two Prometheus servers) share one read rather than race on the frontier.
   */
  catchUp(): Promise<void> {
    return (this.reading ??= this.read().finally(() => (this.reading = undefined)));
  }

  private async read(): Promise<void> {
    let after: TryPosition = this.resume ?? { endDate: Math.max(this.floor, this.frontier - OVERLAP_MS), id: 0 };
    // id 0 is below every id, so a fresh start reads end_date >= endDate.
    let newest = this.frontier;
    let total = 0;
    let rows: EndedTryRow[];
    const { page, maxRowsPerScrape } = this.limits;
    do {
      rows = await this.store.metrics.triesEndedAfter(after, page);
      for (const r of rows) this.observe(r);
      total += rows.length;
      if (rows.length > 0) {
        const last = rows[rows.length - 1];
        after = { endDate: last.end_date, id: last.id };
        newest = Math.max(newest, last.end_date);
      }
    } while (rows.length === page && total < maxRowsPerScrape);
    this.resume = rows.length === page ? after : undefined;
    this.frontier = Math.max(this.frontier, Math.min(newest, this.now()));
    const forget = this.frontier - OVERLAP_MS;
    for (const [key, end] of this.seen) if (end < forget) this.seen.delete(key);
  }

  private observe(r: EndedTryRow): void {
    if (r.end_date < this.floor) return;
    const key = `${r.ti_id}:${r.try_number}`;
    if (this.seen.has(key)) return;
    this.seen.set(key, r.end_date);
    // A try without a start (none is recorded today) has no duration to observe.
    if (r.duration_ms == null) return;
    this.histogram.observe({ dag_id: r.dag_id, queue: r.queue, state: r.state }, Math.max(0, r.duration_ms) / 1000);
  }
}
