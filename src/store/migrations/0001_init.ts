import { sql, type Kysely } from "kysely";
import type { Migration } from "./migration.js";

/** The first schema: DAGs, runs, task instances, tries, logs, pools, scheduler jobs. */
export const m0001_init: Migration = {
  version: 1,
  name: "init",
  async up(db: Kysely<any>, dialect) {
    // SQLite needs exactly "integer primary key autoincrement" for a rowid alias;
    // PostgreSQL uses an identity-backed serial.
    const id = (t: any) =>
      dialect === "sqlite"
        ? t.addColumn("id", "integer", (c: any) => c.primaryKey().autoIncrement())
        : t.addColumn("id", "serial", (c: any) => c.primaryKey());

    await db.schema
      .createTable("dag")
      .addColumn("dag_id", "text", (c) => c.primaryKey())
      .addColumn("fileloc", "text", (c) => c.notNull())
      .addColumn("version_hash", "text", (c) => c.notNull())
      .addColumn("spec", "text", (c) => c.notNull())
      .addColumn("is_paused", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("is_active", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("schedule", "text")
      .addColumn("timezone", "text", (c) => c.notNull())
      .addColumn("owner", "text")
      .addColumn("tags", "text", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("next_interval_start", "bigint")
      .addColumn("next_interval_end", "bigint")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("dag_version")
      .addColumn("dag_id", "text", (c) => c.notNull())
      .addColumn("version_hash", "text", (c) => c.notNull())
      .addColumn("spec", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("dag_version_pk", ["dag_id", "version_hash"])
      .execute();

    await db.schema
      .createTable("dag_file")
      .addColumn("path", "text", (c) => c.primaryKey())
      .addColumn("content_hash", "text", (c) => c.notNull())
      .addColumn("dag_ids", "text", (c) => c.notNull())
      .addColumn("parsed_at", "bigint", (c) => c.notNull())
      .addColumn("parse_ms", "integer", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("import_error")
      .addColumn("path", "text", (c) => c.primaryKey())
      .addColumn("message", "text", (c) => c.notNull())
      .addColumn("line", "integer")
      .addColumn("col", "integer")
      .addColumn("stack", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await id(db.schema.createTable("dag_run"))
      .addColumn("dag_id", "text", (c: any) => c.notNull())
      .addColumn("run_id", "text", (c: any) => c.notNull())
      .addColumn("run_type", "text", (c: any) => c.notNull())
      .addColumn("state", "text", (c: any) => c.notNull())
      .addColumn("logical_date", "bigint", (c: any) => c.notNull())
      .addColumn("interval_start", "bigint", (c: any) => c.notNull())
      .addColumn("interval_end", "bigint", (c: any) => c.notNull())
      .addColumn("version_hash", "text", (c: any) => c.notNull())
      .addColumn("conf", "text", (c: any) => c.notNull())
      .addColumn("params", "text", (c: any) => c.notNull())
      .addColumn("queued_at", "bigint", (c: any) => c.notNull())
      .addColumn("start_date", "bigint")
      .addColumn("end_date", "bigint")
      .addColumn("updated_at", "bigint", (c: any) => c.notNull())
      .addColumn("note", "text")
      .addUniqueConstraint("dag_run_dag_run_id_uq", ["dag_id", "run_id"])
      .execute();
    await db.schema.createIndex("dag_run_state_idx").on("dag_run").columns(["state", "dag_id"]).execute();
    await db.schema.createIndex("dag_run_dag_logical_idx").on("dag_run").columns(["dag_id", "logical_date"]).execute();

    await id(db.schema.createTable("task_instance"))
      .addColumn("run_pk", "integer", (c: any) => c.notNull().references("dag_run.id").onDelete("cascade"))
      .addColumn("dag_id", "text", (c: any) => c.notNull())
      .addColumn("run_id", "text", (c: any) => c.notNull())
      .addColumn("task_id", "text", (c: any) => c.notNull())
      .addColumn("map_index", "integer", (c: any) => c.notNull().defaultTo(-1))
      .addColumn("state", "text", (c: any) => c.notNull())
      .addColumn("try_number", "integer", (c: any) => c.notNull().defaultTo(0))
      .addColumn("max_tries", "integer", (c: any) => c.notNull())
      .addColumn("priority_weight", "integer", (c: any) => c.notNull())
      .addColumn("pool", "text", (c: any) => c.notNull())
      .addColumn("pool_slots", "integer", (c: any) => c.notNull())
      .addColumn("queue", "text", (c: any) => c.notNull())
      .addColumn("next_try_at", "bigint")
      .addColumn("queued_at", "bigint")
      .addColumn("start_date", "bigint")
      .addColumn("end_date", "bigint")
      .addColumn("duration_ms", "integer")
      .addColumn("hostname", "text")
      .addColumn("pid", "integer")
      .addColumn("owner_job", "integer")
      .addColumn("heartbeat_at", "bigint")
      .addColumn("result", "text")
      .addColumn("error", "text")
      .addColumn("updated_at", "bigint", (c: any) => c.notNull())
      .addUniqueConstraint("task_instance_uq", ["run_pk", "task_id", "map_index"])
      .execute();
    // Matches the dispatch query's order (priority desc, id) so it reads the index instead of sorting.
    await sql`create index task_instance_dispatch_idx on task_instance (state, priority_weight desc, id)`.execute(db);
    await db.schema.createIndex("task_instance_dag_idx").on("task_instance").columns(["dag_id", "state"]).execute();

    await id(db.schema.createTable("task_try"))
      .addColumn("ti_id", "integer", (c: any) => c.notNull().references("task_instance.id").onDelete("cascade"))
      .addColumn("try_number", "integer", (c: any) => c.notNull())
      .addColumn("state", "text", (c: any) => c.notNull())
      .addColumn("start_date", "bigint")
      .addColumn("end_date", "bigint")
      .addColumn("duration_ms", "integer")
      .addColumn("hostname", "text")
      .addColumn("pid", "integer")
      .addColumn("error", "text")
      .addUniqueConstraint("task_try_uq", ["ti_id", "try_number"])
      .execute();

    await id(db.schema.createTable("task_log"))
      .addColumn("ti_id", "integer", (c: any) => c.notNull().references("task_instance.id").onDelete("cascade"))
      .addColumn("try_number", "integer", (c: any) => c.notNull())
      .addColumn("ts", "bigint", (c: any) => c.notNull())
      .addColumn("stream", "text", (c: any) => c.notNull())
      .addColumn("line", "text", (c: any) => c.notNull())
      .execute();
    await db.schema.createIndex("task_log_ti_idx").on("task_log").columns(["ti_id", "try_number", "id"]).execute();

    await db.schema
      .createTable("pool")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("slots", "integer", (c) => c.notNull())
      .addColumn("description", "text")
      .execute();

    await id(db.schema.createTable("scheduler_job"))
      .addColumn("kind", "text", (c: any) => c.notNull())
      .addColumn("hostname", "text", (c: any) => c.notNull())
      .addColumn("pid", "integer", (c: any) => c.notNull())
      .addColumn("state", "text", (c: any) => c.notNull())
      .addColumn("started_at", "bigint", (c: any) => c.notNull())
      .addColumn("heartbeat_at", "bigint", (c: any) => c.notNull())
      .addColumn("ended_at", "bigint")
      .execute();
  },
};
