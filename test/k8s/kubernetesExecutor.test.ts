/**
 * The Kubernetes executor end to end: a real Sluice (createSluice, executor
 * kind "kubernetes") through the real @kubernetes/client-node against the
 * test pod server (test/helpers/fakeKubePods.ts), which runs each pod's
 * `sluice task run --remote` as a local process reporting to the API server
 * on 127.0.0.1. SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { triggerRun } from "../../src/runs/createRun.js";
import { waitFor } from "../e2e/helpers.js";
import { DIALECTS, finished, startK8s, type K8sEnv } from "./helpers.js";

const DAG = `
import { dag } from "sluice";
export default dag({ id: "k8s", schedule: null }, (d) => {
  const a = d.task("a", async (ctx) => { console.log("stdout of a"); ctx.log.info("a ran"); return 1; });
  d.task("b", async (ctx, { a: x }) => { console.log("stdout of b"); return x + 1; }, { upstream: [a], pod: { env: { EXTRA: "yes" } } });
});
`;

for (const dialect of DIALECTS) {
  describe(`kubernetes executor on ${dialect}`, () => {
    let k: K8sEnv;
    before(async () => {
      k = await startK8s(dialect, DAG);
    });
    after(async () => k?.close());

    it("runs each task in its own pod through 429s, a dropped watch and 410 Gone; pods deleted, logs kept", async () => {
      const { kube, sluice } = k;
      kube.fail429 = 2;
      const run = await triggerRun(sluice.store, "k8s", { runId: "ok" });
      sluice.scheduler.wake();
      // Mid-run faults: the watch is cut, then the history is compacted (the resumed watch gets 410 Gone).
      await waitFor("the first pod", () => kube.created.length >= 1);
      kube.dropWatches();
      await waitFor("a reconnected watch", () => kube.watchCount >= 2);
      kube.compact();
      assert.equal((await finished(sluice, run.id)).state, "success");
      assert.equal(kube.create429Count, 2);
      assert.ok(kube.gone410Count >= 1, "a watch resumed from a compacted resourceVersion got 410 Gone");
      assert.ok(kube.listCount >= 2, "and the executor re-listed after it");
      // A pod's log is kept when the executor sees it end, which may be after the runner recorded the
      // run's success; the pod is deleted only after that.
      await waitFor("finished pods deleted", () => kube.pods.size === 0);
      const tis = await sluice.store.tasks.forRun(run.id);
      assert.equal(tis.length, 2);
      for (const ti of tis) {
        assert.equal(ti.state, "success", `${ti.task_id}: ${ti.error}`);
        const pods = kube.podsOf(ti.id);
        assert.equal(pods.length, 1, `one pod for ${ti.task_id}`);
        const p = pods[0];
        assert.match(p.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        assert.ok(p.metadata.name.length <= 63);
        assert.equal(p.metadata.labels["sluice.io/task-id"], ti.task_id);
        assert.equal(p.metadata.labels["sluice.io/scheduler-job"], String(ti.owner_job));
        assert.equal(p.metadata.annotations["sluice.io/run-id"], "ok");
        assert.equal(p.spec.restartPolicy, "Never");
        const lines = (await sluice.store.logs.read(ti.id, 1)).filter((l) => l.stream === "pod").map((l) => l.line);
        assert.ok(lines.some((l) => l.includes(`stdout of ${ti.task_id}`)), `pod log of ${ti.task_id} kept: ${lines.join("\n")}`);
      }
      assert.equal(kube.podsOf(tis.find((t) => t.task_id === "b")!.id)[0].spec.containers[0].env.find((e: any) => e.name === "EXTRA")?.value, "yes");
    });

    it("a pod whose whole life is on the watch before the create call returns is still seen to end: log kept, pod deleted", async () => {
      const { kube, sluice } = k;
      kube.answerCreatesAfterPodEnds = 30_000;
      try {
        const run = await triggerRun(sluice.store, "k8s", { runId: "quick" });
        sluice.scheduler.wake();
        assert.equal((await finished(sluice, run.id)).state, "success");
        const tis = await sluice.store.tasks.forRun(run.id);
        for (const ti of tis) {
          const name = kube.podsOf(ti.id)[0].metadata.name;
          // The run's success is recorded by the runner, before its process has exited: wait for the executor's part.
          await waitFor(`the pod of ${ti.task_id} deleted`, () => !kube.pods.has(name), { timeoutMs: 20_000 });
          const t = kube.timeline.get(name)!;
          assert.ok(t.ended !== undefined && t.answered !== undefined && t.ended <= t.answered, `${ti.task_id}'s pod ended before its create was answered: ${JSON.stringify(t)}`);
          const lines = (await sluice.store.logs.read(ti.id, 1)).filter((l) => l.stream === "pod").map((l) => l.line);
          assert.ok(lines.some((l) => l.includes(`stdout of ${ti.task_id}`)), `pod log of ${ti.task_id} kept: ${lines.join("\n")}`);
          assert.equal(ti.try_number, 1);
        }
      } finally {
        kube.answerCreatesAfterPodEnds = 0;
      }
    });
  });
}
