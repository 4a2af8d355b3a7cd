/**
 * Keeps each git bundle's DAGs at the branch's newest good commit, with no
 * restart: fetch (every refresh period, or at once when a webhook, the API or
 * the CLI asks), check the new commit out into its own directory, import every
 * DAG file there (the same checks as `sluice dags check`), and publish the
 * result in one transaction. A file that fails to import does not replace its
 * DAGs: they stay on the commit they were last good at, and the error is
 * recorded (import errors, the commit's outcome) and reported through
 * `onProblem` (alerts). Directories of commits nothing needs any more are
 * removed.
 *
 * Two schedulers on one database take turns through a lease on the bundle's
 * row; a webhook arriving during a sync leaves a request the next tick sees.
 */
import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { describeError } from "../core/errors.js";
import { DagProcessor } from "../parser/dagProcessor.js";
import { ParserPool } from "../parser/parserPool.js";
import type { Store } from "../store/store.js";
import { branchHead, ensureVersion, publishCurrent, repoDir, updateRepo, versionsDir, type BundleSettings } from "./checkout.js";
import { commitInfo } from "./git.js";

/** A sync that did not publish everything: the fetch/checkout failed, or some DAG files of the commit did not import. */
export interface BundleProblem {
  bundle: string;
  sha: string | null;
  kind: "sync_failed" | "import_errors";
  message: string;
  /** When the sync that found it started. */
  at: number;
}

export interface BundleSyncerOptions {
  store: Store;
  home: string;
  bundles: readonly BundleSettings[];
  parsing: { processes: number; timeoutMs: number };
  log: Logger;
  pauseNewDags?: boolean;
  /** How often the syncer looks for requested or due syncs. */
  tickMs?: number;
  /** A commit was published (the scheduler should look at its DAGs now). */
  onPublished?: (bundle: string, sha: string) => void;
  /** A sync failed, or a commit had import errors: for alerts. */
  /** Awaited (an alert is recorded before the sync answers); its failure is logged, never the sync's. */
  onProblem?: (p: BundleProblem) => void | Promise<void>;
  now?: () => number;
}

export interface SyncResult {
  bundle: string;
  sha: string | null;
  /** "unchanged": the branch is at the published commit; "skipped": a commit already found broken. */
  outcome: "published" | "partial" | "failed" | "unchanged" | "skipped" | "error";
  errors: number;
  dags: number;
  message: string;
}

/** A sync holds the bundle this long before another process may take over (a crashed syncer). */
const LEASE_MS = 10 * 60_000;

export class BundleSyncer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private readonly owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  /** One sync at a time in this process (the lease keeps other processes out; this keeps the loop and sync() apart). */
  private lock: Promise<unknown> = Promise.resolve();

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn);
    this.lock = p.catch(() => {});
    return p;
  }

  constructor(private readonly o: BundleSyncerOptions) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  async start(): Promise<void> {
    await this.o.store.bundles.ensure(this.o.bundles);
    this.stopped = false;
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Look for due or requested syncs now (also what a webhook in this process calls). */
  wake(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    if (this.running) {
      void this.running.then(() => this.wake());
      return;
    }
    this.tick();
  }

  private tick(): void {
    this.running = this.pass()
      .catch((err) => this.o.log.error({ err }, "bundle sync pass failed"))
      .finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.o.tickMs ?? 1000);
      });
  }

  private async pass(): Promise<void> {
    for (const b of this.o.bundles) {
      if (this.stopped) return;
      await this.exclusive(async () => {
        const claim = await this.o.store.bundles.claimSync(b.name, this.owner, this.now(), b.refreshIntervalMs, LEASE_MS);
        if (claim) await this.syncClaimed(b, claim.reason);
      });
    }
  }

  /** Sync one bundle now (the lease must be ours, or taken here); used by the loop, tests and tools (the API and webhook only request a sync). */
  async sync(name: string, reason = "manual"): Promise<SyncResult> {
    const b = this.o.bundles.find((x) => x.name === name);
    if (!b) throw new Error(`no bundle "${name}"`);
    await this.o.store.bundles.ensure([b]);
    return this.exclusive(async () => {
      await this.o.store.bundles.requestSync(name, reason, this.now());
      const claim = await this.o.store.bundles.claimSync(name, this.owner, this.now(), b.refreshIntervalMs, LEASE_MS);
      if (!claim) return { bundle: name, sha: null, outcome: "skipped" as const, errors: 0, dags: 0, message: "another process is syncing this bundle right now" };
      return this.syncClaimed(b, reason);
    });
  }

  private async syncClaimed(b: BundleSettings, reason: string): Promise<SyncResult> {
    const startedAt = this.now();
    const { store, home, log } = this.o;
    let sha: string | null = null;
    // What the previous sync ended with: a failure is reported when it starts (or changes), not on every retry of it.
    const previousError = (await store.bundles.get(b.name))?.last_error ?? null;
    try {
      await updateRepo(home, b, { fetch: true });
      sha = await branchHead(home, b);
      const row = await store.bundles.get(b.name);
      const seen = await store.bundles.commit(b.name, sha);
      if (seen && (row?.published_sha === sha || seen.outcome === "failed")) {
        await store.bundles.finishSync(b.name, this.owner, startedAt, { error: seen.outcome === "failed" ? row?.last_error ?? null : null }, this.now());
        return { bundle: b.name, sha, outcome: seen.outcome === "failed" ? "skipped" : "unchanged", errors: seen.errors, dags: seen.dags, message: `already checked (${seen.outcome})` };
      }
      const info = await commitInfo(repoDir(home, b.name), sha);
      const dir = await ensureVersion(home, b, sha);
      const folder = join(dir, b.subdir);
      if (!existsSync(folder)) throw new Error(`commit ${sha.slice(0, 12)} has no folder "${b.subdir}" (bundles[].subdir); fix the setting or the repository`);
      const pool = new ParserPool(this.o.parsing);
      let summary;
      try {
        summary = await new DagProcessor(store, pool, folder, { bundle: { name: b.name, sha }, pauseNewDags: this.o.pauseNewDags, now: this.o.now }).scan({ force: true });
      } finally {
        await pool.stop();
      }
      const outcome = summary.errors === 0 ? "published" : summary.dags > 0 ? "partial" : "failed";
      await store.bundles.recordCommit({ bundle: b.name, sha, message: info.message, author: info.author, committed_at: info.committedAt, checked_at: this.now(), outcome, errors: summary.errors, dags: summary.dags });
      const problem =
        summary.errors > 0
          ? `${summary.errors} DAG file(s) of commit ${sha.slice(0, 12)} ("${firstLine(info.message)}" by ${info.author}) failed to import; their DAGs stay on the last commit they imported at. See the import errors.`
          : null;
      if (outcome !== "failed") await publishCurrent(home, b.name, sha);
      await store.bundles.finishSync(b.name, this.owner, startedAt, { publishedSha: outcome !== "failed" ? sha : undefined, error: problem }, this.now());
      log.info({ bundle: b.name, sha, reason, outcome, dags: summary.dags, errors: summary.errors }, "bundle synced");
      if (problem) await this.report({ bundle: b.name, sha, kind: "import_errors", message: problem, at: startedAt });
      if (outcome !== "failed") this.o.onPublished?.(b.name, sha);
      await this.collect(b).catch((err) => log.warn({ err, bundle: b.name }, "could not remove old bundle versions"));
      return { bundle: b.name, sha, outcome, errors: summary.errors, dags: summary.dags, message: problem ?? `published ${sha.slice(0, 12)}` };
    } catch (err) {
      const message = `Sync of bundle "${b.name}" (${b.repo}, ${b.branch}) failed: ${describeError(err)}`;
      log.warn({ bundle: b.name, err: describeError(err) }, "bundle sync failed");
      await store.bundles.finishSync(b.name, this.owner, startedAt, { error: message }, this.now()).catch(() => {});
      if (previousError === null || !sameFailure(message, previousError)) await this.report({ bundle: b.name, sha, kind: "sync_failed", message, at: startedAt });
      return { bundle: b.name, sha, outcome: "error", errors: 0, dags: 0, message };
    }
  }

  private async report(p: BundleProblem): Promise<void> {
    try {
      await this.o.onProblem?.(p);
    } catch (err) {
      this.o.log.warn({ err, bundle: p.bundle }, "could not report a bundle problem");
    }
  }

  /** Remove checked-out commits no DAG and no unfinished run needs, keeping the newest `keepVersions` checked ones. */
  async collect(b: BundleSettings): Promise<string[]> {
    const keep = await this.o.store.bundles.commitsInUse(b.name);
    for (const c of await this.o.store.bundles.commits(b.name, b.keepVersions)) keep.add(c.sha);
    const removed: string[] = [];
    const dir = versionsDir(this.o.home, b.name);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{40}$/.test(name) || keep.has(name)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }
}

/**
 * Whether two sync failures are the same outage. Git's messages carry timings
 * ("Failed to connect to host port 443 after 3 ms"), so the numbers in them
 * are ignored: otherwise every retry of one outage would alert again.
 */
export function sameFailure(a: string, b: string): boolean {
  const shape = (s: string) => s.replace(/\d+/g, "#");
  return shape(a) === shape(b);
}

function firstLine(s: string): string {
  const l = s.split("\n")[0];
  return l.length > 72 ? `${l.slice(0, 71)}…` : l;
}
