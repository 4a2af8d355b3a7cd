import type { Kysely } from "kysely";
import type { Migration } from "./migration.js";

/**
 * autoscaler_decision: every decision of the autoscaler (src/autoscaler/) with
 * the inputs it saw and the reason, so "why did it scale?" has an answer
 * (API, UI chart, Prometheus gauges) and the loop can rebuild its
 * stabilisation window after a restart.
 */
export const m0005_autoscaler: Migration = {
  version: 5,
  name: "autoscaler",
  async up(db: Kysely<any>, dialect) {
    const table = db.schema.createTable("autoscaler_decision");
    await (dialect === "sqlite" ? table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement()) : table.addColumn("id", "serial", (c) => c.primaryKey()))
      .addColumn("queue", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("queued", "integer", (c) => c.notNull())
      .addColumn("running", "integer", (c) => c.notNull())
      .addColumn("current_replicas", "integer", (c) => c.notNull())
      .addColumn("proposed_replicas", "integer", (c) => c.notNull())
      .addColumn("desired_replicas", "integer", (c) => c.notNull())
      // Average per worker over the interval; null when not measured.
      .addColumn("cpu", "double precision")
      .addColumn("memory_mb", "double precision")
      .addColumn("network_bps", "double precision")
      // JSON: each rule's proposal, e.g. {"queue":3,"cpu":4}.
      .addColumn("proposals", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("actuator", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("autoscaler_decision_queue_at_idx").on("autoscaler_decision").columns(["queue", "at"]).execute();
  },
};
