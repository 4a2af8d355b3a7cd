import { sql, type Kysely, type Selectable } from "kysely";
import type { Database, DatasetDagQueueTable, DatasetEventTable } from "./schema.js";

/** Rows per multi-row insert or IN list: 4–7 columns each stays far below SQLite's bound-parameter limit. */
export const INSERT_CHUNK = 500;

/** A URI that updated since a DAG's last dataset-triggered run: the first and the last event since then. */
export type DatasetQueueRow = Selectable<DatasetDagQueueTable>;
export type DatasetEventRow = Selectable<DatasetEventTable>;

/** A run that consumed a dataset event. */
export interface TriggeredRun {
  dagId: string;
  runId: string;
}

/** `a` if it is smaller (larger) than `b`: CASE, because SQLite has no least()/greatest() and PostgreSQL no two-argument min(). */
const keepFirst = sql<number>`case when dataset_dag_queue.first_event_id < excluded.first_event_id then dataset_dag_queue.first_event_id else excluded.first_event_id end`;
const keepLast = sql<number>`case when dataset_dag_queue.last_event_id > excluded.last_event_id then dataset_dag_queue.last_event_id else excluded.last_event_id end`;

/**
 * Add updates to DAGs' queues: a new (DAG, URI) row, or a wider event range
 * on the existing one. Rows go in (dag, uri) order so two transactions
 * touching the same rows lock them in the same order (no deadlock).
 */
async function upsertQueue(db: Kysely<Database>, rows: DatasetQueueRow[]): Promise<void> {
  const unique = new Map<string, DatasetQueueRow>();
  for (const r of rows) {
    const key = `${r.dag_id}\u0000${r.uri}`;
    const had = unique.get(key);
    unique.set(key, had ? { ...had, first_event_id: Math.min(had.first_event_id, r.first_event_id), last_event_id: Math.max(had.last_event_id, r.last_event_id) } : r);
  }
  const sorted = [...unique.values()].sort((a, b) => (a.dag_id < b.dag_id ? -1 : a.dag_id > b.dag_id ? 1 : a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  for (let i = 0; i < sorted.length; i += INSERT_CHUNK) {
    await db
      .insertInto("dataset_dag_queue")
      .values(sorted.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.columns(["dag_id", "uri"]).doUpdateSet({ first_event_id: keepFirst, last_event_id: keepLast }))
      .execute();
  }
}

/**
 * Queue new events for every active DAG scheduled on their URIs (DAG-level
 * consumers, task_id ""), paused ones included: a paused DAG keeps its
 * updates and runs on them once unpaused, as in Airflow.
 */
export async function enqueueEvents(db: Kysely<Database>, events: readonly { id: number; uri: string }[], now: number): Promise<void> {
  const span = new Map<string, { first: number; last: number }>();
  for (const e of events) {
    const id = Number(e.id);
    const s = span.get(e.uri);
    if (!s) span.set(e.uri, { first: id, last: id });
    else span.set(e.uri, { first: Math.min(s.first, id), last: Math.max(s.last, id) });
  }
  const uris = [...span.keys()];
  const rows: DatasetQueueRow[] = [];
  for (let i = 0; i < uris.length; i += INSERT_CHUNK) {
    const consumers = await db
      .selectFrom("dataset_ref as r")
      .innerJoin("dag as d", "d.dag_id", "r.dag_id")
      .select(["r.dag_id", "r.uri"])
      .where("r.uri", "in", uris.slice(i, i + INSERT_CHUNK))
      .where("r.task_id", "=", "")
      .where("r.kind", "=", "consumer")
      .where("d.is_active", "=", 1)
      .execute();
    for (const c of consumers) {
      const s = span.get(c.uri)!;
      rows.push({ dag_id: c.dag_id, uri: c.uri, first_event_id: s.first, last_event_id: s.last, created_at: now });
    }
  }
  await upsertQueue(db, rows);
}

/**
 * Dataset-triggered schedules: the queue of dataset updates each DAG
 * scheduled on datasets has not consumed yet (filled in the producing task's
 * commit by DatasetQueries.recordEvents), its consumption by the run it
 * triggers, and which events each run consumed.
 */
export class DatasetTriggerQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The queues of active, unpaused DAGs, one entry per DAG with its queued
   * URIs: what the scheduler evaluates each sweep. Usually empty, and then
   * one indexed query is all it costs.
   */
  async pendingTriggers(): Promise<{ dagId: string; versionHash: string; uris: string[] }[]> {
    const rows = await this.db
      .selectFrom("dataset_dag_queue as q")
      .innerJoin("dag as d", "d.dag_id", "q.dag_id")
      .select(["q.dag_id", "d.version_hash", "q.uri"])
      .where("d.is_active", "=", 1)
      .where("d.is_paused", "=", 0)
      .orderBy("q.dag_id")
      .orderBy("q.uri")
      .execute();
    const out: { dagId: string; versionHash: string; uris: string[] }[] = [];
    for (const r of rows) {
      const last = out[out.length - 1];
      if (last?.dagId === r.dag_id) last.uris.push(r.uri);
      else out.push({ dagId: r.dag_id, versionHash: r.version_hash, uris: [r.uri] });
    }
    return out;
  }

  /** A DAG's queue: the URIs that updated since its last dataset-triggered run, sorted by URI. */
  async queueOf(dagId: string): Promise<DatasetQueueRow[]> {
    return this.db.selectFrom("dataset_dag_queue").selectAll().where("dag_id", "=", dagId).orderBy("uri").execute();
  }

  /**
   * Consume a DAG's queue: delete its rows for `uris` and return them as
   * deleted. Call it in the transaction that creates the run. DELETE ...
   * RETURNING, not a read then a delete: an update queued between the two
   * (a producer committing meanwhile) is either in what it returns or stays
   * queued for the next run, never lost. It is also a write first, which
   * SQLite needs (see Store.transaction).
   */
  async takeQueue(dagId: string, uris: readonly string[]): Promise<DatasetQueueRow[]> {
    if (uris.length === 0) return [];
    return this.db.deleteFrom("dataset_dag_queue").where("dag_id", "=", dagId).where("uri", "in", [...uris]).returningAll().execute();
  }

  /** Put updates back in a DAG's queue (merged with any queued meanwhile): a consumption that did not create a run. */
  async requeue(rows: readonly DatasetQueueRow[]): Promise<void> {
    await upsertQueue(this.db, [...rows]);
  }

  /**
   * The events queue rows stand for, that no run of `dagId` consumed yet,
   * oldest first. A row keeps only the first and last event id per URI; the
   * check against earlier runs matters on PostgreSQL, where ids are taken
   * at insert and committed in any order, so a late commit can widen a
   * range over an event an earlier run already consumed.
   */
  async unconsumedEvents(dagId: string, rows: readonly DatasetQueueRow[]): Promise<DatasetEventRow[]> {
    const out: DatasetEventRow[] = [];
    for (const r of rows) {
      out.push(
        ...(await this.db
          .selectFrom("dataset_event as e")
          .selectAll("e")
          .where("e.uri", "=", r.uri)
          .where("e.id", ">=", r.first_event_id)
          .where("e.id", "<=", r.last_event_id)
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom("dataset_run_event as re")
                  .innerJoin("dag_run as run", "run.id", "re.run_pk")
                  .select(sql<number>`1`.as("one"))
                  .whereRef("re.event_id", "=", "e.id")
                  .where("run.dag_id", "=", dagId),
              ),
            ),
          )
          .execute()),
      );
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Record which events a run consumed (in the transaction that creates it). */
  async linkRunEvents(runPk: number, eventIds: readonly number[]): Promise<void> {
    const rows = eventIds.map((event_id) => ({ run_pk: runPk, event_id }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) await this.db.insertInto("dataset_run_event").values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }

  /** The events a run consumed (a dataset-triggered run's cause), newest first, with the total. */
  async eventsOfRun(runPk: number, limit: number): Promise<{ total: number; rows: DatasetEventRow[] }> {
    const base = this.db.selectFrom("dataset_run_event as re").innerJoin("dataset_event as e", "e.id", "re.event_id").where("re.run_pk", "=", runPk);
    const total = await base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
    const rows = await base.selectAll("e").orderBy("e.id", "desc").limit(limit).execute();
    return { total: Number(total?.n ?? 0), rows };
  }

  /** The runs each event triggered (it was consumed by), by event id, sorted by DAG and run. */
  async triggeredRuns(eventIds: readonly number[]): Promise<Map<number, TriggeredRun[]>> {
    const out = new Map<number, TriggeredRun[]>();
    for (let i = 0; i < eventIds.length; i += INSERT_CHUNK) {
      const rows = await this.db
        .selectFrom("dataset_run_event as re")
        .innerJoin("dag_run as r", "r.id", "re.run_pk")
        .select(["re.event_id", "r.dag_id", "r.run_id"])
        .where("re.event_id", "in", eventIds.slice(i, i + INSERT_CHUNK))
        .orderBy("r.dag_id")
        .orderBy("r.run_id")
        .execute();
      for (const r of rows) {
        const list = out.get(Number(r.event_id)) ?? [];
        list.push({ dagId: r.dag_id, runId: r.run_id });
        out.set(Number(r.event_id), list);
      }
    }
    return out;
  }
}
