import { sql, type Kysely, type Selectable } from "kysely";
import type { DatasetRef } from "../core/dagSpec.js";
import { isDatasetCondition, type DatasetCondition } from "../core/datasetSchedule.js";
import { inTransaction } from "./inTransaction.js";
import { enqueueEvents, INSERT_CHUNK, type DatasetEventRow } from "./datasetTriggerQueries.js";
import type { Database, DatasetRefTable } from "./schema.js";

export type DatasetRefRow = Selectable<DatasetRefTable>;
export type { DatasetEventRow };


/** A DAG scheduled on a dataset, as the Datasets page shows it beside the dataset. */
export interface ScheduledDag {
  dagId: string;
  paused: boolean;
  /** The dataset updated since the DAG's last dataset-triggered run: the update waits in the DAG's queue. */
  queued: boolean;
}

/** One dataset as the Datasets page lists it. */
export interface DatasetSummary {
  uri: string;
  /** Tasks of active DAGs that declare it as an outlet, sorted by DAG then task. */
  producers: { dagId: string; taskId: string }[];
  /** Tasks (or, taskId null, whole DAGs) of active DAGs that read it. */
  consumers: { dagId: string; taskId: string | null }[];
  /** Active DAGs scheduled on it (the consumers with taskId null), sorted by DAG. */
  scheduledDags: ScheduledDag[];
  lastEvent: DatasetEventRow | null;
  eventCount: number;
}

export interface DatasetSearch {
  /** Case-insensitive substring of the URI. */
  search?: string;
  limit: number;
  offset: number;
}

export interface DatasetEventFilter {
  uri?: string;
  /** The producing DAG. */
  dagId?: string;
  limit: number;
  offset: number;
}


/** Escape LIKE wildcards with "!" (SQLite has no default escape character). */
function likeEscape(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

/**
 * Replace the dataset references of one DAG with `refs`. Called by
 * DagQueries.upsert inside the transaction that stores the DAG, so the refs
 * always match the stored version. DAG-level consumers use task_id "".
 */
export async function replaceDatasetRefs(db: Kysely<Database>, dagId: string, refs: readonly DatasetRef[]): Promise<void> {
  await db.deleteFrom("dataset_ref").where("dag_id", "=", dagId).execute();
  const rows = refs.map((r) => ({ uri: r.uri, dag_id: dagId, task_id: r.taskId ?? "", kind: r.kind }));
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db.insertInto("dataset_ref").values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }
  // Updates queued for a URI the DAG no longer schedules on could never be consumed: drop them.
  // The ones it still schedules on stay, so editing the DAG's file loses no update.
  const scheduledOn = refs.filter((r) => r.taskId === null && r.kind === "consumer").map((r) => r.uri);
  let purge = db.deleteFrom("dataset_dag_queue").where("dag_id", "=", dagId);
  if (scheduledOn.length > 0) purge = purge.where("uri", "not in", scheduledOn);
  await purge.execute();
}

/**
 * Datasets: which tasks produce and consume each URI (dataset_ref, rebuilt at
 * each parse) and the events recorded when a producing task succeeds.
 * References of inactive DAGs (file deleted, DAG removed from it) stay in the
 * table until the DAG is parsed again, but are never listed: every read joins
 * dag and keeps is_active = 1, so a DAG that comes back needs no rebuild.
 */
export class DatasetQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async replaceRefs(dagId: string, refs: readonly DatasetRef[]): Promise<void> {
    await inTransaction(this.db, (tx) => replaceDatasetRefs(tx, dagId, refs));
  }

  /**
   * Record dataset events and queue them for the DAGs scheduled on their
   * URIs, in one transaction (finishAttempt calls it in the transaction of
   * the task's success, so an event and its queue entries exist together or
   * not at all).
   */
  async recordEvents(events: readonly Omit<DatasetEventRow, "id" | "created_at">[], now: number): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({ uri: e.uri, dag_id: e.dag_id, run_id: e.run_id, task_id: e.task_id, map_index: e.map_index, extra: e.extra, created_at: now }));
    await inTransaction(this.db, async (tx) => {
      // The insert is the transaction's first statement: on SQLite, writing first takes the lock up front.
      const inserted: { id: number; uri: string }[] = [];
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        inserted.push(...(await tx.insertInto("dataset_event").values(rows.slice(i, i + INSERT_CHUNK)).returning(["id", "uri"]).execute()));
      }
      await enqueueEvents(tx, inserted, now);
    });
  }

  /**
   * The dataset schedules of those of `dagIds` that have one, from their
   * current specs. Only DAGs with a DAG-level consumer ref are read, so a
   * page of cron DAGs costs one small query and no spec text.
   */
  async schedulesOf(dagIds: readonly string[]): Promise<Map<string, DatasetCondition>> {
    const out = new Map<string, DatasetCondition>();
    if (dagIds.length === 0) return out;
    const rows = await this.db
      .selectFrom("dag as d")
      .select(["d.dag_id", "d.spec"])
      .where("d.dag_id", "in", [...dagIds])
      .where((eb) => eb.exists(eb.selectFrom("dataset_ref as r").select(sql<number>`1`.as("one")).whereRef("r.dag_id", "=", "d.dag_id").where("r.task_id", "=", "").where("r.kind", "=", "consumer")))
      .execute();
    for (const r of rows) {
      const condition = (JSON.parse(r.spec) as { datasetSchedule?: unknown }).datasetSchedule;
      if (isDatasetCondition(condition)) out.set(r.dag_id, condition);
    }
    return out;
  }

  /** References of active DAGs, optionally for one URI (sorted by URI, DAG, task). */
  async refs(uri?: string): Promise<DatasetRefRow[]> {
    let q = this.db
      .selectFrom("dataset_ref as r")
      .innerJoin("dag as d", "d.dag_id", "r.dag_id")
      .select(["r.uri", "r.dag_id", "r.task_id", "r.kind"])
      .where("d.is_active", "=", 1);
    if (uri !== undefined) q = q.where("r.uri", "=", uri);
    return q.orderBy("r.uri").orderBy("r.dag_id").orderBy("r.task_id").orderBy("r.kind").execute();
  }

  /**
   * One page of datasets, sorted by URI: every URI an active DAG declares,
   * with its producers, consumers, event count and latest event. Four
   * queries whatever the page size: the page of URIs (plus the total), then
   * refs, counts and latest events for just that page. The latest event is
   * max(id) per URI, answered from the (uri, id) index.
   */
  async search(f: DatasetSearch): Promise<{ total: number; datasets: DatasetSummary[] }> {
    let base = this.db.selectFrom("dataset_ref as r").innerJoin("dag as d", "d.dag_id", "r.dag_id").where("d.is_active", "=", 1);
    if (f.search) base = base.where(sql<boolean>`lower(r.uri) like ${`%${likeEscape(f.search.toLowerCase())}%`} escape '!'`);
    const total = await base.select((eb) => eb.fn.count<number>("r.uri").distinct().as("n")).executeTakeFirst();
    const page = await base.select("r.uri").distinct().orderBy("r.uri").limit(f.limit).offset(f.offset).execute();
    const uris = page.map((p) => p.uri);
    if (uris.length === 0) return { total: Number(total?.n ?? 0), datasets: [] };

    const refs = await this.db
      .selectFrom("dataset_ref as r")
      .innerJoin("dag as d", "d.dag_id", "r.dag_id")
      .select(["r.uri", "r.dag_id", "r.task_id", "r.kind", "d.is_paused"])
      .where("d.is_active", "=", 1)
      .where("r.uri", "in", uris)
      .orderBy("r.dag_id")
      .orderBy("r.task_id")
      .execute();
    const queued = await this.db.selectFrom("dataset_dag_queue").select(["dag_id", "uri"]).where("uri", "in", uris).execute();
    const isQueued = new Set(queued.map((q) => `${q.dag_id}\u0000${q.uri}`));
    const counts = await this.db.selectFrom("dataset_event").select(["uri", (eb) => eb.fn.countAll<number>().as("n")]).where("uri", "in", uris).groupBy("uri").execute();
    const latest = await this.db
      .selectFrom("dataset_event")
      .selectAll()
      .where("id", "in", (eb) => eb.selectFrom("dataset_event").select((e) => e.fn.max("id").as("id")).where("uri", "in", uris).groupBy("uri"))
      .execute();
    const byUri = new Map<string, DatasetSummary>(uris.map((uri) => [uri, { uri, producers: [], consumers: [], scheduledDags: [], lastEvent: null, eventCount: 0 }]));
    for (const r of refs) {
      const d = byUri.get(r.uri)!;
      if (r.kind === "producer") d.producers.push({ dagId: r.dag_id, taskId: r.task_id });
      else d.consumers.push({ dagId: r.dag_id, taskId: r.task_id === "" ? null : r.task_id });
      if (r.kind === "consumer" && r.task_id === "") d.scheduledDags.push({ dagId: r.dag_id, paused: r.is_paused === 1, queued: isQueued.has(`${r.dag_id}\u0000${r.uri}`) });
    }
    for (const c of counts) byUri.get(c.uri)!.eventCount = Number(c.n);
    for (const e of latest) byUri.get(e.uri)!.lastEvent = e;
    return { total: Number(total?.n ?? 0), datasets: [...byUri.values()] };
  }

  /** Dataset events, newest first, with the total for pagination. */
  async events(f: DatasetEventFilter): Promise<{ total: number; rows: DatasetEventRow[] }> {
    let q = this.db.selectFrom("dataset_event");
    if (f.uri !== undefined) q = q.where("uri", "=", f.uri);
    if (f.dagId !== undefined) q = q.where("dag_id", "=", f.dagId);
    const total = await q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
    const rows = await q.selectAll().orderBy("id", "desc").limit(f.limit).offset(f.offset).execute();
    return { total: Number(total?.n ?? 0), rows };
  }
}
