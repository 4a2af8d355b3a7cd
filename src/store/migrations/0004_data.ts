import type { Kysely } from "kysely";
import type { Migration } from "./migration.js";

/**
 * What parallel data processing needs:
 * - spark_app: each Spark application a task attempt launched (app id, driver
 *   id, master), so the Spark cluster view links applications to the task
 *   instances that started them, and a cancelled attempt's application can be
 *   found and killed;
 * - dataset_dag_queue: dataset events waiting to trigger a DAG scheduled on
 *   datasets (one row per DAG and URI, kept until a run consumes it), as
 *   Airflow's DatasetDagRunQueue: "all" semantics need to remember which URIs
 *   have updated since the DAG's last dataset-triggered run;
 * - dataset_run_event: the events each dataset-triggered run consumed.
 */
export const m0004_data: Migration = {
  version: 4,
  name: "data",
  async up(db: Kysely<any>, dialect) {
    const id = (t: any) =>
      dialect === "sqlite"
        ? t.addColumn("id", "integer", (c: any) => c.primaryKey().autoIncrement())
        : t.addColumn("id", "serial", (c: any) => c.primaryKey());

    await id(db.schema.createTable("spark_app"))
      .addColumn("connection_id", "text", (c: any) => c.notNull())
      .addColumn("master", "text", (c: any) => c.notNull())
      .addColumn("deploy_mode", "text", (c: any) => c.notNull())
      .addColumn("app_id", "text")
      .addColumn("driver_id", "text")
      .addColumn("ti_id", "integer", (c: any) => c.notNull())
      .addColumn("dag_id", "text", (c: any) => c.notNull())
      .addColumn("run_id", "text", (c: any) => c.notNull())
      .addColumn("task_id", "text", (c: any) => c.notNull())
      .addColumn("map_index", "integer", (c: any) => c.notNull())
      .addColumn("try_number", "integer", (c: any) => c.notNull())
      .addColumn("state", "text", (c: any) => c.notNull())
      .addColumn("created_at", "bigint", (c: any) => c.notNull())
      .addColumn("updated_at", "bigint", (c: any) => c.notNull())
      .execute();
    await db.schema.createIndex("spark_app_app_idx").on("spark_app").column("app_id").execute();
    await db.schema.createIndex("spark_app_driver_idx").on("spark_app").column("driver_id").execute();
    await db.schema.createIndex("spark_app_ti_idx").on("spark_app").column("ti_id").execute();

    await db.schema
      .createTable("dataset_dag_queue")
      .addColumn("dag_id", "text", (c) => c.notNull())
      .addColumn("uri", "text", (c) => c.notNull())
      // The first event since the DAG's last dataset-triggered run (later ones only move last_event_id).
      .addColumn("first_event_id", "integer", (c) => c.notNull())
      .addColumn("last_event_id", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("dataset_dag_queue_pk", ["dag_id", "uri"])
      .execute();

    // Which dataset events a dataset-triggered run consumed (shown with the run and the event).
    await db.schema
      .createTable("dataset_run_event")
      .addColumn("run_pk", "integer", (c) => c.notNull().references("dag_run.id").onDelete("cascade"))
      .addColumn("event_id", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("dataset_run_event_pk", ["run_pk", "event_id"])
      .execute();
    await db.schema.createIndex("dataset_run_event_event_idx").on("dataset_run_event").column("event_id").execute();
  },
};
