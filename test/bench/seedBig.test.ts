/**
 * seedBig() on SQLite and PostgreSQL, at a small size: the counts it reports
 * are what is in the database, the rows are coherent (a run's task instances
 * agree with its state, failures propagate, the old version's renamed tasks),
 * DAGs are stored as the parser stores them, and the same options write the
 * same data.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { dagSpecOf } from "../../src/store/dagQueries.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";
import { BIG_DAG_ID, seedBig, type SeedBigResult } from "../helpers/seedBig.js";

const NOW = Date.parse("2026-03-01T12:34:56Z");
const OPTS = { dags: 25, bigRuns: 60, tasksPerDag: 50, runsPerDag: 3, now: NOW };

for (const dialect of DIALECTS) {
  describe(`seedBig on ${dialect}`, () => {
    let store: Store;
    let seeded: SeedBigResult;

    before(async () => {
      store = await freshStore(dialect, "seedbig");
      seeded = await seedBig(store, OPTS);
    });
    after(async () => {
      await store?.close();
    });

    it("writes the DAGs, runs and task instances it reports", async () => {
      const count = async (table: "dag" | "dag_run" | "task_instance") => Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
      assert.equal(await count("dag"), 25);
      assert.equal(seeded.runs, 60 + 24 * 3);
      assert.equal(await count("dag_run"), seeded.runs);
      assert.equal(await count("task_instance"), seeded.taskInstances);
      assert.equal(await store.runs.count({ dagId: BIG_DAG_ID }), 60);
      assert.equal(seeded.bigRuns, 60);
      const big = await store.db.selectFrom("task_instance").select((eb) => eb.fn.countAll<number>().as("n")).where("dag_id", "=", BIG_DAG_ID).executeTakeFirstOrThrow();
      assert.equal(Number(big.n), 60 * 50, "50 task instances per run of big_dag, in both versions");
      // Every DAG is listed as the API lists it, with owners and tags.
      const page = await store.dags.search({ limit: 100, offset: 0 });
      assert.equal(page.total, 25);
      assert.ok(new Set(page.rows.map((r) => r.owner)).size >= 4, "a mix of owners");
      assert.equal(page.rows.filter((r) => r.is_paused === 1).length, 2, "every tenth DAG is paused");
    });

    it("stores big_dag's current spec (50 tasks, fan-in) and its older version", async () => {
      const row = await store.dags.get(BIG_DAG_ID);
      assert.ok(row);
      const spec = dagSpecOf(row);
      assert.equal(spec.tasks.length, 50);
      assert.ok(spec.tasks.some((t) => t.upstream.length >= 3), "fan-in");
      const versions = await store.db.selectFrom("dag_version").select("version_hash").where("dag_id", "=", BIG_DAG_ID).execute();
      assert.equal(versions.length, 2);
      const old = versions.find((v) => v.version_hash !== row.version_hash)!;
      const oldSpec = await store.dags.versionSpec(BIG_DAG_ID, old.version_hash);
      assert.deepEqual(oldSpec!.tasks.filter((t) => t.id.startsWith("alert_legacy")).length, 2);
      const oldRun = (await store.runs.list({ dagId: BIG_DAG_ID })).at(-1)!;
      assert.equal(oldRun.version_hash, old.version_hash, "the oldest runs use the old version");
      const oldTasks = await store.tasks.forRun(oldRun.id);
      assert.ok(oldTasks.some((t) => t.task_id === "alert_legacy_03"));
    });

    it("gives runs coherent states: queued and running at the newest end, failures propagate downstream", async () => {
      const runs = await store.runs.list({ dagId: BIG_DAG_ID });
      assert.equal(runs[0].run_id, seeded.bigNewestRunId);
      assert.equal(runs[0].state, "queued");
      assert.equal(runs[1].state, "running");
      assert.ok(runs.slice(2).every((r) => r.state === "success" || r.state === "failed"));
      assert.ok(runs[0].logical_date < NOW && NOW - runs[0].logical_date < 2 * 3_600_000);
      const queued = await store.tasks.forRun(runs[0].id);
      assert.ok(queued.every((t) => t.state === "none"));
      const running = await store.tasks.forRun(runs[1].id);
      assert.ok(running.some((t) => t.state === "running"));
      assert.ok(running.some((t) => t.state === "none"));
      for (const r of runs.slice(2)) {
        const tis = await store.tasks.forRun(r.id);
        const failed = tis.filter((t) => t.state === "failed");
        assert.equal(failed.length, r.state === "failed" ? 1 : 0, `run ${r.run_id} (${r.state})`);
        assert.ok(r.end_date! >= r.start_date!, "a finished run ends after it starts");
        if (r.state === "failed" && failed[0].task_id.startsWith("extract")) assert.ok(tis.some((t) => t.state === "upstream_failed"));
        for (const t of tis) {
          if (t.state === "success" || t.state === "failed") assert.ok(t.end_date! >= t.start_date! && t.try_number >= 1);
        }
      }
      assert.ok(seeded.bigRunStates.failed >= 1 && seeded.bigRunStates.success > seeded.bigRunStates.failed, JSON.stringify(seeded.bigRunStates));
    });

    it("records the tries of finished task instances, earlier tries failed and the last one as the instance ended", async () => {
      const tries = Number((await store.db.selectFrom("task_try").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
      assert.equal(tries, seeded.taskTries);
      const expected = await store.db
        .selectFrom("task_instance")
        .select((eb) => eb.fn.sum<number>("try_number").as("n"))
        .where("state", "in", ["success", "failed"])
        .executeTakeFirstOrThrow();
      assert.equal(tries, Number(expected.n), "one row per try of every finished instance (the newest 200 big_dag runs cover all 60 here)");
      const retried = await store.db.selectFrom("task_instance").selectAll().where("try_number", "=", 2).where("state", "=", "success").executeTakeFirst();
      assert.ok(retried, "some task succeeded on its second try");
      const list = await store.tasks.tries(retried.id);
      assert.deepEqual(list.map((t) => [t.try_number, t.state]), [[1, "failed"], [2, "success"]]);
      assert.equal(list[1].end_date, retried.end_date);
      assert.ok(list[0].end_date! <= list[1].start_date!);
    });

    it("writes the same data for the same options", async () => {
      const again = await freshStore(dialect, "seedbig2");
      try {
        const second = await seedBig(again, OPTS);
        assert.deepEqual({ ...second, seconds: null }, { ...seeded, seconds: null });
        const states = (s: Store) =>
          s.db.selectFrom("task_instance").select(["run_id", "task_id", "state", "start_date"]).where("dag_id", "=", BIG_DAG_ID).orderBy("run_id").orderBy("task_id").execute();
        assert.deepEqual(await states(again), await states(store));
      } finally {
        await again.close();
      }
    });
  });
}
