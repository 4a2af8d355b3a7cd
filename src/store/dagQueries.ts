import { sql, type Kysely, type Selectable } from "kysely";
import { datasetRefs, type DagSpec } from "../core/dagSpec.js";
import { replaceDatasetRefs } from "./datasetQueries.js";
import { inTransaction } from "./inTransaction.js";
import type { Database, DagTable } from "./schema.js";

export type DagRow = Selectable<DagTable>;
export type ImportErrorRow = Selectable<Database["import_error"]>;
export type DagFileRow = Selectable<Database["dag_file"]>;

/** A DAG row without its (possibly large) spec text: what lists need. */
export type DagListRow = Omit<DagRow, "spec">;

export interface DagSearch {
  tag?: string;
  owner?: string;
  paused?: boolean;
  /** Case-insensitive text search in id, description and owner. */
  q?: string;
  includeInactive?: boolean;
  desc?: boolean;
  limit: number;
  offset: number;
}

/** Escape LIKE wildcards with "!" (SQLite has no default escape character). */
function likeEscape(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

/** One stored version of a DAG, without its spec or source text. */
export interface DagVersionInfo {
  version_hash: string;
  created_at: number;
  has_source: boolean;
  /** The git bundle commit this version was first parsed from (null: the local DAG folder). */
  bundle_version: string | null;
  /** The DAG's file at this version ("@<bundle>/<path>" for a bundle). */
  fileloc: string | null;
}

/** DAG definitions, their versions, the files they come from and import errors. */
export class DagQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Store a parsed DAG. Keeps the paused flag; a changed schedule clears the
   * precomputed next interval so the scheduler recomputes it. `source` is the
   * DAG file's text, kept with a new version for the Code view. The DAG's
   * dataset references are replaced in the same transaction.
   */
  /** `bundleVersion`: the git bundle commit the spec was parsed from (null for the local DAG folder). */
  async upsert(spec: DagSpec, versionHash: string, now: number, pausedOnCreate: boolean, source: string | null = null, bundleVersion: string | null = null): Promise<void> {
    const json = JSON.stringify(spec);
    await inTransaction(this.db, async (tx) => {
      // Write first: on SQLite a transaction that reads before it writes can fail
      // with SQLITE_BUSY when another process commits in between (no busy wait
      // for a read->write upgrade); starting with a write takes the lock up front.
      await tx
        .insertInto("dag_version")
        .values({ dag_id: spec.id, version_hash: versionHash, spec: json, source, created_at: now, bundle_version: bundleVersion, fileloc: spec.fileloc })
        .onConflict((oc) => oc.columns(["dag_id", "version_hash"]).doNothing())
        .execute();
      await replaceDatasetRefs(tx, spec.id, datasetRefs(spec));
      const existing = await tx.selectFrom("dag").select(["version_hash", "schedule", "timezone", "is_active"]).where("dag_id", "=", spec.id).executeTakeFirst();
      const common = {
        fileloc: spec.fileloc,
        version_hash: versionHash,
        spec: json,
        is_active: 1,
        schedule: spec.schedule,
        timezone: spec.timezone,
        owner: spec.owner ?? null,
        tags: JSON.stringify(spec.tags),
        description: spec.description ?? null,
        updated_at: now,
        bundle_version: bundleVersion,
      };
      if (!existing) {
        await tx.insertInto("dag").values({ dag_id: spec.id, is_paused: pausedOnCreate ? 1 : 0, ...common }).execute();
        return;
      }
      const scheduleChanged = existing.schedule !== spec.schedule || existing.timezone !== spec.timezone || existing.is_active === 0;
      await tx
        .updateTable("dag")
        .set(scheduleChanged ? { ...common, next_interval_start: null, next_interval_end: null } : common)
        .where("dag_id", "=", spec.id)
        .execute();
    });
  }

  async deactivate(dagIds: readonly string[], now: number): Promise<void> {
    if (dagIds.length === 0) return;
    await this.db.updateTable("dag").set({ is_active: 0, updated_at: now }).where("dag_id", "in", dagIds).execute();
  }

  async get(dagId: string): Promise<DagRow | undefined> {
    return this.db.selectFrom("dag").selectAll().where("dag_id", "=", dagId).executeTakeFirst();
  }

  /** Just the file a DAG comes from (task processes need nothing else of the row). */
  async fileloc(dagId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom("dag").select("fileloc").where("dag_id", "=", dagId).executeTakeFirst();
    return row?.fileloc;
  }

  async list(opts: { activeOnly?: boolean } = {}): Promise<DagRow[]> {
    let q = this.db.selectFrom("dag").selectAll().orderBy("dag_id");
    if (opts.activeOnly) q = q.where("is_active", "=", 1);
    return q.execute();
  }

  /**
   * One page of the DAG list (API and UI): filters combine with AND, sorted by
   * dag_id, plus the total count for pagination. Tags are JSON text, so a tag
   * matches as its quoted JSON form inside the array; text search is
   * case-insensitive on id, description and owner (lower() on both sides,
   * because PostgreSQL's LIKE is case-sensitive and SQLite's is not).
   */
  async search(f: DagSearch): Promise<{ rows: DagListRow[]; total: number }> {
    let q = this.db.selectFrom("dag");
    if (!f.includeInactive) q = q.where("is_active", "=", 1);
    if (f.paused !== undefined) q = q.where("is_paused", "=", f.paused ? 1 : 0);
    if (f.owner !== undefined) q = q.where("owner", "=", f.owner);
    if (f.tag !== undefined) q = q.where(sql<boolean>`tags like ${`%${likeEscape(JSON.stringify(f.tag))}%`} escape '!'`);
    if (f.q) {
      const pattern = `%${likeEscape(f.q.toLowerCase())}%`;
      q = q.where((eb) =>
        eb.or(
          (["dag_id", "description", "owner"] as const).map((col) => eb(sql<string>`lower(coalesce(${sql.ref(col)}, ''))`, "like", sql<string>`${pattern} escape '!'`)),
        ),
      );
    }
    const total = await q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
    const rows = await q
      .select(["dag_id", "fileloc", "version_hash", "is_paused", "is_active", "schedule", "timezone", "owner", "tags", "description", "next_interval_start", "next_interval_end", "updated_at", "bundle_version"])
      .orderBy("dag_id", f.desc ? "desc" : "asc")
      .limit(f.limit)
      .offset(f.offset)
      .execute();
    return { rows, total: Number(total?.n ?? 0) };
  }

  /** Active, unpaused DAGs that have a schedule: the ones the scheduler creates runs for (no spec text: it is read from the version cache). */
  async listSchedulable(): Promise<Pick<DagRow, "dag_id" | "version_hash" | "next_interval_start" | "next_interval_end">[]> {
    return this.db
      .selectFrom("dag")
      .select(["dag_id", "version_hash", "next_interval_start", "next_interval_end"])
      .where("is_active", "=", 1)
      .where("is_paused", "=", 0)
      .where("schedule", "is not", null)
      .execute();
  }

  async setPaused(dagId: string, paused: boolean, now: number): Promise<boolean> {
    const r = await this.db.updateTable("dag").set({ is_paused: paused ? 1 : 0, updated_at: now }).where("dag_id", "=", dagId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async setNextInterval(dagId: string, interval: { start: number; end: number } | null): Promise<void> {
    await this.db
      .updateTable("dag")
      .set({ next_interval_start: interval?.start ?? null, next_interval_end: interval?.end ?? null })
      .where("dag_id", "=", dagId)
      .execute();
  }

  async versionSpec(dagId: string, versionHash: string): Promise<DagSpec | undefined> {
    const row = await this.db
      .selectFrom("dag_version")
      .select("spec")
      .where("dag_id", "=", dagId)
      .where("version_hash", "=", versionHash)
      .executeTakeFirst();
    return row ? (JSON.parse(row.spec) as DagSpec) : undefined;
  }

  /** Stored versions of a DAG, newest first (no spec or source text: a DAG edited often has many). */
  async versions(dagId: string, page: { limit: number; offset: number }): Promise<DagVersionInfo[]> {
    const rows = await this.db
      .selectFrom("dag_version")
      .select(["version_hash", "created_at", "bundle_version", "fileloc", sql<number>`case when source is null then 0 else 1 end`.as("has_source")])
      .where("dag_id", "=", dagId)
      .orderBy("created_at", "desc")
      .orderBy("version_hash")
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return rows.map((r) => ({ version_hash: r.version_hash, created_at: r.created_at, has_source: Number(r.has_source) === 1, bundle_version: r.bundle_version, fileloc: r.fileloc }));
  }

  /** How many runs each of the given versions of a DAG has (versions without runs are absent). */
  async runCountsByVersion(dagId: string, versionHashes: readonly string[]): Promise<Map<string, number>> {
    if (versionHashes.length === 0) return new Map();
    const rows = await this.db
      .selectFrom("dag_run")
      .select(["version_hash", (eb) => eb.fn.countAll<number>().as("n")])
      .where("dag_id", "=", dagId)
      .where("version_hash", "in", versionHashes)
      .groupBy("version_hash")
      .execute();
    return new Map(rows.map((r) => [r.version_hash, Number(r.n)]));
  }

  /** The DAG file's text at one version and the file's path then; undefined when the version is unknown. */
  async versionSource(dagId: string, versionHash: string): Promise<{ source: string | null; fileloc: string } | undefined> {
    const row = await this.db
      .selectFrom("dag_version")
      .select(["spec", "source"])
      .where("dag_id", "=", dagId)
      .where("version_hash", "=", versionHash)
      .executeTakeFirst();
    return row ? { source: row.source, fileloc: (JSON.parse(row.spec) as DagSpec).fileloc } : undefined;
  }

  // --- files and import errors ---

  async files(): Promise<DagFileRow[]> {
    return this.db.selectFrom("dag_file").selectAll().execute();
  }

  async recordFile(row: DagFileRow): Promise<void> {
    await this.db
      .insertInto("dag_file")
      .values(row)
      .onConflict((oc) => oc.column("path").doUpdateSet({ content_hash: row.content_hash, dag_ids: row.dag_ids, parsed_at: row.parsed_at, parse_ms: row.parse_ms }))
      .execute();
  }

  async forgetFile(path: string): Promise<void> {
    await this.db.deleteFrom("dag_file").where("path", "=", path).execute();
    await this.db.deleteFrom("import_error").where("path", "=", path).execute();
  }

  async setImportError(row: ImportErrorRow): Promise<void> {
    await this.db
      .insertInto("import_error")
      .values(row)
      .onConflict((oc) => oc.column("path").doUpdateSet({ message: row.message, line: row.line, col: row.col, stack: row.stack, created_at: row.created_at }))
      .execute();
  }

  async clearImportError(path: string): Promise<void> {
    await this.db.deleteFrom("import_error").where("path", "=", path).execute();
  }

  async importErrors(): Promise<ImportErrorRow[]> {
    return this.db.selectFrom("import_error").selectAll().orderBy("path").execute();
  }

  /** Pause flags of DAGs whose row changed after `since` (every DAG when `since` is null). The dag table is small: no index needed. */
  async flagsSince(since: number | null): Promise<{ dag_id: string; is_paused: number; updated_at: number }[]> {
    let q = this.db.selectFrom("dag").select(["dag_id", "is_paused", "updated_at"]);
    if (since !== null) q = q.where("updated_at", ">", since);
    return q.execute();
  }

  /** How many DAG files fail to import. */
  async importErrorCount(): Promise<number> {
    const row = await this.db.selectFrom("import_error").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
    return Number(row?.n ?? 0);
  }
}


export function dagSpecOf(row: Pick<DagRow, "spec">): DagSpec {
  return JSON.parse(row.spec) as DagSpec;
}
