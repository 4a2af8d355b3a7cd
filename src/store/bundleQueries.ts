import { sql, type Kysely, type Selectable } from "kysely";
import type { Database } from "./schema.js";

/** bundle (migration 7): one row per configured git bundle. */
export interface BundleTable {
  name: string;
  repo: string;
  branch: string;
  published_sha: string | null;
  published_at: number | null;
  sync_requested_at: number | null;
  sync_reason: string | null;
  sync_owner: string | null;
  sync_lease_until: number | null;
  last_sync_at: number | null;
  last_error: string | null;
}

/** bundle_commit: every commit a bundle checked, and what became of it. */
export interface BundleCommitTable {
  bundle: string;
  sha: string;
  message: string;
  author: string;
  committed_at: number;
  checked_at: number;
  outcome: "published" | "partial" | "failed";
  errors: number;
  dags: number;
}

/** webhook_delivery: GitHub deliveries seen (X-GitHub-Delivery), so a redelivery does nothing twice. */
export interface WebhookDeliveryTable {
  delivery_id: string;
  event: string;
  received_at: number;
  outcome: string;
}

export type BundleRow = Selectable<BundleTable>;
export type BundleCommitRow = Selectable<BundleCommitTable>;

type Tables = { bundle: BundleTable; bundle_commit: BundleCommitTable; webhook_delivery: WebhookDeliveryTable };
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Git bundles: their sync state, the commits they checked, and webhook deliveries. */
export class BundleQueries {
  private readonly db: Kysely<Database & Tables>;

  constructor(db: Kysely<Database>) {
    this.db = db.withTables<Tables>();
  }

  /** Make sure each configured bundle has a row (repo/branch follow the config). */
  async ensure(bundles: readonly { name: string; repo: string; branch: string }[]): Promise<void> {
    for (const b of bundles) {
      await this.db
        .insertInto("bundle")
        .values({ name: b.name, repo: b.repo, branch: b.branch })
        .onConflict((oc) => oc.column("name").doUpdateSet({ repo: b.repo, branch: b.branch }))
        .execute();
    }
  }

  async list(): Promise<BundleRow[]> {
    return (await this.db.selectFrom("bundle").selectAll().orderBy("name").execute()).map(numeric);
  }

  async get(name: string): Promise<BundleRow | undefined> {
    const r = await this.db.selectFrom("bundle").selectAll().where("name", "=", name).executeTakeFirst();
    return r && numeric(r);
  }

  /** Ask for a sync (webhook, API, CLI): the syncer picks it up. False when the bundle does not exist. */
  async requestSync(name: string, reason: string, now: number): Promise<boolean> {
    const r = await this.db.updateTable("bundle").set({ sync_requested_at: now, sync_reason: reason }).where("name", "=", name).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Take the sync lease of a bundle if a sync is due (asked for, or its
   * refresh period passed) and nobody holds an unexpired lease: a
   * compare-and-set, so of two schedulers only one syncs.
   */
  async claimSync(name: string, owner: string, now: number, refreshMs: number, leaseMs: number): Promise<{ reason: string } | undefined> {
    const row = await this.get(name);
    if (!row) return undefined;
    const asked = row.sync_requested_at !== null && (row.last_sync_at === null || row.sync_requested_at > row.last_sync_at);
    const due = row.last_sync_at === null || now - row.last_sync_at >= refreshMs;
    if (!asked && !due) return undefined;
    const r = await this.db
      .updateTable("bundle")
      .set({ sync_owner: owner, sync_lease_until: now + leaseMs })
      .where("name", "=", name)
      .where((eb) => eb.or([eb("sync_lease_until", "is", null), eb("sync_lease_until", "<", now), eb("sync_owner", "=", owner)]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return undefined;
    return { reason: asked ? (row.sync_reason ?? "requested") : "refresh period" };
  }

  /** The sync ended: release the lease; a request that came in during the sync stays pending (it is newer than `startedAt`). */
  async finishSync(name: string, owner: string, startedAt: number, result: { publishedSha?: string; error: string | null }, now: number): Promise<void> {
    await this.db
      .updateTable("bundle")
      .set({
        sync_owner: null,
        sync_lease_until: null,
        last_sync_at: startedAt,
        last_error: result.error,
        ...(result.publishedSha ? { published_sha: result.publishedSha, published_at: now } : {}),
      })
      .where("name", "=", name)
      .where("sync_owner", "=", owner)
      .execute();
  }

  async recordCommit(c: BundleCommitTable): Promise<void> {
    await this.db
      .insertInto("bundle_commit")
      .values(c)
      .onConflict((oc) => oc.columns(["bundle", "sha"]).doUpdateSet({ checked_at: c.checked_at, outcome: c.outcome, errors: c.errors, dags: c.dags }))
      .execute();
  }

  async commits(bundle: string, limit = 50): Promise<BundleCommitRow[]> {
    return (await this.db.selectFrom("bundle_commit").selectAll().where("bundle", "=", bundle).orderBy("checked_at", "desc").limit(limit).execute()).map(numericCommit);
  }

  async commit(bundle: string, sha: string): Promise<BundleCommitRow | undefined> {
    const r = await this.db.selectFrom("bundle_commit").selectAll().where("bundle", "=", bundle).where("sha", "=", sha).executeTakeFirst();
    return r && numericCommit(r);
  }

  /** Commits of a bundle still needed: a DAG's current one, and those of runs not finished. */
  async commitsInUse(bundle: string): Promise<Set<string>> {
    const prefix = `@${bundle}/%`;
    const dags = await this.db.selectFrom("dag").select("bundle_version as sha").where("fileloc", "like", prefix).where("bundle_version", "is not", null).execute();
    const runs = await this.db
      .selectFrom("dag_run as r")
      .innerJoin("dag as d", "d.dag_id", "r.dag_id")
      .select("r.bundle_version as sha")
      .where("d.fileloc", "like", prefix)
      .where("r.bundle_version", "is not", null)
      .where("r.state", "in", ["queued", "running"])
      .execute();
    return new Set([...dags, ...runs].map((r) => r.sha!));
  }

  /**
   * Record a GitHub delivery id; false when it was seen before (a redelivery).
   * The insert is the check, so two API replicas receiving the same delivery
   * act on it once.
   */
  async firstDelivery(id: string, event: string, outcome: string, now: number): Promise<boolean> {
    const r = await this.db.insertInto("webhook_delivery").values({ delivery_id: id, event, received_at: now, outcome }).onConflict((oc) => oc.column("delivery_id").doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Forget deliveries older than `before` (GitHub redelivers within days, not months). */
  async pruneDeliveries(before: number): Promise<void> {
    await this.db.deleteFrom("webhook_delivery").where("received_at", "<", before).execute();
  }

  /** Point runs at the DAG's current commit and version ("rerun on latest"). */
  async repinRun(runPk: number): Promise<void> {
    await sql`update dag_run set bundle_version = (select d.bundle_version from dag d where d.dag_id = dag_run.dag_id),
      version_hash = (select d.version_hash from dag d where d.dag_id = dag_run.dag_id)
      where id = ${runPk}`.execute(this.db);
  }
}

function numeric(r: BundleRow): BundleRow {
  return { ...r, published_at: num(r.published_at), sync_requested_at: num(r.sync_requested_at), sync_lease_until: num(r.sync_lease_until), last_sync_at: num(r.last_sync_at) };
}

function numericCommit(r: BundleCommitRow): BundleCommitRow {
  return { ...r, committed_at: Number(r.committed_at), checked_at: Number(r.checked_at), errors: Number(r.errors), dags: Number(r.dags) };
}
