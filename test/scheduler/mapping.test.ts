/**
 * Dynamic task mapping against the real store, on SQLite and PostgreSQL: a
 * mapped task expands to one instance per element of its upstream's list,
 * each instance is dispatched, retried and limited on its own, the reduce
 * waits for all (trigger rules see every instance), bad and empty lists end
 * the task clearly, and a clear re-expands. The last block runs real DAG
 * files with the in-process executor: items reach the instances, results
 * reach the reduce in map index order, shell instances get SLUICE_MAP_ITEM.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { clearTasks } from "../../src/runs/clearTasks.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag, type DagBuilder } from "../../src/sdk/dag.js";
import type { TaskInstanceRow } from "../../src/store/taskQueries.js";
import { DIALECTS } from "../helpers/db.js";
import { harness, putDag, realDags, type Harness } from "./helpers.js";

/** Instances of one task of a run, by map index. */
async function instances(h: Harness, runPk: number, taskId: string): Promise<TaskInstanceRow[]> {
  return (await h.store.tasks.forRun(runPk)).filter((t) => t.task_id === taskId).sort((a, b) => a.map_index - b.map_index);
}

/** source -> mapped "work" -> "reduce", with the mapped task's options. */
function mapDag(id: string, workOpts: Record<string, unknown> = {}, reduceRule: "all_success" | "all_done" = "all_success", more?: (d: DagBuilder<any>) => void) {
  return dag({ id, schedule: null, retryDelay: 0 }, (d) => {
    const source = d.task("source", async () => [1, 2, 3]);
    const work = d.task("work", async (_c, { item }) => item * 2, { expand: source, ...workOpts });
    d.task("reduce", async (_c, { work }) => work.length, { upstream: [work], triggerRule: reduceRule });
    more?.(d);
  });
}

for (const dialect of DIALECTS) describe(`mapped tasks (${dialect})`, () => {
  const opened: Harness[] = [];
  const open = async (o: Parameters<typeof harness>[1] = {}) => {
    const h = await harness(dialect, o);
    opened.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of opened.splice(0)) await h.close();
  });

  /** Trigger `d` and finish its source with `list` as its result; returns the run's pk. */
  async function runWithList(h: Harness, d: ReturnType<typeof mapDag>, list: unknown): Promise<number> {
    await putDag(h.store, d, h.clock.t);
    const run = await triggerRun(h.store, d.id, { now: h.clock.t });
    const before = h.exec.launches.length;
    await h.tick(1_000);
    assert.deepEqual((await h.launchedTasks()).slice(before), ["source"]);
    await h.finishTask(run.id, "source", { kind: "success", result: JSON.stringify(list) });
    await h.tick();
    return run.id;
  }

  it("expands to one instance per element, each dispatched; the reduce waits for all of them", async () => {
    const h = await open({ maxMapLength: 100 });
    const pk = await runWithList(h, mapDag("m_basic"), ["a", "b", "c", "d"]);
    const work = await instances(h, pk, "work");
    assert.deepEqual(work.map((t) => t.map_index), [0, 1, 2, 3]);
    assert.deepEqual((await h.launchedTasks()).slice(1).sort(), ["work", "work", "work", "work"]);
    const [first, ...rest] = h.exec.heldIds();
    await h.exec.finish(first, "success", h.clock.t);
    await h.tick();
    assert.equal((await instances(h, pk, "reduce"))[0].state, "none", "the reduce must wait for every instance");
    for (const id of rest) await h.exec.finish(id, "success", h.clock.t);
    await h.tick();
    assert.equal((await instances(h, pk, "reduce"))[0].state, "queued");
  });

  it("retries a failed instance on its own, leaving its siblings alone", async () => {
    const h = await open();
    const pk = await runWithList(h, mapDag("m_retry", { retries: 1 }), [10, 20]);
    const [i0, i1] = await instances(h, pk, "work");
    await h.exec.finish(i0.id, "success", h.clock.t);
    assert.equal(await h.exec.finish(i1.id, "failed", h.clock.t), "up_for_retry");
    await h.tick(1_000);
    const after = await instances(h, pk, "work");
    assert.deepEqual(after.map((t) => [t.map_index, t.state, t.try_number]), [[0, "success", 1], [1, "queued", 2]]);
    await h.exec.finish(i1.id, "success", h.clock.t);
    await h.tick();
    assert.equal((await instances(h, pk, "reduce"))[0].state, "queued");
  });

  it("one failed instance makes an all_success reduce upstream_failed but lets an all_done reduce run", async () => {
    for (const [rule, expected] of [["all_success", "upstream_failed"], ["all_done", "queued"]] as const) {
      const h = await open();
      const pk = await runWithList(h, mapDag(`m_rule_${rule}`, {}, rule), [1, 2, 3]);
      const ids = h.exec.heldIds();
      await h.exec.finish(ids[0], "failed", h.clock.t);
      await h.exec.finish(ids[1], "success", h.clock.t);
      await h.exec.finish(ids[2], "success", h.clock.t);
      await h.tick();
      assert.equal((await instances(h, pk, "reduce"))[0].state, expected, rule);
    }
  });

  it("an empty list skips the mapped task and an all_success downstream; the run succeeds", async () => {
    const h = await open();
    const pk = await runWithList(h, mapDag("m_empty"), []);
    await h.tick();
    const work = await instances(h, pk, "work");
    assert.deepEqual(work.map((t) => [t.map_index, t.state]), [[-1, "skipped"]]);
    assert.equal((await instances(h, pk, "reduce"))[0].state, "skipped");
    assert.equal((await h.store.runs.byPk(pk))?.state, "success");
  });

  it("a result that is not a list, or longer than the maximum, fails the task with the reason and the fix", async () => {
    const h = await open({ maxMapLength: 3 });
    const notList = await runWithList(h, mapDag("m_notlist"), { rows: 3 });
    const [w] = await instances(h, notList, "work");
    assert.equal(w.state, "failed");
    assert.match(w.error ?? "", /"source" returned an object, not a list/);
    await h.tick();
    assert.equal((await instances(h, notList, "reduce"))[0].state, "upstream_failed");
    assert.equal((await h.store.runs.byPk(notList))?.state, "failed");

    const tooLong = await runWithList(h, mapDag("m_toolong"), [1, 2, 3, 4, 5]);
    const [t] = await instances(h, tooLong, "work");
    assert.equal(t.state, "failed");
    assert.match(t.error ?? "", /returned 5 elements, more than the maximum of 3.*maxMapLength/s);

    // The task's own maximum wins over the scheduler's.
    const own = await runWithList(h, mapDag("m_ownmax", { maxMapLength: 5 }), [1, 2, 3, 4, 5]);
    assert.equal((await instances(h, own, "work")).length, 5);
  });

  it("maxActiveMapped caps the instances of one run running at once", async () => {
    const h = await open();
    const pk = await runWithList(h, mapDag("m_cap", { maxActiveMapped: 2 }), [1, 2, 3, 4, 5]);
    assert.equal(h.exec.heldIds().length, 2, "two instances at a time");
    await h.exec.finish(h.exec.heldIds()[0], "success", h.clock.t);
    await h.tick();
    assert.equal(h.exec.heldIds().length, 2, "a finished instance makes room for exactly one more");
    while (h.exec.heldIds().length > 0) {
      assert.ok(h.exec.heldIds().length <= 2);
      for (const id of h.exec.heldIds()) await h.exec.finish(id, "success", h.clock.t);
      await h.tick();
    }
    const work = await instances(h, pk, "work");
    assert.deepEqual(work.map((t) => t.state), ["success", "success", "success", "success", "success"]);
  });

  it("clearing the source with its downstream re-expands to the new list's length", async () => {
    const h = await open();
    const pk = await runWithList(h, mapDag("m_clear"), [1, 2, 3, 4]);
    for (const id of h.exec.heldIds()) await h.exec.finish(id, "success", h.clock.t);
    await h.tick();
    await h.finishTask(pk, "reduce", "success");
    await h.tick();
    assert.equal((await h.store.runs.byPk(pk))?.state, "success");

    const run = (await h.store.runs.byPk(pk))!;
    const spec = (await h.store.dags.versionSpec(run.dag_id, run.version_hash))!;
    await clearTasks(h.store, run, spec, { taskIds: ["source"], downstream: true, now: h.clock.t });
    await h.tick(1_000);
    await h.finishTask(pk, "source", { kind: "success", result: JSON.stringify([7, 8]) });
    await h.tick();
    const work = await instances(h, pk, "work");
    assert.deepEqual(work.map((t) => [t.map_index, t.state]), [[0, "queued"], [1, "queued"]]);
  });
});

for (const dialect of DIALECTS) describe(`mapped tasks running real code (${dialect})`, () => {
  it("items reach the instances, results reach the reduce in map index order; map over map; shell instances get SLUICE_MAP_ITEM", { timeout: 60_000 }, async () => {
    const h = await realDags(dialect, "mapcode", {
      "mapped.ts": `import { dag } from "sluice";
export default dag({ id: "mapped_code", schedule: null, retryDelay: 0 }, (d) => {
  const parts = d.task("parts", async () => [{ n: 5 }, { n: 1 }, { n: 3 }, { n: 2 }, { n: 4 }]);
  const squared = d.task("squared", async (ctx, { item }) => {
    // Instances finish out of order; the reduce must still see map index order.
    await new Promise((r) => setTimeout(r, item.n * 15));
    if (ctx.mapIndex === 2 && ctx.tryNumber === 1) throw new Error("index 2 fails once");
    return { index: ctx.mapIndex, sq: item.n * item.n };
  }, { expand: parts, retries: 1 });
  const plusOne = d.task("plus_one", async (_c, { item }) => item.sq + 1, { expand: squared });
  const echo = d.shell("echo", 'echo "item=$SLUICE_MAP_ITEM index=$SLUICE_MAP_INDEX"', { expand: parts });
  d.task("reduce", async (_c, { squared, plus_one, echo }) => ({ squared, plusOne: plus_one, echo }), { upstream: [squared, plusOne, echo] });
});
`,
    });
    try {
      const { store } = h;
      const run = await triggerRun(store, "mapped_code");
      const state = (await h.runUntilFinished(1)).get(run.run_id);
      assert.equal(state, "success");
      const tis = await store.tasks.forRun(run.id);
      const reduce = tis.find((t) => t.task_id === "reduce")!;
      const result = JSON.parse(reduce.result!);
      assert.deepEqual(result.squared, [0, 1, 2, 3, 4].map((i) => ({ index: i, sq: [25, 1, 9, 4, 16][i] })));
      assert.deepEqual(result.plusOne, [26, 2, 10, 5, 17]);
      assert.deepEqual(result.echo, [5, 1, 3, 2, 4].map((n, i) => `item={"n":${n}} index=${i}`));
      const sq2 = tis.find((t) => t.task_id === "squared" && t.map_index === 2)!;
      assert.equal(sq2.try_number, 2, "only the failing instance was retried");
      assert.deepEqual(tis.filter((t) => t.task_id === "squared" && t.map_index !== 2).map((t) => t.try_number), [1, 1, 1, 1]);
      const logs = await store.logs.read(sq2.id, 1);
      assert.ok(logs.some((l) => /index 2 fails once/.test(l.line)), "each instance has its own log");
    } finally {
      await h.close();
    }
  });
});
