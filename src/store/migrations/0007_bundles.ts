import type { Kysely } from "kysely";
import type { Migration } from "./migration.js";

/**
 * Git bundles (src/bundles/): the commits each bundle fetched and what became
 * of them, the commit each DAG currently runs and each run was created on,
 * where a DAG's file was at each version, and GitHub deliveries already seen.
 */
export const m0007_bundles: Migration = {
  version: 7,
  name: "bundles",
  async up(db: Kysely<any>) {
    // One row per configured bundle: the published commit and the sync bookkeeping.
    await db.schema
      .createTable("bundle")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("repo", "text", (c) => c.notNull())
      .addColumn("branch", "text", (c) => c.notNull())
      .addColumn("published_sha", "text")
      .addColumn("published_at", "bigint")
      // A sync asked for (webhook, API, CLI) and not yet done: the syncer picks it up.
      .addColumn("sync_requested_at", "bigint")
      .addColumn("sync_reason", "text")
      // Lease of the process syncing now (two schedulers do not sync one bundle twice).
      .addColumn("sync_owner", "text")
      .addColumn("sync_lease_until", "bigint")
      .addColumn("last_sync_at", "bigint")
      .addColumn("last_error", "text")
      .execute();
    // Every commit a bundle checked: its metadata and the outcome of the check.
    await db.schema
      .createTable("bundle_commit")
      .addColumn("bundle", "text", (c) => c.notNull())
      .addColumn("sha", "text", (c) => c.notNull())
      .addColumn("message", "text", (c) => c.notNull())
      .addColumn("author", "text", (c) => c.notNull())
      .addColumn("committed_at", "bigint", (c) => c.notNull())
      .addColumn("checked_at", "bigint", (c) => c.notNull())
      // published (every DAG file imported), partial (some files failed: their DAGs stay on an older commit), failed (nothing imported).
      .addColumn("outcome", "text", (c) => c.notNull())
      .addColumn("errors", "integer", (c) => c.notNull())
      .addColumn("dags", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("bundle_commit_pk", ["bundle", "sha"])
      .execute();
    await db.schema.alterTable("dag").addColumn("bundle_version", "text").execute();
    await db.schema.alterTable("dag_run").addColumn("bundle_version", "text").execute();
    await db.schema.alterTable("dag_version").addColumn("bundle_version", "text").execute();
    await db.schema.alterTable("dag_version").addColumn("fileloc", "text").execute();
    await db.schema
      .createTable("webhook_delivery")
      .addColumn("delivery_id", "text", (c) => c.primaryKey())
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("received_at", "bigint", (c) => c.notNull())
      .addColumn("outcome", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("webhook_delivery_received_idx").on("webhook_delivery").column("received_at").execute();
  },
};
