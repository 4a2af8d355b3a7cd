/**
 * The alerts outbox (migration 0006): alerts, their deliveries per notifier
 * and every send attempt, plus what the alert monitor reads to find failures.
 *
 * Exactly once across schedulers: an alert's dedupe_key is unique, so the
 * monitors of several schedulers that all notice one failure insert one row
 * (INSERT … ON CONFLICT DO NOTHING); the rest insert nothing and stop there.
 * Deliveries are claimed with one UPDATE … RETURNING that moves them from
 * pending to sending: on PostgreSQL the rows are picked FOR UPDATE SKIP
 * LOCKED in a materialized CTE (two dispatchers take different rows without
 * waiting; the lock re-checks the condition on the row's latest version, so a
 * row another claimer took in between is skipped); on SQLite the one
 * statement is atomic (one writer at a time). A claim
 * bumps `attempts`, and the outcome is written only where the row is still
 * sending on that attempt (a compare-and-set), so a dispatcher that stalled
 * past the stale limit cannot overwrite the outcome of the one that took over.
 */
import { sql, type Generated, type Kysely, type Selectable } from "kysely";
import type { Dialect } from "./migrations/index.js";
import type { Database } from "./schema.js";

export interface AlertTable {
  id: Generated<number>;
  dedupe_key: string;
  kind: string;
  rate_key: string;
  dag_id: string | null;
  task_id: string | null;
  run_id: string | null;
  run_pk: number | null;
  map_index: number | null;
  try_number: number | null;
  title: string;
  message: string;
  /** JSON object. */
  details: string;
  state: string;
  suppressed_count: number;
  created_at: number;
}

export interface AlertDeliveryTable {
  id: Generated<number>;
  alert_id: number;
  notifier: string;
  state: string;
  attempts: number;
  next_attempt_at: number | null;
  claimed_at: number | null;
  claimed_by: string | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AlertAttemptTable {
  id: Generated<number>;
  delivery_id: number;
  attempt: number;
  started_at: number;
  duration_ms: number;
  ok: number;
  error: string | null;
  response: string | null;
}

export interface AlertCursorTable {
  name: string;
  value: number;
}

type Db = Database & { alert: AlertTable; alert_delivery: AlertDeliveryTable; alert_attempt: AlertAttemptTable; alert_cursor: AlertCursorTable };

export type AlertRow = Selectable<AlertTable>;
export type AlertDeliveryRow = Selectable<AlertDeliveryTable>;
export type AlertAttemptRow = Selectable<AlertAttemptTable>;

/** Alert states: suppressed by the rate limit, no notifier to send to, or the sum of its deliveries. */
export const ALERT_STATES = ["pending", "delivered", "failed", "suppressed", "no_notifiers"] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export type DeliveryState = "pending" | "sending" | "delivered" | "failed";

export type NewAlert = Omit<AlertRow, "id" | "state" | "suppressed_count" | "created_at">;

export interface CreatedAlert {
  id: number;
  suppressed: boolean;
  /** Alerts of its group suppressed since the previous one sent (0 for a suppressed one). */
  suppressedCount: number;
  deliveries: number;
}

/** A failed try with what the monitor needs to tell a retry from a final failure and to route it. */
export interface FailedTryRow {
  ti_id: number;
  try_number: number;
  error: string | null;
  end_date: number;
  dag_id: string;
  run_id: string;
  run_pk: number;
  task_id: string;
  map_index: number;
  ti_state: string;
  ti_try: number;
  max_tries: number;
  next_try_at: number | null;
  version_hash: string;
  run_note: string | null;
}

export interface AlertFilter {
  kinds?: readonly string[];
  states?: readonly string[];
  dagId?: string;
  taskId?: string;
  /** Only alerts with a delivery to this notifier. */
  notifier?: string;
  since?: number;
  until?: number;
  limit: number;
  offset: number;
}

export interface NotifierStats {
  notifier: string;
  /** Deliveries by state, over the deliveries created since `since`. */
  counts: Record<DeliveryState, number>;
  lastDeliveredAt: number | null;
  /** The newest delivery that failed an attempt: its error and when. */
  lastError: string | null;
  lastErrorAt: number | null;
}

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class AlertQueries {
  private readonly db: Kysely<Db>;

  constructor(
    db: Kysely<Database>,
    private readonly dialect: Dialect,
  ) {
    // The tables' types live here, next to their only queries, rather than in the shared schema.ts.
    this.db = db.withTables<{ alert: AlertTable; alert_delivery: AlertDeliveryTable; alert_attempt: AlertAttemptTable; alert_cursor: AlertCursorTable }>();
  }

  private tx<T>(fn: (tx: Kysely<Db>) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? fn(this.db) : this.db.transaction().execute(fn);
  }

  /**
   * Record an alert once (by dedupe key) and apply the rate limit of its
   * group: when `max` alerts of the group were sent (not suppressed) within
   * `windowMs`, it is stored as suppressed with no deliveries; otherwise it
   * gets one pending delivery per notifier (or a failed one, with the error,
   * for a notifier that cannot be used) and counts the group's alerts
   * suppressed since the previous one sent. Undefined when the key was seen
   * before. One transaction; on PostgreSQL the group is serialised with an
   * advisory lock so two schedulers cannot both send the max-plus-first.
   */
  async create(a: NewAlert, o: { notifiers: readonly { name: string; error?: string }[]; rateLimit: { windowMs: number; max: number }; now: number }): Promise<CreatedAlert | undefined> {
    return this.tx(async (tx) => {
      // The insert goes first: on SQLite a transaction that starts with a write takes the lock up front.
      const ins = await tx
        .insertInto("alert")
        .values({ ...a, state: "pending", suppressed_count: 0, created_at: o.now })
        .onConflict((oc) => oc.column("dedupe_key").doNothing())
        .returning("id")
        .executeTakeFirst();
      if (!ins) return undefined;
      const id = ins.id;
      if (this.dialect === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${`sluice:alert:${a.rate_key}`}))`.execute(tx);
      const group = tx.selectFrom("alert").where("rate_key", "=", a.rate_key).where("id", "<>", id);
      const recent = await group
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("state", "<>", "suppressed")
        .where("created_at", ">", o.now - o.rateLimit.windowMs)
        .executeTakeFirst();
      if (num(recent?.n) >= o.rateLimit.max) {
        await tx.updateTable("alert").set({ state: "suppressed" }).where("id", "=", id).execute();
        return { id, suppressed: true, suppressedCount: 0, deliveries: 0 };
      }
      const lastSent = await group.select((eb) => eb.fn.max("id").as("id")).where("state", "<>", "suppressed").executeTakeFirst();
      const suppressed = await group
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("state", "=", "suppressed")
        .where("id", ">", numOrNull(lastSent?.id) ?? 0)
        .executeTakeFirst();
      const suppressedCount = num(suppressed?.n);
      if (o.notifiers.length > 0) {
        await tx
          .insertInto("alert_delivery")
          .values(
            o.notifiers.map((n) => ({
              alert_id: id,
              notifier: n.name,
              state: n.error === undefined ? "pending" : "failed",
              attempts: 0,
              next_attempt_at: n.error === undefined ? o.now : null,
              last_error: n.error ?? null,
              created_at: o.now,
              updated_at: o.now,
            })),
          )
          .execute();
      }
      const state: AlertState = o.notifiers.length === 0 ? "no_notifiers" : o.notifiers.some((n) => n.error === undefined) ? "pending" : "failed";
      await tx.updateTable("alert").set({ state, suppressed_count: suppressedCount }).where("id", "=", id).execute();
      return { id, suppressed: false, suppressedCount, deliveries: o.notifiers.length };
    });
  }

  /**
   * Claim up to `limit` deliveries that are due (pending with next_attempt_at
   * <= now) or whose sender vanished (sending, claimed before `staleBefore`):
   * they become sending, claimed by `claimant`, with attempts + 1. See the
   * header for why this cannot hand one delivery to two dispatchers.
   */
  async claimDue(o: { now: number; limit: number; claimant: string; staleBefore: number }): Promise<AlertDeliveryRow[]> {
    if (o.limit <= 0) return [];
    const due = sql`((state = 'pending' and next_attempt_at <= ${o.now}) or (state = 'sending' and claimed_at < ${o.staleBefore}))`;
    const claim = sql`state = 'sending', attempts = attempts + 1, claimed_at = ${o.now}, claimed_by = ${o.claimant}, updated_at = ${o.now}`;
    // PostgreSQL: the pick is a MATERIALIZED CTE, run once. Written as `id in (select … limit n
    // for update skip locked)`, the planner may make the sub-select the inner side of a nested-loop
    // semi-join and run it again for every outer row: measured on a small table, one claimer then
    // took all 20 due rows with limit 4 and a concurrent one none.
    const r =
      this.dialect === "postgres"
        ? await sql<AlertDeliveryRow>`
            with picked as materialized (
              select id from alert_delivery where ${due} order by next_attempt_at, id limit ${o.limit} for update skip locked)
            update alert_delivery set ${claim} from picked where alert_delivery.id = picked.id
            returning alert_delivery.*`.execute(this.db)
        : await sql<AlertDeliveryRow>`
            update alert_delivery set ${claim}
            where ${due} and id in (select id from alert_delivery where ${due} order by next_attempt_at, id limit ${o.limit})
            returning *`.execute(this.db);
    return r.rows.map(numericDelivery);
  }

  /** When the next pending delivery is due (null: none). */
  async nextDueAt(): Promise<number | null> {
    const row = await this.db.selectFrom("alert_delivery").select((eb) => eb.fn.min("next_attempt_at").as("t")).where("state", "=", "pending").executeTakeFirst();
    return numOrNull(row?.t);
  }

  /**
   * Record one send attempt and the delivery's new state: delivered, pending
   * again at `nextAttemptAt` (a retry), or failed for good. The state is only
   * written while the delivery is still sending on this attempt; returns
   * whether it was. The alert's own state follows its deliveries: on
   * PostgreSQL the alert row is locked first, so two deliveries of one alert
   * finishing at once do not each compute the alert's state without seeing
   * the other's (READ COMMITTED), which left it "pending" for good.
   */
  async recordAttempt(
    attempt: Omit<AlertAttemptRow, "id">,
    next: { state: "delivered" | "pending" | "failed"; nextAttemptAt: number | null; now: number },
  ): Promise<boolean> {
    return this.tx(async (tx) => {
      // A write first (SQLite: takes the write lock up front).
      await tx
        .insertInto("alert_attempt")
        .values(attempt)
        .onConflict((oc) => oc.columns(["delivery_id", "attempt"]).doNothing())
        .execute();
      const owner = await tx.selectFrom("alert_delivery").select("alert_id").where("id", "=", attempt.delivery_id).executeTakeFirst();
      if (!owner) return false;
      if (this.dialect === "postgres") await tx.selectFrom("alert").select("id").where("id", "=", owner.alert_id).forUpdate().execute();
      const r = await tx
        .updateTable("alert_delivery")
        .set({
          state: next.state,
          next_attempt_at: next.nextAttemptAt,
          last_error: attempt.ok ? null : attempt.error,
          ...(next.state === "delivered" ? { delivered_at: next.now } : {}),
          claimed_at: null,
          claimed_by: null,
          updated_at: next.now,
        })
        .where("id", "=", attempt.delivery_id)
        .where("state", "=", "sending")
        .where("attempts", "=", attempt.attempt)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await this.refreshState(tx, owner.alert_id);
      return true;
    });
  }

  /** An alert's state from its deliveries: pending while any is, failed if any failed, else delivered. */
  private async refreshState(tx: Kysely<Db>, alertId: number): Promise<void> {
    await sql`
      update alert set state = case
        when exists (select 1 from alert_delivery d where d.alert_id = alert.id and d.state in ('pending', 'sending')) then 'pending'
        when exists (select 1 from alert_delivery d where d.alert_id = alert.id and d.state = 'failed') then 'failed'
        else 'delivered' end
      where id = ${alertId} and exists (select 1 from alert_delivery d where d.alert_id = alert.id)`.execute(tx);
  }

  async get(id: number): Promise<AlertRow | undefined> {
    const row = await this.db.selectFrom("alert").selectAll().where("id", "=", id).executeTakeFirst();
    return row && numericAlert(row);
  }

  async byKey(dedupeKey: string): Promise<AlertRow | undefined> {
    const row = await this.db.selectFrom("alert").selectAll().where("dedupe_key", "=", dedupeKey).executeTakeFirst();
    return row && numericAlert(row);
  }

  private filtered(f: Omit<AlertFilter, "limit" | "offset">) {
    let q = this.db.selectFrom("alert");
    if (f.kinds?.length) q = q.where("kind", "in", f.kinds);
    if (f.states?.length) q = q.where("state", "in", f.states);
    if (f.dagId !== undefined) q = q.where("dag_id", "=", f.dagId);
    if (f.taskId !== undefined) q = q.where("task_id", "=", f.taskId);
    if (f.since !== undefined) q = q.where("created_at", ">=", f.since);
    if (f.until !== undefined) q = q.where("created_at", "<=", f.until);
    if (f.notifier !== undefined) {
      const notifier = f.notifier;
      q = q.where("id", "in", (eb) => eb.selectFrom("alert_delivery").select("alert_id").where("notifier", "=", notifier));
    }
    return q;
  }

  /** One page of alerts, newest first, and how many match. */
  async list(f: AlertFilter): Promise<{ rows: AlertRow[]; total: number }> {
    const total = await this.filtered(f).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
    const rows = await this.filtered(f).selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(f.limit).offset(f.offset).execute();
    return { rows: rows.map(numericAlert), total: num(total?.n) };
  }

  async deliveriesOf(alertIds: readonly number[]): Promise<AlertDeliveryRow[]> {
    if (alertIds.length === 0) return [];
    const rows = await this.db.selectFrom("alert_delivery").selectAll().where("alert_id", "in", alertIds).orderBy("alert_id").orderBy("notifier").execute();
    return rows.map(numericDelivery);
  }

  async attemptsOf(deliveryIds: readonly number[]): Promise<AlertAttemptRow[]> {
    if (deliveryIds.length === 0) return [];
    const rows = await this.db.selectFrom("alert_attempt").selectAll().where("delivery_id", "in", deliveryIds).orderBy("delivery_id").orderBy("attempt").execute();
    return rows.map((r) => ({ ...r, started_at: Number(r.started_at), duration_ms: Number(r.duration_ms) }));
  }

  /** How each notifier has been doing: deliveries by state since `since`, last success, last error (ever). */
  async notifierStats(since: number): Promise<NotifierStats[]> {
    const counts = await this.db
      .selectFrom("alert_delivery")
      .select(["notifier", "state", (eb) => eb.fn.countAll<number>().as("n"), (eb) => eb.fn.max("delivered_at").as("delivered")])
      .where("created_at", ">=", since)
      .groupBy(["notifier", "state"])
      .execute();
    const lastOk = await this.db
      .selectFrom("alert_delivery")
      .select(["notifier", (eb) => eb.fn.max("delivered_at").as("t")])
      .where("state", "=", "delivered")
      .groupBy("notifier")
      .execute();
    const out = new Map<string, NotifierStats>();
    const entry = (name: string) => {
      let e = out.get(name);
      if (!e) out.set(name, (e = { notifier: name, counts: { pending: 0, sending: 0, delivered: 0, failed: 0 }, lastDeliveredAt: null, lastError: null, lastErrorAt: null }));
      return e;
    };
    for (const r of counts) entry(r.notifier).counts[r.state as DeliveryState] = num(r.n);
    for (const r of lastOk) entry(r.notifier).lastDeliveredAt = numOrNull(r.t);
    for (const e of out.values()) {
      const err = await this.db
        .selectFrom("alert_delivery")
        .select(["last_error", "updated_at"])
        .where("notifier", "=", e.notifier)
        .where("last_error", "is not", null)
        .orderBy("updated_at", "desc")
        .limit(1)
        .executeTakeFirst();
      if (err) {
        e.lastError = err.last_error;
        e.lastErrorAt = Number(err.updated_at);
      }
    }
    return [...out.values()].sort((a, b) => a.notifier.localeCompare(b.notifier));
  }

  /** Delete alerts created before `before`, with their deliveries and attempts (foreign keys cascade). */
  async prune(before: number): Promise<number> {
    const r = await this.db.deleteFrom("alert").where("created_at", "<", before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // --- the monitor's watermark and reads ---

  async cursor(name: string): Promise<number | undefined> {
    const row = await this.db.selectFrom("alert_cursor").select("value").where("name", "=", name).executeTakeFirst();
    return row ? Number(row.value) : undefined;
  }

  /** Move a cursor forward only: two schedulers' monitors never move it back. */
  async advanceCursor(name: string, value: number): Promise<void> {
    await this.db
      .insertInto("alert_cursor")
      .values({ name, value })
      // greatest() on PostgreSQL, the two-argument max() on SQLite.
      .onConflict((oc) => oc.column("name").doUpdateSet({ value: (eb) => eb.fn<number>(this.dialect === "postgres" ? "greatest" : "max", [eb.ref("alert_cursor.value"), eb.ref("excluded.value")]) }))
      .execute();
  }

  /**
   * Tries that failed after `since` (end_date; task_try_end_idx), oldest
   * first, at most `limit`, with their instance's current state (which tells
   * a retry from a final failure) and their run's version and note.
   */
  async failedTriesSince(since: number, limit: number): Promise<FailedTryRow[]> {
    const rows = await this.db
      .selectFrom("task_try as t")
      .innerJoin("task_instance as ti", "ti.id", "t.ti_id")
      .innerJoin("dag_run as r", "r.id", "ti.run_pk")
      .select(["t.ti_id", "t.try_number", "t.error", "t.end_date", ...INSTANCE_COLUMNS])
      .where("t.state", "=", "failed")
      .where("t.end_date", ">", since)
      .orderBy("t.end_date")
      .orderBy("t.id")
      .limit(limit)
      .execute();
    return rows.map(failedRow);
  }

  /**
   * Instances that are failed now and changed after `since`
   * (task_instance_updated_idx): the final failures, including those that
   * never had a try of their own (a mapped task whose list could not expand).
   */
  async failedInstancesSince(since: number, limit: number): Promise<FailedTryRow[]> {
    const rows = await this.db
      .selectFrom("task_instance as ti")
      .innerJoin("dag_run as r", "r.id", "ti.run_pk")
      .select(["ti.id as ti_id", "ti.try_number", "ti.error", "ti.updated_at as end_date", ...INSTANCE_COLUMNS])
      .where("ti.state", "=", "failed")
      .where("ti.updated_at", ">", since)
      .orderBy("ti.updated_at")
      .orderBy("ti.id")
      .limit(limit)
      .execute();
    return rows.map(failedRow);
  }

  /** Runs that finished (success or failed) and changed after `since` (dag_run_updated_idx), oldest change first. */
  async finishedRunsSince(since: number, limit: number) {
    const rows = await this.db
      .selectFrom("dag_run")
      .selectAll()
      .where("state", "in", ["success", "failed"])
      .where("updated_at", ">", since)
      .orderBy("updated_at")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows;
  }

  /** The failed task instances of a run (for a run-failed alert's list). */
  async failedTasksOf(runPk: number): Promise<{ task_id: string; map_index: number; error: string | null }[]> {
    return this.db.selectFrom("task_instance").select(["task_id", "map_index", "error"]).where("run_pk", "=", runPk).where("state", "=", "failed").orderBy("id").limit(50).execute();
  }
}

function numericAlert(r: AlertRow): AlertRow {
  return { ...r, created_at: Number(r.created_at), run_pk: numOrNull(r.run_pk), suppressed_count: Number(r.suppressed_count) };
}

function numericDelivery(r: AlertDeliveryRow): AlertDeliveryRow {
  return {
    ...r,
    id: Number(r.id),
    alert_id: Number(r.alert_id),
    attempts: Number(r.attempts),
    next_attempt_at: numOrNull(r.next_attempt_at),
    claimed_at: numOrNull(r.claimed_at),
    delivered_at: numOrNull(r.delivered_at),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

/** The instance and run columns of a FailedTryRow (the same for a failed try and a failed instance). */
const INSTANCE_COLUMNS = [
  "ti.dag_id",
  "ti.run_id",
  "ti.run_pk",
  "ti.task_id",
  "ti.map_index",
  "ti.state as ti_state",
  "ti.try_number as ti_try",
  "ti.max_tries",
  "ti.next_try_at",
  "r.version_hash",
  "r.note as run_note",
] as const;

function failedRow<T extends { end_date: unknown; next_try_at: unknown }>(r: T) {
  return { ...r, end_date: Number(r.end_date), next_try_at: numOrNull(r.next_try_at) };
}
