import type { Kysely } from "kysely";
import type { Migration } from "./migration.js";

/**
 * What the web UI and the admin API need:
 * - dag_version.source: the DAG file's text at that version (Code view);
 * - variables and connections, secrets encrypted at rest (see secrets/secretBox.ts);
 * - datasets: URIs tasks declare they produce/consume (dataset_ref, rebuilt at
 *   each parse) and the events recorded when a producing task succeeds;
 * - updated_at indexes so the live-update poller reads only what changed.
 */
export const m0003_ui: Migration = {
  version: 3,
  name: "ui",
  async up(db: Kysely<any>, dialect) {
    const id = (t: any) =>
      dialect === "sqlite"
        ? t.addColumn("id", "integer", (c: any) => c.primaryKey().autoIncrement())
        : t.addColumn("id", "serial", (c: any) => c.primaryKey());

    await db.schema.alterTable("dag_version").addColumn("source", "text").execute();

    await db.schema
      .createTable("variable")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("is_secret", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("description", "text")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("connection")
      .addColumn("conn_id", "text", (c) => c.primaryKey())
      .addColumn("conn_type", "text", (c) => c.notNull())
      .addColumn("host", "text")
      .addColumn("port", "integer")
      .addColumn("login", "text")
      .addColumn("password", "text")
      .addColumn("schema_name", "text")
      .addColumn("extra", "text")
      .addColumn("description", "text")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("dataset_ref")
      .addColumn("uri", "text", (c) => c.notNull())
      .addColumn("dag_id", "text", (c) => c.notNull())
      // "" for a DAG-level consumer (a DAG scheduled on the dataset).
      .addColumn("task_id", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("dataset_ref_pk", ["uri", "dag_id", "task_id", "kind"])
      .execute();
    await db.schema.createIndex("dataset_ref_dag_idx").on("dataset_ref").column("dag_id").execute();

    await id(db.schema.createTable("dataset_event"))
      .addColumn("uri", "text", (c: any) => c.notNull())
      .addColumn("dag_id", "text", (c: any) => c.notNull())
      .addColumn("run_id", "text", (c: any) => c.notNull())
      .addColumn("task_id", "text", (c: any) => c.notNull())
      .addColumn("map_index", "integer", (c: any) => c.notNull())
      .addColumn("extra", "text")
      .addColumn("created_at", "bigint", (c: any) => c.notNull())
      .execute();
    await db.schema.createIndex("dataset_event_uri_idx").on("dataset_event").columns(["uri", "id"]).execute();

    await db.schema.createIndex("task_instance_updated_idx").on("task_instance").column("updated_at").execute();
    await db.schema.createIndex("dag_run_updated_idx").on("dag_run").column("updated_at").execute();
  },
};
