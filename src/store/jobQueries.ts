import type { Kysely, Selectable } from "kysely";
import type { Database, SchedulerJobTable } from "./schema.js";

export type JobRow = Selectable<SchedulerJobTable>;

/** Scheduler (and later worker) processes, with heartbeats, so the living can tell who died. */
export class JobQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async register(kind: string, hostname: string, pid: number, now: number): Promise<number> {
    const row = await this.db
      .insertInto("scheduler_job")
      .values({ kind, hostname, pid, state: "running", started_at: now, heartbeat_at: now, ended_at: null })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * Record a heartbeat. Returns false when another scheduler had declared this
   * job dead (a long stall, a database outage); the job is running again from
   * now on, and the caller should log it.
   */
  async heartbeat(id: number, now: number): Promise<boolean> {
    const r = await this.db.updateTable("scheduler_job").set({ heartbeat_at: now }).where("id", "=", id).where("state", "=", "running").executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return true;
    await this.db.updateTable("scheduler_job").set({ heartbeat_at: now, state: "running", ended_at: null }).where("id", "=", id).execute();
    return false;
  }

  async end(id: number, now: number): Promise<void> {
    await this.db.updateTable("scheduler_job").set({ state: "ended", ended_at: now }).where("id", "=", id).execute();
  }

  async get(id: number): Promise<JobRow | undefined> {
    return this.db.selectFrom("scheduler_job").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async latest(kind: string): Promise<JobRow | undefined> {
    return this.db.selectFrom("scheduler_job").selectAll().where("kind", "=", kind).orderBy("heartbeat_at", "desc").limit(1).executeTakeFirst();
  }

  async markDead(ids: readonly number[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable("scheduler_job").set({ state: "dead", ended_at: now }).where("id", "in", ids).where("state", "=", "running").execute();
  }

  async running(kind: string): Promise<JobRow[]> {
    return this.db.selectFrom("scheduler_job").selectAll().where("kind", "=", kind).where("state", "=", "running").execute();
  }
}
