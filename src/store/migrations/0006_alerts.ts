import type { Kysely } from "kysely";
import type { Migration } from "./migration.js";

/**
 * The alerts outbox (src/alerts/):
 * - alert: one row per event worth telling someone about. `dedupe_key` is
 *   unique, so every scheduler that notices the same failure inserts it and
 *   all but one insert nothing (INSERT … ON CONFLICT DO NOTHING);
 * - alert_delivery: one row per (alert, notifier) with its state, attempts
 *   and when to try again: the dispatcher's queue;
 * - alert_attempt: every send, with its outcome, for the history;
 * - alert_cursor: how far the monitor has looked (survives a restart).
 * task_try gets an index on end_date: the monitor reads tries that ended
 * since its watermark.
 */
export const m0006_alerts: Migration = {
  version: 6,
  name: "alerts",
  async up(db: Kysely<any>, dialect) {
    const id = (t: any) =>
      dialect === "sqlite"
        ? t.addColumn("id", "integer", (c: any) => c.primaryKey().autoIncrement())
        : t.addColumn("id", "serial", (c: any) => c.primaryKey());

    await id(db.schema.createTable("alert"))
      .addColumn("dedupe_key", "text", (c: any) => c.notNull().unique())
      .addColumn("kind", "text", (c: any) => c.notNull())
      // Rate-limit group: kind, DAG and task (or import path, bundle).
      .addColumn("rate_key", "text", (c: any) => c.notNull())
      .addColumn("dag_id", "text")
      .addColumn("task_id", "text")
      .addColumn("run_id", "text")
      .addColumn("run_pk", "integer")
      .addColumn("map_index", "integer")
      .addColumn("try_number", "integer")
      .addColumn("title", "text", (c: any) => c.notNull())
      // The error text (bounded) or other body.
      .addColumn("message", "text", (c: any) => c.notNull())
      // JSON of event-specific fields (max tries, next try, deadline, bundle, commit…).
      .addColumn("details", "text", (c: any) => c.notNull())
      // "suppressed" | "pending" | "delivered" | "failed" | "no_notifiers".
      .addColumn("state", "text", (c: any) => c.notNull())
      // Alerts of the same group suppressed since the previous one sent.
      .addColumn("suppressed_count", "integer", (c: any) => c.notNull().defaultTo(0))
      .addColumn("created_at", "bigint", (c: any) => c.notNull())
      .execute();
    await db.schema.createIndex("alert_created_idx").on("alert").columns(["created_at", "id"]).execute();
    await db.schema.createIndex("alert_rate_idx").on("alert").columns(["rate_key", "created_at"]).execute();
    await db.schema.createIndex("alert_dag_idx").on("alert").columns(["dag_id", "created_at"]).execute();

    await id(db.schema.createTable("alert_delivery"))
      .addColumn("alert_id", "integer", (c: any) => c.notNull().references("alert.id").onDelete("cascade"))
      .addColumn("notifier", "text", (c: any) => c.notNull())
      // "pending" | "sending" | "delivered" | "failed".
      .addColumn("state", "text", (c: any) => c.notNull())
      .addColumn("attempts", "integer", (c: any) => c.notNull().defaultTo(0))
      .addColumn("next_attempt_at", "bigint")
      .addColumn("claimed_at", "bigint")
      .addColumn("claimed_by", "text")
      .addColumn("last_error", "text")
      .addColumn("delivered_at", "bigint")
      .addColumn("created_at", "bigint", (c: any) => c.notNull())
      .addColumn("updated_at", "bigint", (c: any) => c.notNull())
      .addUniqueConstraint("alert_delivery_uq", ["alert_id", "notifier"])
      .execute();
    await db.schema.createIndex("alert_delivery_due_idx").on("alert_delivery").columns(["state", "next_attempt_at"]).execute();
    await db.schema.createIndex("alert_delivery_notifier_idx").on("alert_delivery").columns(["notifier", "updated_at"]).execute();

    await id(db.schema.createTable("alert_attempt"))
      .addColumn("delivery_id", "integer", (c: any) => c.notNull().references("alert_delivery.id").onDelete("cascade"))
      .addColumn("attempt", "integer", (c: any) => c.notNull())
      .addColumn("started_at", "bigint", (c: any) => c.notNull())
      .addColumn("duration_ms", "integer", (c: any) => c.notNull())
      .addColumn("ok", "integer", (c: any) => c.notNull())
      .addColumn("error", "text")
      // What the other side answered ("HTTP 200", "250 2.0.0 Ok: queued").
      .addColumn("response", "text")
      .addUniqueConstraint("alert_attempt_uq", ["delivery_id", "attempt"])
      .execute();

    await db.schema
      .createTable("alert_cursor")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("value", "bigint", (c) => c.notNull())
      .execute();

    await db.schema.createIndex("task_try_end_idx").on("task_try").column("end_date").execute();
  },
};
