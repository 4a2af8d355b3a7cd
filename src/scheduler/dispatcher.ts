import type { Logger } from "pino";
import type { Executor } from "../executors/executor.js";
import type { Store } from "../store/store.js";
import type { SpecCache } from "./specCache.js";

/**
 * Moves scheduled task instances to queued and hands them to the executor,
 * highest priority first, within every limit: executor slots, global
 * parallelism, each DAG's max active tasks and each pool's slots.
 * The scheduled -> queued compare-and-set bumps the try number, so a task
 * instance can be dispatched only once per try even with several schedulers.
 */
export class Dispatcher {
  constructor(
    private readonly store: Store,
    private readonly executor: Executor,
    private readonly specs: SpecCache,
    private readonly opts: { parallelism: number; jobId: () => number | undefined },
    private readonly log: Logger,
  ) {}

  async dispatch(now: number): Promise<number> {
    let free = this.executor.freeSlots();
    if (free <= 0) return 0;
    const counts = await this.store.tasks.activeCounts();
    free = Math.min(free, this.opts.parallelism - counts.total);
    if (free <= 0) return 0;
    const pools = new Map((await this.store.pools.list()).map((p) => [p.name, p.slots]));
    const dagLimits = new Map<string, number>();
    const runVersions = new Map<number, string>();
    const versionOf = async (runPk: number): Promise<string> => {
      let v = runVersions.get(runPk);
      if (v === undefined) {
        v = (await this.store.runs.byPk(runPk))?.version_hash ?? "";
        runVersions.set(runPk, v);
      }
      return v;
    };
    let launched = 0;
    const pageSize = free * 4 + 32;
    let after: { priority_weight: number; id: number } | undefined;
    // Page on until the free slots are used: the top of the queue may all belong
    // to a DAG or pool at its limit, and must not starve what is below it.
    for (let page = 0; launched < free && page < 50; page++) {
      const candidates = await this.store.tasks.dispatchable(pageSize, after);
      if (candidates.length === 0) break;
      after = candidates[candidates.length - 1];
      for (const ti of candidates) {
        if (launched >= free) break;
        let limit = dagLimits.get(ti.dag_id);
        if (limit === undefined) {
          limit = (await this.specs.get(ti.dag_id, await versionOf(ti.run_pk)))?.maxActiveTasks ?? 16;
          dagLimits.set(ti.dag_id, limit);
        }
        const dagActive = counts.byDag.get(ti.dag_id) ?? 0;
        if (dagActive >= limit) continue;
        const poolSlots = pools.get(ti.pool);
        if (poolSlots === undefined) {
          await this.failMissingPool(ti.id, ti.try_number, ti.pool, now);
          continue;
        }
        const poolUsed = counts.byPool.get(ti.pool) ?? 0;
        if (poolUsed + ti.pool_slots > poolSlots) continue;
        const tryNumber = ti.try_number + 1;
        const ok = await this.store.tasks.cas(
          ti.id,
          ["scheduled"],
          { state: "queued", try_number: tryNumber, queued_at: now, owner_job: this.opts.jobId() ?? null, hostname: null, pid: null, heartbeat_at: null, updated_at: now },
          ti.try_number,
        );
        if (!ok) continue;
        counts.byDag.set(ti.dag_id, dagActive + 1);
        counts.byPool.set(ti.pool, poolUsed + ti.pool_slots);
        const task = (await this.specs.get(ti.dag_id, await versionOf(ti.run_pk)))?.tasks.find((t) => t.id === ti.task_id);
        this.executor.launch({
          tiId: ti.id,
          tryNumber,
          runPk: ti.run_pk,
          timeoutMs: task?.timeoutMs,
          policy: task ?? { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 },
        });
        launched++;
      }
      if (candidates.length < pageSize) break;
    }
    return launched;
  }

  /** A task naming a pool that does not exist can never run: fail it with the fix. */
  private async failMissingPool(tiId: number, tryNumber: number, pool: string, now: number): Promise<void> {
    const ok = await this.store.tasks.cas(tiId, ["scheduled"], { state: "failed", end_date: now, error: `Pool "${pool}" does not exist. Create it (sluice pools set ${pool} <slots>) or use another pool.`, updated_at: now }, tryNumber);
    if (ok) this.log.warn({ tiId, pool }, "task names a missing pool");
  }
}
