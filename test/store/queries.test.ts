import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import type { DbTarget } from "../../src/store/db.js";
import { openStore, type Store } from "../../src/store/store.js";
import { DIALECTS } from "../helpers/db.js";
import { dagSpec, makeRun, setState, T0, taskSpec } from "./fixtures/specs.js";
import { targetTracker } from "./fixtures/targets.js";

const targets = targetTracker();
after(() => targets.removeAll());

/** Row counts of the run's children, straight from the tables. */
async function childCounts(store: Store, tiIds: number[]) {
  const count = async (table: "task_instance" | "task_try" | "task_log", col: "id" | "ti_id") =>
    Number(
      (
        await store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where(col, "in", tiIds)
          .executeTakeFirstOrThrow()
      ).n,
    );
  return { instances: await count("task_instance", "id"), tries: await count("task_try", "ti_id"), logs: await count("task_log", "ti_id") };
}

for (const dialect of DIALECTS) {
  describe(`store queries (${dialect})`, () => {
    // `store` is what the tests use; `other` is a second, independent connection
    // (pool) to the same database, standing in for another scheduler process.
    let target: DbTarget;
    let store: Store;
    let other: Store;
    let dagCounter = 0;
    /** A DAG id no other test in this file uses (tests share one database). */
    const uniqueDag = (label: string) => `${label}_${++dagCounter}`;

    /** A database of its own, for queries that look at every row (activeCounts, dispatchable, retryDue). */
    async function isolatedStore(label: string): Promise<Store> {
      const s = await openStore(await targets.fresh(dialect, label), { migrate: true });
      await s.pools.ensureDefault(128);
      return s;
    }

    before(async () => {
      target = await targets.fresh(dialect, "queries");
      store = await openStore(target, { migrate: true });
      await store.pools.ensureDefault(128);
      other = await openStore(target);
    });
    after(async () => {
      await other?.close();
      await store?.close();
    });

    describe("RunQueries.create", () => {
      it("creates the run and one task instance per task, carrying each task's settings", async () => {
        const dagId = uniqueDag("create");
        const tasks = [
          taskSpec("extract", { retries: 2, priorityWeight: 5, pool: "io", poolSlots: 2, queue: "etl" }),
          taskSpec("transform", { upstream: ["extract"] }),
          taskSpec("load", { upstream: ["transform"], retries: 1 }),
        ];
        const run = await store.runs.create({
          dagId,
          runId: "manual__a",
          runType: "manual",
          state: "queued",
          logicalDate: T0,
          intervalStart: T0 - 1000,
          intervalEnd: T0,
          versionHash: "h1",
          conf: { rows: 20000 },
          params: { day: "mon" },
          tasks,
          now: T0 + 5,
        });
        assert.deepEqual(await store.runs.get(dagId, "manual__a"), run);
        assert.equal(run.state, "queued");
        assert.equal(run.start_date, null, "a queued run has not started");
        assert.equal(run.logical_date, T0);
        assert.equal(run.interval_start, T0 - 1000);
        assert.deepEqual(JSON.parse(run.conf), { rows: 20000 });
        assert.deepEqual(JSON.parse(run.params), { day: "mon" });

        const tis = await store.tasks.forRun(run.id);
        assert.deepEqual(
          tis.map((t) => [t.task_id, t.state, t.try_number, t.max_tries, t.priority_weight, t.pool, t.pool_slots, t.queue, t.map_index, t.run_id]),
          [
            ["extract", "none", 0, 3, 5, "io", 2, "etl", -1, "manual__a"],
            ["transform", "none", 0, 1, 1, "default_pool", 1, "default", -1, "manual__a"],
            ["load", "none", 0, 2, 1, "default_pool", 1, "default", -1, "manual__a"],
          ],
        );
        // Visible from another connection: it was committed.
        assert.equal((await other.tasks.forRun(run.id)).length, 3);
      });

      it("is atomic: a task instance that cannot be written leaves no run and no instances behind", async () => {
        const dagId = uniqueDag("atomic");
        // 300 tasks: the bad one is in the second insert batch, after the first batch was written.
        const tasks = Array.from({ length: 300 }, (_, i) => taskSpec(`t${i}`));
        tasks[250] = { ...tasks[250], pool: null as unknown as string };
        await assert.rejects(makeRun(store, dagId, tasks, "manual__bad"));
        assert.equal(await store.runs.get(dagId, "manual__bad"), undefined);
        const left = await store.db.selectFrom("task_instance").select("id").where("dag_id", "=", dagId).execute();
        assert.equal(left.length, 0);
      });

      it("refuses a second run with the same (dag, run id) with RUN_EXISTS and keeps the first", async () => {
        const dagId = uniqueDag("dup");
        const { run } = await makeRun(store, dagId, [taskSpec("a"), taskSpec("b")], "manual__x");
        await assert.rejects(makeRun(other, dagId, [taskSpec("a"), taskSpec("b"), taskSpec("c")], "manual__x"), (err: unknown) => {
          assert.ok(err instanceof SluiceError, String(err));
          assert.equal(err.code, ErrorCode.RunExists);
          assert.match(err.message, new RegExp(`"${dagId}".*"manual__x"`));
          return true;
        });
        const runs = await store.runs.list({ dagId });
        assert.deepEqual(runs.map((r) => r.id), [run.id]);
        assert.deepEqual((await store.tasks.forRun(run.id)).map((t) => t.task_id), ["a", "b"]);
        // The same run id on another DAG is a different run.
        await makeRun(store, uniqueDag("dup_other"), [taskSpec("a")], "manual__x");
      });

      it("two creations of the same run at once: exactly one succeeds, the other gets RUN_EXISTS", async () => {
        const dagId = uniqueDag("dup_race");
        const tasks = Array.from({ length: 50 }, (_, i) => taskSpec(`t${i}`));
        // PostgreSQL: two pools racing. SQLite: both on one store (Kysely queues them on its
        // connection). Two better-sqlite3 connections in ONE process cannot race a multi-statement
        // transaction: the second one's busy wait is synchronous and blocks the event loop the first
        // needs to commit, until busy_timeout. Sluice opens one store per process, so that is a test
        // artifact; cross-process SQLite locking is exercised by the migration race in migrate.test.ts.
        const second = dialect === "postgres" ? other : store;
        const results = await Promise.allSettled([makeRun(store, dagId, tasks, "r"), makeRun(second, dagId, tasks, "r")]);
        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        assert.equal(won.length, 1, JSON.stringify(lost.map((l) => String(l.reason))));
        assert.equal((lost[0].reason as SluiceError).code, ErrorCode.RunExists);
        const runs = await store.runs.list({ dagId });
        assert.equal(runs.length, 1);
        assert.equal((await store.tasks.forRun(runs[0].id)).length, 50);
      });

      it("creates a 1,000-task run with every instance, and casMany updates all of them across batches", async () => {
        const dagId = uniqueDag("big");
        const tasks = Array.from({ length: 1000 }, (_, i) => taskSpec(`task_${String(i).padStart(4, "0")}`, { priorityWeight: i % 7 }));
        const { run, tis } = await makeRun(store, dagId, tasks);
        assert.equal(tis.size, 1000);
        for (const t of tasks) {
          const ti = tis.get(t.id);
          assert.ok(ti, `missing instance for ${t.id}`);
          assert.equal(ti.priority_weight, t.priorityWeight);
        }
        assert.deepEqual(await store.tasks.stateCounts(run.id), { none: 1000 });

        // 10 are skipped first; casMany from "none" must leave them alone.
        const ids = [...tis.values()].map((t) => t.id);
        await setState(store, ids.slice(600, 610), "skipped");
        assert.equal(await store.tasks.casMany(ids, ["none"], { state: "scheduled", updated_at: T0 + 1 }), 990);
        assert.deepEqual(await store.tasks.stateCounts(run.id), { scheduled: 990, skipped: 10 });
      });
    });

    describe("TaskQueries", () => {
      it("cas: two connections moving the same try from scheduled to queued at once — exactly one wins, and its write is kept", async () => {
        const dagId = uniqueDag("cas_race");
        const tasks = Array.from({ length: 20 }, (_, i) => taskSpec(`t${i}`));
        const { tis } = await makeRun(store, dagId, tasks);
        const ids = [...tis.values()].map((t) => t.id);
        await setState(store, ids, "scheduled", { try_number: 1 });

        for (const id of ids) {
          const [a, b] = await Promise.all([
            store.tasks.cas(id, ["scheduled"], { state: "queued", owner_job: 1 }, 1),
            other.tasks.cas(id, ["scheduled"], { state: "queued", owner_job: 2 }, 1),
          ]);
          assert.equal(Number(a) + Number(b), 1, `instance ${id}: a=${a} b=${b}`);
          const row = await store.tasks.get(id);
          assert.equal(row?.state, "queued");
          assert.equal(row?.owner_job, a ? 1 : 2, "the stored owner is the winner's");
        }
      });

      it("cas fails on the wrong try number or the wrong state and changes nothing", async () => {
        const dagId = uniqueDag("cas_try");
        const { tis } = await makeRun(store, dagId, [taskSpec("a")]);
        const id = tis.get("a")!.id;
        await setState(store, [id], "scheduled", { try_number: 2 });

        assert.equal(await store.tasks.cas(id, ["scheduled"], { state: "queued", hostname: "stale" }, 1), false);
        assert.equal(await store.tasks.cas(id, ["running", "queued"], { state: "success", hostname: "stale" }, 2), false);
        const unchanged = await store.tasks.get(id);
        assert.equal(unchanged?.state, "scheduled");
        assert.equal(unchanged?.hostname, null);

        assert.equal(await store.tasks.cas(id, ["scheduled"], { state: "queued", hostname: "h1" }, 2), true);
        const row = await store.tasks.get(id);
        assert.equal(row?.state, "queued");
        assert.equal(row?.hostname, "h1");
        // Without a try number, only the state is compared.
        assert.equal(await store.tasks.cas(id, ["queued"], { state: "running" }), true);
        assert.equal((await store.tasks.get(id))?.state, "running");
      });

      it("casMany changes only the rows still in the expected state and returns how many", async () => {
        const dagId = uniqueDag("casmany");
        const { run, tis } = await makeRun(store, dagId, ["a", "b", "c", "d"].map((id) => taskSpec(id)));
        const id = (t: string) => tis.get(t)!.id;
        await setState(store, [id("a"), id("b")], "scheduled");
        await setState(store, [id("c")], "running");
        // d stays "none".
        const n = await store.tasks.casMany([id("a"), id("b"), id("c"), id("d")], ["scheduled"], { state: "none", updated_at: T0 + 9 });
        assert.equal(n, 2);
        const states = Object.fromEntries((await store.tasks.forRun(run.id)).map((t) => [t.task_id, [t.state, t.updated_at]]));
        assert.deepEqual(states, { a: ["none", T0 + 9], b: ["none", T0 + 9], c: ["running", T0], d: ["none", T0] });
        assert.equal(await store.tasks.casMany([], ["none"], { state: "scheduled" }), 0);
      });

      it("activeCounts counts queued and running instances by DAG, and sums pool slots by pool", async () => {
        const s = await isolatedStore("active");
        try {
          const a = await makeRun(s, "dag_a", [
            taskSpec("q", { pool: "gpu", poolSlots: 2 }),
            taskSpec("r", { pool: "gpu", poolSlots: 3 }),
            taskSpec("s", { pool: "gpu", poolSlots: 4 }),
            taskSpec("done", { pool: "gpu", poolSlots: 5 }),
            taskSpec("io", { pool: "io", poolSlots: 1 }),
          ]);
          const b = await makeRun(s, "dag_b", [taskSpec("q", { pool: "gpu", poolSlots: 1 }), taskSpec("r", { pool: "default_pool", poolSlots: 1 })]);
          const id = (run: typeof a, t: string) => run.tis.get(t)!.id;
          await setState(s, [id(a, "q"), id(a, "io"), id(b, "q")], "queued");
          await setState(s, [id(a, "r"), id(b, "r")], "running");
          await setState(s, [id(a, "s")], "scheduled");
          await setState(s, [id(a, "done")], "success");

          const c = await s.tasks.activeCounts();
          assert.equal(c.total, 5);
          assert.deepEqual(Object.fromEntries(c.byDag), { dag_a: 3, dag_b: 2 });
          // gpu: a.q (2) + a.r (3) + b.q (1); the scheduled and finished ones hold nothing.
          assert.deepEqual(Object.fromEntries(c.byPool), { gpu: 6, io: 1, default_pool: 1 });
        } finally {
          await s.close();
        }
      });

      it("dispatchable returns scheduled instances by priority (highest first), then by id, up to the limit", async () => {
        const s = await isolatedStore("dispatch");
        try {
          // Declared so that id order differs from name order within a priority.
          const { tis } = await makeRun(s, "dag_p", [
            taskSpec("zeta", { priorityWeight: 5 }),
            taskSpec("low", { priorityWeight: 1 }),
            taskSpec("alpha", { priorityWeight: 5 }),
            taskSpec("top", { priorityWeight: 10 }),
            taskSpec("busy", { priorityWeight: 100 }),
            taskSpec("idle", { priorityWeight: 50 }),
          ]);
          const second = await makeRun(s, "dag_q", [taskSpec("mid", { priorityWeight: 5 })]);
          const id = (t: string) => tis.get(t)!.id;
          await setState(s, [id("zeta"), id("low"), id("alpha"), id("top"), second.tis.get("mid")!.id], "scheduled");
          await setState(s, [id("busy")], "queued"); // "idle" stays none

          const all = await s.tasks.dispatchable(100);
          assert.deepEqual(
            all.map((t) => `${t.dag_id}.${t.task_id}`),
            ["dag_p.top", "dag_p.zeta", "dag_p.alpha", "dag_q.mid", "dag_p.low"],
          );
          assert.deepEqual(
            (await s.tasks.dispatchable(2)).map((t) => t.task_id),
            ["top", "zeta"],
          );
        } finally {
          await s.close();
        }
      });

      it("retryDue returns up_for_retry instances whose next_try_at has come (inclusive), and nextRetryAt the earliest", async () => {
        const s = await isolatedStore("retry");
        try {
          const now = T0 + 60_000;
          const { run, tis } = await makeRun(s, "dag_r", ["past", "exact", "future", "other_state", "nothing_due"].map((t) => taskSpec(t)));
          const id = (t: string) => tis.get(t)!.id;
          await setState(s, [id("past")], "up_for_retry", { next_try_at: now - 1 });
          await setState(s, [id("exact")], "up_for_retry", { next_try_at: now });
          await setState(s, [id("future")], "up_for_retry", { next_try_at: now + 1 });
          await setState(s, [id("other_state")], "scheduled", { next_try_at: now - 5_000 });

          const due = await s.tasks.retryDue(now);
          assert.deepEqual(
            due.map((d) => d.id).sort((x, y) => x - y),
            [id("past"), id("exact")].sort((x, y) => x - y),
          );
          for (const d of due) assert.equal(d.run_pk, run.id);
          assert.deepEqual((await s.tasks.retryDue(now - 2)).map((d) => d.id), []);
          assert.equal((await s.tasks.retryDue(now + 1)).length, 3);
          assert.equal(await s.tasks.nextRetryAt(), now - 1);
          await setState(s, [id("past"), id("exact"), id("future")], "scheduled");
          assert.equal(await s.tasks.nextRetryAt(), null);
        } finally {
          await s.close();
        }
      });
    });

    describe("LogQueries", () => {
      it("pages one try's lines by id, oldest first, and keeps tries and task instances apart", async () => {
        const dagId = uniqueDag("logs");
        const { tis } = await makeRun(store, dagId, [taskSpec("a"), taskSpec("b")]);
        const a = tis.get("a")!.id;
        const b = tis.get("b")!.id;
        // 450 lines of try 1 (more than one insert batch), interleaved with try 2 and another task.
        const lines = [];
        for (let i = 0; i < 450; i++) {
          lines.push({ ti_id: a, try_number: 1, ts: T0 + i, stream: i % 3 === 0 ? "stderr" : "stdout", line: `try1 line ${i}` });
          if (i % 50 === 0) lines.push({ ti_id: a, try_number: 2, ts: T0 + i, stream: "stdout", line: `try2 line ${i / 50}` });
          if (i % 100 === 0) lines.push({ ti_id: b, try_number: 1, ts: T0 + i, stream: "log", line: `b line ${i / 100}` });
        }
        await store.logs.append(lines);

        const pages: string[][] = [];
        let afterId = 0;
        for (;;) {
          const page = await other.logs.read(a, 1, { afterId, limit: 200 });
          if (page.length === 0) break;
          assert.ok(page.length <= 200);
          pages.push(page.map((l) => l.line));
          afterId = page[page.length - 1].id;
          assert.ok(pages.length < 10, "paging does not end");
        }
        assert.deepEqual(pages.map((p) => p.length), [200, 200, 50]);
        assert.deepEqual(pages.flat(), Array.from({ length: 450 }, (_, i) => `try1 line ${i}`));

        const try2 = await store.logs.read(a, 2);
        assert.deepEqual(try2.map((l) => l.line), Array.from({ length: 9 }, (_, i) => `try2 line ${i}`));
        assert.deepEqual(try2.map((l) => l.ts), Array.from({ length: 9 }, (_, i) => T0 + i * 50));
        assert.deepEqual((await store.logs.read(b, 1)).map((l) => [l.stream, l.line]), [0, 1, 2, 3, 4].map((i) => ["log", `b line ${i}`]));
        assert.deepEqual(await store.logs.read(b, 2), []);
        // Streams are kept per line.
        const firstThree = await store.logs.read(a, 1, { limit: 3 });
        assert.deepEqual(firstThree.map((l) => l.stream), ["stderr", "stdout", "stdout"]);
      });
    });

    describe("DagQueries", () => {
      it("upsert keeps is_paused across re-upserts, versions the spec, and clears the next interval only when the schedule changes", async () => {
        const dagId = uniqueDag("dagq");
        const v1 = dagSpec(dagId, [taskSpec("a")], { tags: ["ml"], owner: "ana", description: "first" });
        const h1 = dagVersionHash(v1);
        await store.dags.upsert(v1, h1, T0, true);
        let row = await store.dags.get(dagId);
        assert.equal(row?.is_paused, 1, "new DAGs take pausedOnCreate");
        assert.equal(row?.is_active, 1);
        assert.equal(row?.schedule, "@daily");
        assert.equal(row?.owner, "ana");
        assert.deepEqual(JSON.parse(row!.tags), ["ml"]);
        assert.equal(row?.version_hash, h1);

        // The user unpauses; a re-parse (even with pausedOnCreate) does not pause it again.
        assert.equal(await store.dags.setPaused(dagId, false, T0 + 1), true);
        await store.dags.upsert(v1, h1, T0 + 2, true);
        assert.equal((await store.dags.get(dagId))?.is_paused, 0);
        // And a paused DAG stays paused when re-parsed with pausedOnCreate = false.
        await store.dags.setPaused(dagId, true, T0 + 3);
        await store.dags.upsert(v1, h1, T0 + 4, false);
        assert.equal((await store.dags.get(dagId))?.is_paused, 1);

        // A structural change with the same schedule keeps the next interval and adds a version.
        await store.dags.setNextInterval(dagId, { start: T0, end: T0 + 86_400_000 });
        const v2 = dagSpec(dagId, [taskSpec("a"), taskSpec("b", { upstream: ["a"] })], { tags: ["ml"], owner: "ana" });
        const h2 = dagVersionHash(v2);
        assert.notEqual(h2, h1);
        await store.dags.upsert(v2, h2, T0 + 5, false);
        row = await store.dags.get(dagId);
        assert.equal(row?.version_hash, h2);
        assert.equal(row?.next_interval_start, T0);
        assert.equal(row?.next_interval_end, T0 + 86_400_000);
        assert.equal(row?.description, null);
        assert.deepEqual(await store.dags.versionSpec(dagId, h1), v1);
        assert.deepEqual(await store.dags.versionSpec(dagId, h2), v2);
        assert.equal(await store.dags.versionSpec(dagId, "nope"), undefined);
        // Re-storing a known version adds no row and keeps its original timestamp.
        await store.dags.upsert(v1, h1, T0 + 6, false);
        const versions = await store.db.selectFrom("dag_version").selectAll().where("dag_id", "=", dagId).orderBy("created_at").execute();
        assert.deepEqual(versions.map((v) => [v.version_hash, v.created_at]), [[h1, T0], [h2, T0 + 5]]);

        // A new schedule clears the precomputed interval so the scheduler recomputes it.
        await store.dags.setNextInterval(dagId, { start: T0, end: T0 + 86_400_000 });
        const v3 = { ...v2, schedule: "@hourly" };
        await store.dags.upsert(v3, dagVersionHash(v3), T0 + 7, false);
        row = await store.dags.get(dagId);
        assert.equal(row?.schedule, "@hourly");
        assert.equal(row?.next_interval_start, null);
        assert.equal(row?.next_interval_end, null);
        assert.equal(row?.is_paused, 1);
        // So does a new time zone.
        await store.dags.setNextInterval(dagId, { start: T0, end: T0 + 3_600_000 });
        const v4 = { ...v3, timezone: "Europe/Paris" };
        await store.dags.upsert(v4, dagVersionHash(v4), T0 + 8, false);
        assert.equal((await store.dags.get(dagId))?.next_interval_start, null);
      });

      it("deactivate hides a DAG from scheduling; upserting it again reactivates it with a fresh next interval", async () => {
        const keep = uniqueDag("keep");
        const gone = uniqueDag("gone");
        for (const id of [keep, gone]) {
          const spec = dagSpec(id, [taskSpec("a")]);
          await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
          await store.dags.setNextInterval(id, { start: T0, end: T0 + 86_400_000 });
        }
        await store.dags.deactivate([gone], T0 + 1);
        await store.dags.deactivate([], T0 + 1);
        assert.equal((await store.dags.get(gone))?.is_active, 0);
        assert.equal((await store.dags.get(keep))?.is_active, 1);
        const schedulable = (await store.dags.listSchedulable()).map((d) => d.dag_id);
        assert.ok(schedulable.includes(keep));
        assert.ok(!schedulable.includes(gone));
        const active = (await store.dags.list({ activeOnly: true })).map((d) => d.dag_id);
        assert.ok(active.includes(keep) && !active.includes(gone));
        assert.ok((await store.dags.list()).some((d) => d.dag_id === gone), "an inactive DAG is still listed");

        const spec = dagSpec(gone, [taskSpec("a")]);
        await store.dags.upsert(spec, dagVersionHash(spec), T0 + 2, false);
        const back = await store.dags.get(gone);
        assert.equal(back?.is_active, 1);
        assert.equal(back?.next_interval_start, null, "the old interval may be stale after a pause in existence");
      });

      it("sets, replaces and clears import errors per file; forgetting a file drops its error", async () => {
        const base = `${uniqueDag("errs")}/`;
        await store.dags.setImportError({ path: `${base}a.ts`, message: "SyntaxError", line: 3, col: 7, stack: "at a.ts:3:7", created_at: T0 });
        await store.dags.setImportError({ path: `${base}b.ts`, message: "cycle a -> b -> a", line: null, col: null, stack: null, created_at: T0 });
        await store.dags.setImportError({ path: `${base}a.ts`, message: "TypeError", line: 9, col: 1, stack: null, created_at: T0 + 1 });
        const mine = async () => (await store.dags.importErrors()).filter((e) => e.path.startsWith(base));
        assert.deepEqual(await mine(), [
          { path: `${base}a.ts`, message: "TypeError", line: 9, col: 1, stack: null, created_at: T0 + 1 },
          { path: `${base}b.ts`, message: "cycle a -> b -> a", line: null, col: null, stack: null, created_at: T0 },
        ]);
        await store.dags.clearImportError(`${base}a.ts`);
        assert.deepEqual((await mine()).map((e) => e.path), [`${base}b.ts`]);

        await store.dags.recordFile({ path: `${base}b.ts`, content_hash: "c1", dag_ids: "[]", parsed_at: T0, parse_ms: 12 });
        await store.dags.recordFile({ path: `${base}b.ts`, content_hash: "c2", dag_ids: '["x"]', parsed_at: T0 + 1, parse_ms: 8 });
        assert.deepEqual((await store.dags.files()).filter((f) => f.path.startsWith(base)), [
          { path: `${base}b.ts`, content_hash: "c2", dag_ids: '["x"]', parsed_at: T0 + 1, parse_ms: 8 },
        ]);
        await store.dags.forgetFile(`${base}b.ts`);
        assert.deepEqual(await mine(), []);
        assert.deepEqual((await store.dags.files()).filter((f) => f.path.startsWith(base)), []);
      });
    });

    describe("deleting runs", () => {
      it("deleting a DAG's runs cascades to their task instances, tries and logs, and leaves other DAGs alone", async () => {
        const doomed = uniqueDag("doomed");
        const kept = uniqueDag("kept");
        const seed = async (dagId: string) => {
          const r1 = await makeRun(store, dagId, [taskSpec("a"), taskSpec("b")], "r1");
          const r2 = await makeRun(store, dagId, [taskSpec("a")], "r2");
          const ids = [...r1.tis.values(), ...r2.tis.values()].map((t) => t.id);
          for (const id of ids) {
            await store.tasks.recordTry({ ti_id: id, try_number: 1, state: "failed", start_date: T0, end_date: T0 + 1, duration_ms: 1, hostname: "h", pid: 1, error: "boom" });
            await store.tasks.recordTry({ ti_id: id, try_number: 2, state: "running", start_date: T0 + 2, end_date: null, duration_ms: null, hostname: "h", pid: 2, error: null });
            await store.logs.append([1, 2].map((n) => ({ ti_id: id, try_number: n, ts: T0 + n, stream: "stdout", line: `try ${n}` })));
          }
          return ids;
        };
        const doomedIds = await seed(doomed);
        const keptIds = await seed(kept);
        assert.deepEqual(await childCounts(store, doomedIds), { instances: 3, tries: 6, logs: 6 });

        assert.equal(await store.runs.deleteForDag(doomed), 2);
        assert.deepEqual(await store.runs.list({ dagId: doomed }), []);
        assert.deepEqual(await childCounts(store, doomedIds), { instances: 0, tries: 0, logs: 0 });
        assert.deepEqual(await childCounts(store, keptIds), { instances: 3, tries: 6, logs: 6 });
        assert.equal((await store.runs.list({ dagId: kept })).length, 2);
      });

      it("deleting a single run row removes only its own children", async () => {
        const dagId = uniqueDag("one_run");
        const r1 = await makeRun(store, dagId, [taskSpec("a")], "r1");
        const r2 = await makeRun(store, dagId, [taskSpec("a")], "r2");
        const ti1 = r1.tis.get("a")!.id;
        const ti2 = r2.tis.get("a")!.id;
        for (const id of [ti1, ti2]) {
          await store.tasks.recordTry({ ti_id: id, try_number: 1, state: "success", start_date: T0, end_date: T0, duration_ms: 0, hostname: null, pid: null, error: null });
          await store.logs.append([{ ti_id: id, try_number: 1, ts: T0, stream: "stdout", line: "hi" }]);
        }
        await store.db.deleteFrom("dag_run").where("id", "=", r1.run.id).execute();
        assert.deepEqual(await childCounts(store, [ti1]), { instances: 0, tries: 0, logs: 0 });
        assert.deepEqual(await childCounts(store, [ti2]), { instances: 1, tries: 1, logs: 1 });
        assert.deepEqual((await store.tasks.tries(ti2)).map((t) => t.state), ["success"]);
      });
    });
  });
}
