import type { Generated, Kysely, Selectable } from "kysely";
import type { Database } from "./schema.js";

/** autoscaler_decision (migration 0005): one row per queue per autoscaler tick. */
export interface AutoscalerDecisionTable {
  id: Generated<number>;
  queue: string;
  at: number;
  queued: number;
  running: number;
  current_replicas: number;
  proposed_replicas: number;
  desired_replicas: number;
  cpu: number | null;
  memory_mb: number | null;
  network_bps: number | null;
  /** JSON of each rule's proposal. */
  proposals: string;
  reason: string;
  actuator: string;
}

export type AutoscalerDecisionRow = Selectable<AutoscalerDecisionTable>;
export type NewAutoscalerDecision = Omit<AutoscalerDecisionRow, "id">;

type Db = Database & { autoscaler_decision: AutoscalerDecisionTable };

/** Queue depth, the autoscaler's decisions and its history (the stabilisation window survives a restart). */
export class AutoscalerQueries {
  private readonly db: Kysely<Db>;

  constructor(db: Kysely<Database>) {
    // The table's type lives here, next to its only queries, rather than in the shared schema.ts.
    this.db = db.withTables<{ autoscaler_decision: AutoscalerDecisionTable }>();
  }

  /**
   * Queued and running task instances per queue: the Airflow chart's KEDA
   * query (state queued or running), grouped by queue. Served by the
   * task_instance state index; one row per queue with any such instance.
   */
  async depth(queues?: readonly string[]): Promise<Map<string, { queued: number; running: number }>> {
    let q = this.db
      .selectFrom("task_instance")
      .select(["queue", "state", (eb) => eb.fn.countAll<number | string>().as("n")])
      .where("state", "in", ["queued", "running"])
      .groupBy(["queue", "state"]);
    if (queues) {
      if (queues.length === 0) return new Map();
      q = q.where("queue", "in", queues);
    }
    const out = new Map<string, { queued: number; running: number }>();
    for (const q0 of queues ?? []) out.set(q0, { queued: 0, running: 0 });
    for (const r of await q.execute()) {
      const entry = out.get(r.queue) ?? { queued: 0, running: 0 };
      entry[r.state as "queued" | "running"] = Number(r.n);
      out.set(r.queue, entry);
    }
    return out;
  }

  async record(d: NewAutoscalerDecision): Promise<number> {
    const r = await this.db.insertInto("autoscaler_decision").values(d).returning("id").executeTakeFirstOrThrow();
    return r.id;
  }

  /** Decisions oldest first, optionally of one queue and from `since` (ms) on; at most `limit`, the newest ones. */
  async list(o: { queue?: string; since?: number; limit?: number } = {}): Promise<AutoscalerDecisionRow[]> {
    let q = this.db.selectFrom("autoscaler_decision").selectAll();
    if (o.queue !== undefined) q = q.where("queue", "=", o.queue);
    if (o.since !== undefined) q = q.where("at", ">=", o.since);
    const rows = await q.orderBy("at", "desc").orderBy("id", "desc").limit(o.limit ?? 1000).execute();
    return rows.reverse().map(numeric);
  }

  /** The newest decision of each queue (the Prometheus gauges). */
  async latest(): Promise<AutoscalerDecisionRow[]> {
    const rows = await this.db
      .selectFrom("autoscaler_decision as d")
      .selectAll("d")
      .where("d.id", "in", (eb) => eb.selectFrom("autoscaler_decision").select((e) => e.fn.max("id").as("id")).groupBy("queue"))
      .orderBy("d.queue")
      .execute();
    return rows.map(numeric);
  }

  /** Drop decisions older than `before` (the loop keeps a bounded history). */
  async prune(before: number): Promise<number> {
    const r = await this.db.deleteFrom("autoscaler_decision").where("at", "<", before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

// PostgreSQL returns bigint as a string.
function numeric(r: AutoscalerDecisionRow): AutoscalerDecisionRow {
  return { ...r, at: Number(r.at) };
}
