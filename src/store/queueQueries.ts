import { sql, type Kysely } from "kysely";
import pg from "pg";
import type { Logger } from "pino";
import type { Dialect } from "./migrations/index.js";
import type { Database } from "./schema.js";

/** NOTIFY channels of the queue executor: no broker, PostgreSQL carries the wake-ups. */
export const QUEUED_CHANNEL = "sluice_queued";
export const FINISHED_CHANNEL = "sluice_finished";
export const CANCEL_CHANNEL = "sluice_cancel";

/** A queued attempt a worker took: it now owns it (owner_job = the worker's job). */
export interface ClaimedAttempt {
  id: number;
  try_number: number;
  run_pk: number;
  dag_id: string;
  task_id: string;
  queue: string;
  /** The run's DAG version now (read in the claim: a run moved by "rerun on latest" changes it). */
  version_hash: string;
}

/** What a worker tells the schedulers when it has recorded an attempt's end. */
export interface FinishedNotice {
  tiId: number;
  /** The try that ended: a late notice must not end the tracking of the next try. */
  tryNumber: number;
  runPk: number;
  taskId: string;
  state: string | null;
}

/** Queries of the queue executor and its workers (the claim needs PostgreSQL). */
export class QueueQueries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {}

  /**
   * Take up to `limit` queued instances of `queues` that no worker owns yet,
   * highest priority first. SKIP LOCKED lets concurrent workers each take
   * different rows without waiting on each other; the update in the same
   * statement makes the claim visible to every other claimer once committed.
   * "Not yet taken" is `hostname is null` (the dispatcher clears it when it
   * queues a try, a claim sets it): a plain column, because PostgreSQL
   * re-checks a row that changed under a FOR UPDATE only against its own
   * columns, not against a join (a NOT EXISTS on scheduler_job let two
   * claimers take the same row). The locked pick is a MATERIALIZED CTE so it
   * runs exactly once: an `id in (… limit n)` sub-select may be re-evaluated
   * by the planner and take more than `limit` rows.
   */
  async claim(o: { jobId: number; queues: readonly string[]; limit: number; hostname: string; pid: number; now: number }): Promise<ClaimedAttempt[]> {
    if (this.dialect !== "postgres") throw new Error("Queue workers need PostgreSQL (FOR UPDATE SKIP LOCKED); SQLite has no row locks.");
    if (o.limit <= 0 || o.queues.length === 0) return [];
    const r = await sql<ClaimedAttempt>`
      with picked as materialized (
        select ti.id from task_instance ti
        where ti.state = 'queued' and ti.hostname is null and ti.queue in (${sql.join(o.queues)})
        order by ti.priority_weight desc, ti.queued_at, ti.id
        limit ${o.limit}
        for update skip locked)
      update task_instance t set owner_job = ${o.jobId}, hostname = ${o.hostname}, pid = ${o.pid}, updated_at = ${o.now}
      from picked, dag_run r
      where t.id = picked.id and r.id = t.run_pk and t.state = 'queued' and t.hostname is null
      returning t.id, t.try_number, t.run_pk, t.dag_id, t.task_id, t.queue, r.version_hash`.execute(this.db);
    return r.rows;
  }

  /**
   * Give an attempt back to the scheduler (a worker shutting down): the
   * instance goes back to scheduled on the same try, so the late report of the
   * abandoned attempt loses its compare-and-set, and the dispatcher starts a
   * new try. The abandoned try is not counted against the retry budget.
   */
  async handBack(id: number, tryNumber: number, jobId: number, now: number, error: string): Promise<{ state: string; start_date: number | null; hostname: string | null; pid: number | null } | undefined> {
    const before = await this.db
      .selectFrom("task_instance")
      .select(["state", "start_date", "hostname", "pid"])
      .where("id", "=", id)
      .where("try_number", "=", tryNumber)
      .where("owner_job", "=", jobId)
      .where("state", "in", ["queued", "running"])
      .forUpdate()
      .executeTakeFirst();
    if (!before) return undefined;
    const r = await this.db
      .updateTable("task_instance")
      .set((eb) => ({ state: "scheduled", max_tries: eb("max_tries", "+", 1), owner_job: null, queued_at: null, heartbeat_at: null, error, updated_at: now }))
      .where("id", "=", id)
      .where("try_number", "=", tryNumber)
      .where("state", "in", ["queued", "running"])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1 ? before : undefined;
  }

  /** Current state, try and owner of tracked instances (the scheduler's fallback when a NOTIFY was missed). */
  async attemptStates(ids: readonly number[]): Promise<{ id: number; state: string; try_number: number; owner_job: number | null }[]> {
    if (ids.length === 0) return [];
    const out: { id: number; state: string; try_number: number; owner_job: number | null }[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      out.push(
        ...(await this.db
          .selectFrom("task_instance")
          .select(["id", "state", "try_number", "owner_job"])
          .where("id", "in", ids.slice(i, i + 500))
          .execute()),
      );
    }
    return out;
  }

  /** Which of these job ids are workers (their attempts are judged by heartbeats, never by a local pid). */
  async workerJobs(ids: readonly number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom("scheduler_job").select("id").where("id", "in", [...new Set(ids)]).where("kind", "=", "worker").execute();
    return new Set(rows.map((r) => r.id));
  }

  /** Wake the workers of the queues these instances are in: one NOTIFY per distinct queue. */
  async notifyQueued(ids: readonly number[]): Promise<void> {
    if (this.dialect !== "postgres" || ids.length === 0) return;
    await sql`select pg_notify(${QUEUED_CHANNEL}, q) from (select distinct queue as q from task_instance where id in (${sql.join([...ids])})) s`.execute(this.db);
  }

  async notify(channel: string, payload: string): Promise<void> {
    if (this.dialect !== "postgres") return;
    await sql`select pg_notify(${channel}, ${payload})`.execute(this.db);
  }
}

/**
 * A dedicated connection that LISTENs (a pooled connection cannot: LISTEN is
 * per session). Reconnects with backoff when the connection drops; after a
 * reconnect `onReconnect` runs, since notifications sent meanwhile are lost
 * and the caller must look for work itself.
 */
export class PgListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs = 250;

  constructor(
    private readonly url: string,
    private readonly channels: readonly string[],
    private readonly onNotify: (channel: string, payload: string) => void,
    private readonly log: Logger,
    private readonly onReconnect: () => void = () => {},
  ) {}

  /** Resolves once listening; a failure to connect at start is thrown (bad URL, server down). */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 15_000 });
    client.on("notification", (n) => this.onNotify(n.channel, n.payload ?? ""));
    client.on("error", (err) => {
      this.log.warn({ err }, "LISTEN connection lost; reconnecting");
      this.drop(client);
    });
    client.on("end", () => this.drop(client));
    try {
      await client.connect();
      for (const ch of this.channels) await client.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
    } catch (err) {
      client.removeAllListeners("end");
      await client.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.backoffMs = 250;
  }

  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().then(
        () => this.onReconnect(),
        (err) => {
          this.log.warn({ err }, "could not re-LISTEN; trying again");
          this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
          this.scheduleReconnect();
        },
      );
    }, this.backoffMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }
}
