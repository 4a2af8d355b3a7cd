import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** A try that ended, with what the task duration histogram labels it by. */
export interface EndedTryRow {
  id: number;
  ti_id: number;
  try_number: number;
  /** success | failed | skipped (a try that will be retried is recorded failed). */
  state: string;
  end_date: number;
  duration_ms: number | null;
  dag_id: string;
  queue: string;
}

/** Where a read of ended tries stopped: the (end_date, id) of the last row it returned. */
export interface TryPosition {
  endDate: number;
  id: number;
}

/**
 * The reads behind GET /metrics that are not gauges: tries that ended, for
 * `sluice_task_duration_seconds` (api/metrics/taskDurationHistogram.ts), read
 * when Prometheus scrapes.
 *
 * triesEndedAfter(after, limit): tries whose (end_date, id) comes after
 * `after`, in that order, at most `limit`, each with its task instance's
 * dag_id and queue. The `end_date >= after.endDate` range is served by
 * task_try_end_idx (migration 6); the id only breaks ties among equal
 * end_dates. Keyset paging, not OFFSET: a page costs its own rows however far
 * behind the reader is. A plain read, no locks: the writers (task processes,
 * workers, the task API, the reaper) never wait for a scrape.
 */
export class MetricQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async triesEndedAfter(after: TryPosition, limit: number): Promise<EndedTryRow[]> {
    const rows = await this.db
      .selectFrom("task_try as t")
      .innerJoin("task_instance as ti", "ti.id", "t.ti_id")
      .select(["t.id", "t.ti_id", "t.try_number", "t.state", "t.end_date", "t.duration_ms", "ti.dag_id", "ti.queue"])
      .where("t.end_date", ">=", after.endDate)
      .where((eb) => eb.or([eb("t.end_date", ">", after.endDate), eb("t.id", ">", after.id)]))
      .orderBy("t.end_date")
      .orderBy("t.id")
      .limit(limit)
      .execute();
    // bigint columns arrive as strings from PostgreSQL.
    return rows.map((r) => ({
      ...r,
      id: Number(r.id),
      ti_id: Number(r.ti_id),
      try_number: Number(r.try_number),
      end_date: Number(r.end_date),
      duration_ms: r.duration_ms == null ? null : Number(r.duration_ms),
    }));
  }
}
