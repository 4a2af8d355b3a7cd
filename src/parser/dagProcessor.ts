import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { dagVersionHash, type DagSpec } from "../core/dagSpec.js";
import type { Store } from "../store/store.js";
import type { ParseFailure } from "./loadDagFile.js";
import type { ParserPool } from "./parserPool.js";

const DAG_FILE = /\.(ts|mts|js|mjs)$/;
const SKIP_DIR = new Set(["node_modules", ".git", ".sluice"]);
/** Files whose results are written per transaction. */
const WRITE_BATCH = 50;
/**
 * Mixed into every content hash. Bump it when a parse starts storing
 * something new, so an upgraded Sluice re-parses each file once instead of
 * trusting results stored by the older code. "2": DAG sources and dataset refs.
 */
const PARSE_FORMAT = "sluice-parse-2";
/** Files larger than this keep no source text (the version hash still covers their whole text). */
export const MAX_SOURCE_BYTES = 1_048_576;

export interface ScanSummary {
  files: number;
  parsed: number;
  unchanged: number;
  errors: number;
  dags: number;
  removedFiles: number;
  ms: number;
}

/** Every DAG file under `folder` (recursive), skipping node_modules, dotfiles, *.d.ts and files starting with "_". */
export async function listDagFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && dir !== folder) return;
      throw err;
    }
    for (const e of entries) {
      if (e.name.startsWith(".") || e.name.startsWith("_")) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIR.has(e.name)) await walk(p);
      } else if (DAG_FILE.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
    }
  }
  await walk(folder);
  return out.sort();
}

/**
 * Keeps the store in step with a DAG folder: parses new and changed files
 * (content hash), records import errors, stores each DAG's structure with its
 * version hash, and deactivates DAGs whose file disappeared. A file that fails
 * to import keeps its DAGs' last good version active.
 */
export class DagProcessor {
  constructor(
    private readonly store: Store,
    private readonly pool: ParserPool,
    private readonly folder: string,
    private readonly opts: {
      pauseNewDags?: boolean;
      now?: () => number;
      /**
       * The folder is commit `sha` of git bundle `name`: file paths are stored as
       * "@<name>/<path>", each DAG that imports records the commit, and the whole
       * scan is written in one transaction (a commit is published all at once).
       */
      bundle?: { name: string; sha: string };
    } = {},
  ) {}

  /** "@<bundle>/" for a bundle's files, "" for the local DAG folder. */
  private get prefix(): string {
    return this.opts.bundle ? `@${this.opts.bundle.name}/` : "";
  }

  /** Whether a stored file path belongs to this processor's folder (bundles and the local folder share the table). */
  private owns(path: string): boolean {
    return this.opts.bundle ? path.startsWith(this.prefix) : !path.startsWith("@");
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** path -> hash, with the size and mtime it was computed at: an untouched file is not read again. */
  private hashes = new Map<string, { stamp: string; hash: string }>();

  /** The file's content hash, and its text when it had to be read (a new or touched file). */
  private async contentHash(abs: string): Promise<{ hash: string; text?: Buffer }> {
    const st = await stat(abs);
    const stamp = `${st.size}:${st.mtimeMs}`;
    const known = this.hashes.get(abs);
    if (known?.stamp === stamp) return { hash: known.hash };
    const text = await readFile(abs);
    const hash = hashText(text);
    this.hashes.set(abs, { stamp, hash });
    return { hash, text };
  }

  async scan(opts: { force?: boolean } = {}): Promise<ScanSummary> {
    const t0 = performance.now();
    const summary: ScanSummary = { files: 0, parsed: 0, unchanged: 0, errors: 0, dags: 0, removedFiles: 0, ms: 0 };
    const paths = await listDagFiles(this.folder);
    summary.files = paths.length;
    const known = new Map((await this.store.dags.files()).filter((f) => this.owns(f.path)).map((f) => [f.path, f]));
    const present = new Set<string>();
    const changed: { abs: string; rel: string; hash: string; source: string }[] = [];
    await Promise.all(
      paths.map(async (abs) => {
        const rel = this.prefix + relative(this.folder, abs);
        present.add(rel);
        let hash: string;
        let text: Buffer | undefined;
        try {
          ({ hash, text } = await this.contentHash(abs));
          if (!opts.force && known.get(rel)?.content_hash === hash) {
            summary.unchanged++;
            return;
          }
          // Changed but not read this scan (a forced scan, a retried transient failure):
          // read it now, and hash what was read, so the stored source and hash agree.
          if (!text) {
            text = await readFile(abs);
            hash = hashText(text);
          }
        } catch {
          return; // deleted between listing and reading: the next scan sees it gone
        }
        changed.push({ abs, rel, hash, source: text.toString("utf8") });
      }),
    );

    // Which file owns each DAG id now (to refuse a second file that declares the same id).
    const owner = new Map<string, string>();
    for (const f of known.values()) for (const id of JSON.parse(f.dag_ids) as string[]) owner.set(id, f.path);

    const results = await Promise.all(
      changed.map(async (f) => {
        const r = await this.pool.parse(f.abs, this.folder, f.hash);
        if (r.ok) for (const spec of r.specs) spec.fileloc = this.prefix + spec.fileloc;
        else if (this.opts.bundle) {
          r.error = { ...r.error, message: `${r.error.message} (commit ${this.opts.bundle.sha.slice(0, 12)} of bundle ${this.opts.bundle.name})`, location: r.error.location && { ...r.error.location, file: this.prefix + r.error.location.file } };
        }
        return { f, r };
      }),
    );
    // A changed file gives up the ids it no longer declares before any file claims them (a DAG moved to another file).
    for (const { f, r } of results) if (r.ok) for (const [id, path] of owner) if (path === f.rel && !r.specs.some((s) => s.id === id)) owner.delete(id);
    // A DAG whose id another file has claimed must not be deactivated on behalf of its old file (a renamed file).
    const ownedElsewhere = (id: string, path: string) => owner.has(id) && owner.get(id) !== path;
    const sorted = results.sort((a, b) => a.f.rel.localeCompare(b.f.rel));
    // Written in batches, one transaction each: one commit per batch instead of
    // several per file (on PostgreSQL each commit waits for a disk flush).
    const batch = this.opts.bundle ? Math.max(1, sorted.length) : WRITE_BATCH;
    for (let i = 0; i < sorted.length; i += batch) {
      await this.store.transaction(async (tx) => {
        for (const { f, r } of sorted.slice(i, i + batch)) {
          summary.parsed++;
          const previousIds = known.get(f.rel)?.dag_ids;
          if (!r.ok) {
            summary.errors++;
            // A transient failure is stored without the content hash, so the next scan tries the file again.
            await this.recordError(tx, f.rel, r.error.transient ? "" : f.hash, r.error, previousIds);
            continue;
          }
          const clash = r.specs.find((s) => owner.has(s.id) && owner.get(s.id) !== f.rel && present.has(owner.get(s.id)!));
          if (clash) {
            summary.errors++;
            // No content hash: check again next scan, when the other file may be gone.
            await this.recordError(tx, f.rel, "", { message: `DAG id "${clash.id}" is already declared in ${owner.get(clash.id)}; rename one of them.`, location: { file: f.rel } }, previousIds);
            continue;
          }
          await this.recordSuccess(tx, f.rel, f.hash, f.source, r.specs, previousIds, (id) => ownedElsewhere(id, f.rel));
          for (const s of r.specs) owner.set(s.id, f.rel);
          summary.dags += r.specs.length;
        }
      });
    }
    if (changed.length > 0) await this.pool.stop();

    for (const [path, row] of known) {
      if (present.has(path)) continue;
      await this.store.dags.deactivate((JSON.parse(row.dag_ids) as string[]).filter((id) => !ownedElsewhere(id, path)), this.now());
      await this.store.dags.forgetFile(path);
      summary.removedFiles++;
    }
    const listed = new Set(paths);
    for (const p of this.hashes.keys()) if (!listed.has(p)) this.hashes.delete(p);
    summary.ms = Math.round(performance.now() - t0);
    return summary;
  }

  private async recordError(store: Store, rel: string, hash: string, error: ParseFailure, previousIds: string | undefined): Promise<void> {
    const now = this.now();
    await store.dags.setImportError({
      path: rel,
      message: error.message,
      line: error.location?.line ?? null,
      col: error.location?.column ?? null,
      stack: error.stack ?? null,
      created_at: now,
    });
    // Remember the hash so an unchanged broken file is not re-imported every scan,
    // but keep the DAG ids of the last good parse: those DAGs stay active.
    await store.dags.recordFile({ path: rel, content_hash: hash, dag_ids: previousIds ?? "[]", parsed_at: now, parse_ms: 0 });
  }

  private async recordSuccess(
    store: Store,
    rel: string,
    hash: string,
    source: string,
    specs: DagSpec[],
    previousIds: string | undefined,
    ownedElsewhere: (id: string) => boolean,
  ): Promise<void> {
    const now = this.now();
    // The file's text is part of each of its DAGs' versions: a run's version then names the
    // exact code it was created with (an edit to a task body is a new version, not only a
    // structural change). Every DAG of a multi-DAG file gets a new version when the file changes.
    const stored = Buffer.byteLength(source) <= MAX_SOURCE_BYTES ? source : null;
    for (const spec of specs) await store.dags.upsert(spec, dagVersionHash(spec, source), now, this.opts.pauseNewDags ?? false, stored, this.opts.bundle?.sha ?? null);
    const ids = specs.map((s) => s.id);
    const gone = (previousIds ? (JSON.parse(previousIds) as string[]) : []).filter((id) => !ids.includes(id) && !ownedElsewhere(id));
    await store.dags.deactivate(gone, now);
    await store.dags.clearImportError(rel);
    await store.dags.recordFile({ path: rel, content_hash: hash, dag_ids: JSON.stringify(ids), parsed_at: now, parse_ms: 0 });
  }
}

function hashText(text: Buffer): string {
  return createHash("sha256").update(PARSE_FORMAT).update("\u0000").update(text).digest("hex").slice(0, 16);
}
