/**
 * Git bundles end to end on a real git repository (a bare repo over file://)
 * and a real Sluice (createSluice: scheduler, local executor with real task
 * processes) on SQLite and PostgreSQL: a pushed DAG appears with its commit;
 * a run keeps running on the commit it was created on while newer commits
 * land (a task that starts after the new commit was published still runs the
 * old code); a broken commit leaves its DAG on the last good commit while
 * other DAGs of the same commit are published, and the error names the
 * commit; old checkouts are removed and re-made on demand when a cleared run
 * needs them; "rerun on latest" moves a run to the current commit.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { versionDir } from "../../src/bundles/checkout.js";
import { defaultConfig } from "../../src/config/config.js";
import { clearTasks } from "../../src/runs/clearTasks.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { rerunOnLatest } from "../../src/runs/rerunOnLatest.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { waitFor } from "../e2e/helpers.js";
import { createTestRepo, gatedPipeDag, type TestRepo } from "./gitRepo.js";

const OTHER = `import { dag } from "sluice";
export default dag({ id: "other", schedule: null }, (d) => { d.task("t", async () => "other"); });
`;

for (const dialect of DIALECTS) {
  describe(`git bundles on ${dialect}`, () => {
    let repo: TestRepo;
    let sluice: Sluice;
    let dir: string;
    let gate: string;
    const shas: string[] = [];

    async function finished(runPk: number) {
      return waitFor(
        "the run to finish",
        async () => {
          const r = await sluice.store.runs.byPk(runPk);
          return r && (r.state === "success" || r.state === "failed") ? r : undefined;
        },
        { timeoutMs: 60_000 },
      );
    }
    async function resultOf(runPk: number, taskId: string) {
      const ti = (await sluice.store.tasks.forRun(runPk)).find((t) => t.task_id === taskId)!;
      return { state: ti.state, result: ti.result === null ? null : JSON.parse(ti.result), error: ti.error };
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "sluice-bundles-"));
      gate = join(dir, "gate");
      repo = createTestRepo();
      shas.push(repo.commit({ "dags/pipe.ts": gatedPipeDag("v1", gate), "README.md": "pipelines\n" }, "First pipeline"));
      const config = defaultConfig();
      config.home = join(dir, "home");
      config.dagsFolder = join(dir, "local-dags");
      mkdirSync(config.dagsFolder);
      config.db.url = targetUrl(await freshTarget(dialect, "bundles"));
      config.scheduler.loopIntervalMs = 100;
      config.executor.slots = 2;
      // Syncs happen when the test asks (sluice.bundles.sync), not on a timer.
      config.bundles = [{ name: "pipes", repo: repo.url, branch: "main", subdir: "dags", refreshIntervalMs: 3_600_000, keepVersions: 1 }];
      sluice = await createSluice(config, pino({ level: "silent" }));
      await sluice.start();
    });

    after(async () => {
      writeFileSync(gate, "");
      await sluice?.stop(5_000);
      repo?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("the first sync publishes the pushed DAG with its commit", async () => {
      // The start-up sync: the bundle's row says "published" once the whole commit is (its DAGs are written first).
      await waitFor("the first commit to be published", async () => (await sluice.store.bundles.get("pipes"))?.published_sha === shas[0], { timeoutMs: 30_000 });
      const dag = (await sluice.store.dags.get("pipe"))!;
      assert.equal(dag.fileloc, "@pipes/pipe.ts");
      assert.equal(dag.bundle_version, shas[0]);
      const b = (await sluice.store.bundles.get("pipes"))!;
      assert.equal(b.published_sha, shas[0]);
      const c = (await sluice.store.bundles.commit("pipes", shas[0]))!;
      assert.deepEqual([c.outcome, c.message, c.author, c.errors, c.dags], ["published", "First pipeline", "Ada Lovelace <ada@example.com>", 0, 1]);
      assert.ok(existsSync(join(sluice.config.home, "bundles", "pipes", "current", "dags", "pipe.ts")), "current points at the published commit");
      // Nothing new: a second sync changes nothing.
      assert.equal((await sluice.bundles!.sync("pipes")).outcome, "unchanged");
    });

    it("a run keeps its commit while a newer one is published mid-run; the next run gets the new code", async () => {
      await sluice.store.dags.setPaused("pipe", false, Date.now());
      const r1 = await triggerRun(sluice.store, "pipe", { runId: "r1" });
      sluice.scheduler.wake();
      await waitFor("task a of r1 to be running", async () => (await resultOf(r1.id, "a")).state === "running", { timeoutMs: 30_000 });
      shas.push(repo.commit({ "dags/pipe.ts": gatedPipeDag("v2", gate) }, "Second version"));
      const s = await sluice.bundles!.sync("pipes", "test push");
      assert.deepEqual([s.outcome, s.sha], ["published", shas[1]]);
      assert.equal((await sluice.store.dags.get("pipe"))!.bundle_version, shas[1]);
      writeFileSync(gate, "");
      assert.equal((await finished(r1.id)).state, "success");
      // b started after v2 was published, and still ran v1: the run's commit.
      assert.equal((await resultOf(r1.id, "b")).result, "a v1, b v1");
      assert.equal((await sluice.store.runs.byPk(r1.id))!.bundle_version, shas[0]);

      const r2 = await triggerRun(sluice.store, "pipe", { runId: "r2" });
      sluice.scheduler.wake();
      assert.equal((await finished(r2.id)).state, "success");
      assert.equal((await resultOf(r2.id, "b")).result, "a v2, b v2");
      assert.equal((await sluice.store.runs.byPk(r2.id))!.bundle_version, shas[1]);
    });

    it("a broken commit keeps its DAG on the last good commit, publishes the rest, and says which commit failed", async () => {
      shas.push(repo.commit({ "dags/pipe.ts": "export default dag({ id: 'pipe' ", "dags/other.ts": OTHER }, "Break pipe, add other"));
      const s = await sluice.bundles!.sync("pipes");
      assert.deepEqual([s.outcome, s.errors, s.dags], ["partial", 1, 1]);
      assert.match(s.message, /failed to import; their DAGs stay on the last commit/);
      const pipe = (await sluice.store.dags.get("pipe"))!;
      assert.equal(pipe.bundle_version, shas[1], "pipe stays on the last commit it imported at");
      assert.equal(pipe.is_active, 1);
      assert.equal((await sluice.store.dags.get("other"))!.bundle_version, shas[2]);
      const errors = await sluice.store.dags.importErrors();
      const e = errors.find((x) => x.path === "@pipes/pipe.ts");
      assert.ok(e, JSON.stringify(errors));
      assert.match(e.message, new RegExp(`commit ${shas[2].slice(0, 12)} of bundle pipes`));
      assert.equal((await sluice.store.bundles.get("pipes"))!.last_error, s.message);

      const r3 = await triggerRun(sluice.store, "pipe", { runId: "r3" });
      sluice.scheduler.wake();
      assert.equal((await finished(r3.id)).state, "success");
      assert.equal((await resultOf(r3.id, "b")).result, "a v2, b v2", "runs of pipe still use its last good commit");

      // Fixed in the next commit: pipe moves on.
      shas.push(repo.commit({ "dags/pipe.ts": gatedPipeDag("v4", gate) }, "Fix pipe"));
      const fixed = await sluice.bundles!.sync("pipes");
      assert.equal(fixed.outcome, "published", `${fixed.message}\n${JSON.stringify(await sluice.store.dags.importErrors())}`);
      assert.equal((await sluice.store.dags.get("pipe"))!.bundle_version, shas[3]);
      assert.equal((await sluice.store.dags.importErrors()).filter((x) => x.path.startsWith("@pipes/")).length, 0);
    });

    it("old checkouts are removed; a cleared run re-creates its commit on demand; rerun on latest moves it to the current commit", async () => {
      const home = sluice.config.home;
      // In use: pipe's and other's commits; kept: the newest checked one (keepVersions 1). The first commit is gone.
      assert.equal(existsSync(versionDir(home, "pipes", shas[0])), false, "the first commit's checkout was removed");
      assert.ok(existsSync(versionDir(home, "pipes", shas[3])));
      const r1 = (await sluice.store.runs.get("pipe", "r1"))!;
      await clearTasks(sluice.store, r1, (await sluice.store.dags.versionSpec("pipe", r1.version_hash))!, { taskIds: ["b"] });
      sluice.scheduler.wake();
      assert.equal((await finished(r1.id)).state, "success");
      assert.equal((await resultOf(r1.id, "b")).result, "a v1, b v1", "the cleared task ran its run's commit again");
      assert.ok(existsSync(versionDir(home, "pipes", shas[0])), "checked out again on demand");

      const moved = await rerunOnLatest(sluice.store, (await sluice.store.runs.byPk(r1.id))!);
      assert.deepEqual([moved.moved, moved.bundleVersion, moved.cleared.map((c) => c.taskId).sort()], [true, shas[3], ["a", "b"]]);
      sluice.scheduler.wake();
      assert.equal((await finished(r1.id)).state, "success");
      assert.equal((await resultOf(r1.id, "b")).result, "a v4, b v4");
      assert.equal((await sluice.store.runs.byPk(r1.id))!.bundle_version, shas[3]);
    });
  });
}
