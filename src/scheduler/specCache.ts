import { downstreamMap, type DagSpec } from "../core/dagSpec.js";
import type { Store } from "../store/store.js";

/**
 * DAG specs by (dag, version). A version is immutable, so entries never go
 * stale; the scheduler parses each version's JSON once, not once per loop.
 */
export class SpecCache {
  private cache = new Map<string, DagSpec>();
  private downstream = new Map<string, Map<string, string[]>>();
  /**
   * A run's DAG version changes only on "rerun on latest", which clears its
   * tasks: the scheduler re-reads the run before scheduling them (noteRun),
   * so the cached version is refreshed before any of them is dispatched.
   */
  private runVersions = new Map<number, string>();

  constructor(private readonly store: Store) {}

  async get(dagId: string, versionHash: string): Promise<DagSpec | undefined> {
    const key = `${dagId}\u0000${versionHash}`;
    let spec = this.cache.get(key);
    if (!spec) {
      spec = await this.store.dags.versionSpec(dagId, versionHash);
      if (spec) this.cache.set(key, spec);
    }
    return spec;
  }

  /** Task id -> ids of the tasks that depend on it, for one version. */
  async downstreamOf(dagId: string, versionHash: string): Promise<Map<string, string[]> | undefined> {
    const key = `${dagId}\u0000${versionHash}`;
    let m = this.downstream.get(key);
    if (!m) {
      const spec = await this.get(dagId, versionHash);
      if (!spec) return undefined;
      m = downstreamMap(spec);
      this.downstream.set(key, m);
    }
    return m;
  }

  /** Record a run's version as just read from the store. */
  noteRun(runPk: number, versionHash: string): void {
    if (this.runVersions.get(runPk) !== versionHash) {
      if (this.runVersions.size >= 50_000) this.runVersions.clear();
      this.runVersions.set(runPk, versionHash);
    }
  }

  async runVersion(runPk: number): Promise<string | undefined> {
    let v = this.runVersions.get(runPk);
    if (v === undefined) {
      v = (await this.store.runs.byPk(runPk))?.version_hash;
      if (v === undefined) return undefined;
      // Bounded: old runs fall out and are looked up again if ever needed.
      if (this.runVersions.size >= 50_000) this.runVersions.clear();
      this.runVersions.set(runPk, v);
    }
    return v;
  }
}
