import type { DagSpec } from "../core/dagSpec.js";
import type { Store } from "../store/store.js";

/**
 * DAG specs by (dag, version). A version is immutable, so entries never go
 * stale; the scheduler parses each version's JSON once, not once per loop.
 */
export class SpecCache {
  private cache = new Map<string, DagSpec>();

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

  put(spec: DagSpec, versionHash: string): void {
    this.cache.set(`${spec.id}\u0000${versionHash}`, spec);
  }
}
