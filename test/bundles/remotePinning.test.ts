/**
 * Runs stay on their commit where tasks run away from the scheduler: on a
 * queue worker (a real `sluice worker` with its own $SLUICE_HOME, so it must
 * check the run's commit out itself) and in a Kubernetes task pod (the test
 * pod server runs it as a local process with its own home and no database; it
 * checks out the commit the task API names). In both, task b starts after a
 * newer commit was published and must still run the code of its run's commit.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { versionDir } from "../../src/bundles/checkout.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import { triggerRun } from "../../src/runs/createRun.js";
import type { Store } from "../../src/store/store.js";
import { freshTarget, targetUrl } from "../helpers/db.js";
import { killLeftovers, sluiceEnv, SluiceProcess, waitFor } from "../e2e/helpers.js";
import { startK8s, type K8sEnv } from "../k8s/helpers.js";
import { createTestRepo, gatedPipeDag, type TestRepo } from "./gitRepo.js";


/** The pinning scenario, on whatever executor `sluice` and `store` use. */
async function pinnedAcrossPush(o: { sluice: Sluice; store: Store; repo: TestRepo; shas: string[]; gate: string }): Promise<{ r1: number; r2: number }> {
  const { sluice, store, repo, shas, gate } = o;
  const finished = (runPk: number) =>
    waitFor(
      "the run to finish",
      async () => {
        const r = await store.runs.byPk(runPk);
        return r && (r.state === "success" || r.state === "failed") ? r : undefined;
      },
      { timeoutMs: 90_000 },
    );
  const task = async (runPk: number, taskId: string) => (await store.tasks.forRun(runPk)).find((t) => t.task_id === taskId)!;

  await waitFor("the first commit to be published", async () => (await store.bundles.get("pipes"))?.published_sha === shas[0], { timeoutMs: 30_000 });
  await store.dags.setPaused("pipe", false, Date.now());
  const r1 = await triggerRun(store, "pipe", { runId: "r1" });
  sluice.scheduler.wake();
  await waitFor("task a of r1 to be running", async () => (await task(r1.id, "a")).state === "running", { timeoutMs: 60_000 });
  shas.push(repo.commit({ "dags/pipe.ts": gatedPipeDag("v2", gate) }, "Second version"));
  const s = await sluice.bundles!.sync("pipes", "test push");
  assert.deepEqual([s.outcome, s.sha], ["published", shas[1]]);
  writeFileSync(gate, "");
  const done1 = await finished(r1.id);
  const b1 = await task(r1.id, "b");
  assert.equal(done1.state, "success", `${b1.error}`);
  // b started after v2 was published, and still ran v1: its run's commit.
  assert.equal(JSON.parse(b1.result!), "a v1, b v1");
  assert.equal((await store.runs.byPk(r1.id))!.bundle_version, shas[0]);

  const r2 = await triggerRun(store, "pipe", { runId: "r2" });
  sluice.scheduler.wake();
  assert.equal((await finished(r2.id)).state, "success");
  assert.equal(JSON.parse((await task(r2.id, "b")).result!), "a v2, b v2");
  return { r1: r1.id, r2: r2.id };
}

function bundleConfig(c: SluiceConfig, repo: TestRepo): void {
  // Syncs happen when the test asks (sluice.bundles.sync), not on a timer.
  c.bundles = [{ name: "pipes", repo: repo.url, branch: "main", subdir: "dags", refreshIntervalMs: 3_600_000, keepVersions: 3 }];
}

describe("git bundles: a queue worker runs each task on its run's commit (postgres)", () => {
  let repo: TestRepo;
  let sluice: Sluice;
  let worker: SluiceProcess;
  let dir: string;
  const shas: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sluice-pin-queue-"));
    repo = createTestRepo();
    shas.push(repo.commit({ "dags/pipe.ts": gatedPipeDag("v1", join(dir, "gate")) }, "First pipeline"));
    const config = defaultConfig();
    config.home = join(dir, "home");
    config.dagsFolder = join(dir, "local-dags");
    mkdirSync(config.dagsFolder);
    config.db.url = targetUrl(await freshTarget("postgres", "pin_queue"));
    config.scheduler.loopIntervalMs = 100;
    config.executor.kind = "queue";
    bundleConfig(config, repo);
    sluice = await createSluice(config, pino({ level: "silent" }));
    await sluice.start();
    // Its own home: nothing of the scheduler's checkouts is there; it must fetch the commits itself.
    const env = sluiceEnv({
      dbUrl: config.db.url,
      home: join(dir, "worker-home"),
      extra: { SLUICE_BUNDLES: JSON.stringify(config.bundles), SLUICE_DAGS_FOLDER: config.dagsFolder },
    });
    worker = new SluiceProcess(["worker", "--queues", "default", "--concurrency", "2"], env, dir);
    await waitFor("the worker to register", async () => (await sluice.store.jobs.running("worker")).length === 1, { timeoutMs: 30_000, context: () => worker.output().slice(-4000) });
  });

  after(async () => {
    if (dir) writeFileSync(join(dir, "gate"), "");
    if (worker?.alive) await worker.stop();
    await sluice?.stop(5_000);
    repo?.close();
    const left = await killLeftovers();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(left, [], "processes were left running");
  });

  it("b starts after a newer commit is published and still runs the old code, on the worker, from the worker's own checkout", async () => {
    const { r1, r2 } = await pinnedAcrossPush({ sluice, store: sluice.store, repo, shas, gate: join(dir, "gate") });
    const [job] = await sluice.store.jobs.running("worker");
    assert.equal(job.pid, worker.pid);
    for (const runPk of [r1, r2]) {
      for (const t of await sluice.store.tasks.forRun(runPk)) assert.equal(t.owner_job, job.id, `${t.task_id} of run ${runPk} was claimed by the worker`);
    }
    const workerHome = join(dir, "worker-home");
    for (const sha of shas) assert.ok(existsSync(join(versionDir(workerHome, "pipes", sha), "dags", "pipe.ts")), `the worker checked out ${sha.slice(0, 12)} itself`);
  });
});

describe("git bundles: a task pod runs on its run's commit (sqlite)", () => {
  let repo: TestRepo;
  let k: K8sEnv;
  const shas: string[] = [];
  let gateDir: string;
  let gate: string;

  before(async () => {
    gateDir = mkdtempSync(join(tmpdir(), "sluice-pin-pod-"));
    gate = join(gateDir, "gate");
    repo = createTestRepo();
    shas.push(repo.commit({ "dags/pipe.ts": gatedPipeDag("v1", gate) }, "First pipeline"));
    k = await startK8s("sqlite", `import { dag } from "sluice";\nexport default dag({ id: "k8s", schedule: null }, (d) => { d.task("t", async () => 1); });\n`, (c) => bundleConfig(c, repo));
  });

  after(async () => {
    if (gate) writeFileSync(gate, "");
    await k?.close();
    repo?.close();
    rmSync(gateDir, { recursive: true, force: true });
  });

  it("b starts after a newer commit is published and still runs the old code, in a pod with no database and its own home", async () => {
    const { r1 } = await pinnedAcrossPush({ sluice: k.sluice, store: k.sluice.store, repo, shas, gate });
    const b = (await k.sluice.store.tasks.forRun(r1)).find((t) => t.task_id === "b")!;
    assert.equal(k.kube.podsOf(b.id).length, 1, "b ran in a pod");
    const podHome = join(k.dir, "pod-home");
    assert.ok(existsSync(join(versionDir(podHome, "pipes", shas[0]), "dags", "pipe.ts")), "the pod checked out the run's commit itself");
  });
});
