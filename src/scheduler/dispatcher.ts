import type { Logger } from "pino";
import type { Executor, LaunchRequest } from "../executors/executor.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";
import type { SpecCache } from "./specCache.js";

/**
 * Moves scheduled task instances to queued and hands them to the executor,
 * highest priority first, within every limit: executor slots, global
 * parallelism, each DAG's max active tasks and each pool's slots.
 * The scheduled -> queued compare-and-set bumps the try number in the same
 * statement, so a task instance is dispatched once per try even with several
 * schedulers racing for it.
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
    const free = this.executor.freeSlots();
    if (free <= 0) return 0;
    // Decide and queue under the dispatch lock (several schedulers on one PostgreSQL must not
    // both take the last slot of a pool); hand to the executor only after the commit.
    const launches = await this.store.exclusive("dispatch", (tx) => this.pick(tx, free, now));
    for (const l of launches) this.executor.launch(l);
    return launches.length;
  }

  private async pick(store: Store, executorFree: number, now: number): Promise<LaunchRequest[]> {
    let free = executorFree;
    const counts = await store.tasks.activeCounts();
    free = Math.min(free, this.opts.parallelism - counts.total);
    if (free <= 0) return [];
    const pools = await this.poolSlots(now);
    const dagLimits = new Map<string, number>();
    /** Active instances of mapped tasks with a maxActiveMapped limit, by run and task. */
    const mappedActive = new Map<string, number>();
    const versionOf = async (runPk: number): Promise<string> => (await this.specs.runVersion(runPk)) ?? "";
    const picks: TaskInstanceRow[] = [];
    const pageSize = free * 4 + 32;
    let after: { priority_weight: number; id: number } | undefined;
    // Page on until the free slots are used: the top of the queue may all belong
    // to a DAG or pool at its limit, and must not starve what is below it.
    for (let page = 0; picks.length < free && page < 50; page++) {
      const candidates = await store.tasks.dispatchable(pageSize, after);
      if (candidates.length === 0) break;
      after = candidates[candidates.length - 1];
      for (const ti of candidates) {
        if (picks.length >= free) break;
        let limit = dagLimits.get(ti.dag_id);
        if (limit === undefined) {
          limit = (await this.specs.get(ti.dag_id, await versionOf(ti.run_pk)))?.maxActiveTasks ?? 16;
          dagLimits.set(ti.dag_id, limit);
        }
        const dagActive = counts.byDag.get(ti.dag_id) ?? 0;
        if (dagActive >= limit) continue;
        const poolSlots = pools.get(ti.pool);
        if (poolSlots === undefined) {
          await this.failMissingPool(store, ti.id, ti.try_number, ti.pool, now);
          continue;
        }
        const poolUsed = counts.byPool.get(ti.pool) ?? 0;
        if (poolUsed + ti.pool_slots > poolSlots) continue;
        if (ti.map_index >= 0) {
          const maxActive = (await this.specs.get(ti.dag_id, await versionOf(ti.run_pk)))?.tasks.find((t) => t.id === ti.task_id)?.expand?.maxActive;
          if (maxActive !== undefined) {
            const key = `${ti.run_pk}/${ti.task_id}`;
            const active = mappedActive.get(key) ?? (await store.mapped.activeCount(ti.run_pk, ti.task_id));
            if (active >= maxActive) {
              mappedActive.set(key, active);
              continue;
            }
            mappedActive.set(key, active + 1);
          }
        }
        counts.byDag.set(ti.dag_id, dagActive + 1);
        counts.byPool.set(ti.pool, poolUsed + ti.pool_slots);
        picks.push(ti);
      }
      if (candidates.length < pageSize) break;
    }
    if (picks.length === 0) return [];
    // One statement (one commit) queues the whole batch; an instance another
    // scheduler took in the meantime is simply not returned.
    const queued = await store.tasks.queueMany(
      picks.map((t) => t.id),
      now,
      this.opts.jobId() ?? null,
    );
    const byId = new Map(picks.map((t) => [t.id, t]));
    const launches: LaunchRequest[] = [];
    for (const q of queued.sort((a, b) => picks.indexOf(byId.get(a.id)!) - picks.indexOf(byId.get(b.id)!))) {
      const ti = byId.get(q.id)!;
      const task = (await this.specs.get(ti.dag_id, await versionOf(ti.run_pk)))?.tasks.find((t) => t.id === ti.task_id);
      launches.push({
        tiId: ti.id,
        tryNumber: q.try_number,
        runPk: ti.run_pk,
        taskId: ti.task_id,
        timeoutMs: task?.timeoutMs,
        policy: task ?? { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 },
      });
    }
    return launches;
  }

  private pools: { at: number; slots: Map<string, number> } | undefined;

  /** Pool sizes, re-read at most once a second: a resize (sluice pools set) applies within that. */
  private async poolSlots(now: number): Promise<Map<string, number>> {
    if (!this.pools || now - this.pools.at >= 1000 || now < this.pools.at) {
      this.pools = { at: now, slots: new Map((await this.store.pools.list()).map((p) => [p.name, p.slots])) };
    }
    return this.pools.slots;
  }

  /** A task naming a pool that does not exist can never run: fail it with the fix. */
  private async failMissingPool(store: Store, tiId: number, tryNumber: number, pool: string, now: number): Promise<void> {
    const ok = await store.tasks.cas(tiId, ["scheduled"], { state: "failed", end_date: now, error: `Pool "${pool}" does not exist. Create it (sluice pools set ${pool} <slots>) or use another pool.`, updated_at: now }, tryNumber);
    if (ok) this.log.warn({ tiId, pool }, "task names a missing pool");
  }
}
