/**
 * Faults under the Kubernetes executor (test pod server, real client-node,
 * real Sluice; SQLite and PostgreSQL): a pod stuck Pending in
 * ImagePullBackOff past the timeout, an OOM-killed pod, a pod deleted under a
 * running task (node lost), and a scheduler stopped without cleanup whose
 * running pod is adopted by the next one without a duplicate.
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openSluiceStore } from "../../src/app/createSluice.js";
import { triggerRun } from "../../src/runs/createRun.js";
import type { Store } from "../../src/store/store.js";
import { waitFor, type SluiceProcess } from "../e2e/helpers.js";
import { DIALECTS, finished, startK8s, type K8sEnv } from "./helpers.js";

/** hold: writes "<dir>/<run>-started-<try>" and waits for "<dir>/<run>-go-<try>" (the test decides when each try ends). */
const DAG = `
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dag } from "sluice";
const dir = process.env.K8S_TEST_DIR ?? "/nonexistent";
export default dag({ id: "k8s", schedule: null }, (d) => {
  d.task("hold", async (ctx) => {
    writeFileSync(join(dir, ctx.runId + "-started-" + ctx.tryNumber), String(process.pid));
    while (!existsSync(join(dir, ctx.runId + "-go-" + ctx.tryNumber))) await new Promise((r) => setTimeout(r, 20));
    return "held " + ctx.tryNumber;
  }, { retries: 1, retryDelay: 0 });
});
`;

for (const dialect of DIALECTS) {
  describe(`kubernetes executor faults on ${dialect}`, () => {
    let k: K8sEnv;
    before(async () => {
      k = await startK8s(dialect, DAG, (c) => {
        c.kubernetes.pendingTimeoutMs = 1_500;
        c.scheduler.zombieThresholdMs = 2_000;
      });
    });
    after(async () => k?.close());

    const start = async (runId: string) => {
      const run = await triggerRun(k.sluice.store, "k8s", { runId });
      k.sluice.scheduler.wake();
      const ti = (await k.sluice.store.tasks.byKey("k8s", runId, "hold"))!;
      return { run, ti };
    };
    const started = (runId: string, tryNumber: number) => waitFor(`try ${tryNumber} of ${runId} to start`, () => existsSync(join(k.dir, `${runId}-started-${tryNumber}`)), { timeoutMs: 60_000 });
    const release = (runId: string, tryNumber: number) => writeFileSync(join(k.dir, `${runId}-go-${tryNumber}`), "");
    const podOf = (tiId: number, tryNumber: number) => k.kube.podsOf(tiId).find((p) => p.metadata.labels["sluice.io/try-number"] === String(tryNumber));
    const triesOf = async (tiId: number) => k.sluice.store.tasks.tries(tiId);

    it("fails a pod stuck in ImagePullBackOff past the timeout, with the reason, and retries", async () => {
      k.kube.holdPending = (pod) => (pod.metadata.labels["sluice.io/run-id"] === "img" && pod.metadata.labels["sluice.io/try-number"] === "1" ? "ImagePullBackOff" : undefined);
      const { run, ti } = await start("img");
      await started("img", 2);
      release("img", 2);
      assert.equal((await finished(k.sluice, run.id)).state, "success");
      const first = (await triesOf(ti.id)).find((t) => t.try_number === 1);
      assert.match(first?.error ?? "", /still Pending after 1500 ms \(ImagePullBackOff: Back-off pulling image/);
      assert.equal(k.kube.pods.has(podOf(ti.id, 1).metadata.name), false, "the stuck pod was deleted");
    });

    it('reports an OOM-killed pod as "OOMKilled (exit 137)" and retries', async () => {
      const { run, ti } = await start("oom");
      await started("oom", 1);
      k.kube.oomKill(podOf(ti.id, 1).metadata.name);
      await started("oom", 2);
      release("oom", 2);
      assert.equal((await finished(k.sluice, run.id)).state, "success");
      const first = (await triesOf(ti.id)).find((t) => t.try_number === 1);
      assert.match(first?.error ?? "", /failed: OOMKilled \(exit 137\)/);
    });

    it("retries an attempt whose pod was deleted under it (node lost)", async () => {
      const { run, ti } = await start("lost");
      await started("lost", 1);
      k.kube.deleteUnder(podOf(ti.id, 1).metadata.name);
      await started("lost", 2);
      release("lost", 2);
      assert.equal((await finished(k.sluice, run.id)).state, "success");
      const first = (await triesOf(ti.id)).find((t) => t.try_number === 1);
      assert.match(first?.error ?? "", /was deleted while the attempt was running/);
    });

    it("fails and retries an attempt whose runner froze in a live pod (no heartbeat), deleting the pod", async () => {
      const { run, ti } = await start("frozen");
      await started("frozen", 1);
      const name = podOf(ti.id, 1).metadata.name;
      k.kube.pods.get(name)!.proc!.kill("SIGSTOP");
      await started("frozen", 2);
      release("frozen", 2);
      assert.equal((await finished(k.sluice, run.id)).state, "success");
      const first = (await triesOf(ti.id)).find((t) => t.try_number === 1);
      assert.match(first?.error ?? "", /stopped heartbeating/);
      assert.equal(k.kube.pods.has(name), false);
    });

    it("a new scheduler adopts the running pod of a stopped one: no duplicate pod, the attempt ends once", async () => {
      const { run, ti } = await start("adopt");
      await started("adopt", 1);
      // The old scheduler goes away; its pod keeps running (stop does not delete pods).
      await k.sluice.stop();
      const next = await k.restart();
      await waitFor("the pod to be adopted", () => next.executor.runningIds().includes(ti.id));
      release("adopt", 1);
      assert.equal((await finished(next, run.id)).state, "success");
      const row = (await next.store.tasks.get(ti.id))!;
      assert.equal(row.try_number, 1, "no second try");
      assert.equal(row.result, JSON.stringify("held 1"));
      assert.equal(k.kube.podsOf(ti.id).length, 1, "no duplicate pod");
      await waitFor("the adopted pod deleted when done", () => !k.kube.pods.has(podOf(ti.id, 1).metadata.name));
    });
  });

  describe(`kubernetes executor: a scheduler killed with kill -9 on ${dialect}`, () => {
    let k: K8sEnv;
    let crashed: SluiceProcess | undefined;
    let store: Store | undefined;
    before(async () => {
      k = await startK8s(dialect, DAG, (c) => {
        c.scheduler.zombieThresholdMs = 2_000;
      });
      // The in-process scheduler leaves; a real `sluice scheduler` process takes over, to be killed.
      await k.sluice.stop();
    });
    after(async () => {
      if (crashed?.alive) await crashed.kill9();
      await store?.close();
      await k?.close();
    });

    it("a new scheduler adopts the running pod once the dead one's heartbeat is stale: no duplicate pod, one try", async () => {
      crashed = k.spawnScheduler();
      store = await openSluiceStore(k.config);
      const run = await triggerRun(store, "k8s", { runId: "crash" });
      const ti = (await store.tasks.byKey("k8s", "crash", "hold"))!;
      await waitFor("try 1 to start in its pod", () => existsSync(join(k.dir, "crash-started-1")), { timeoutMs: 60_000, context: () => crashed!.output().slice(-4000) });
      await crashed.kill9();
      // No clean stop: the dead scheduler's job row still says "running", only its heartbeat ages.
      const next = await k.restart();
      await waitFor("the pod to be adopted", () => next.executor.runningIds().includes(ti.id), { timeoutMs: 30_000 });
      writeFileSync(join(k.dir, "crash-go-1"), "");
      assert.equal((await finished(next, run.id)).state, "success");
      const row = (await next.store.tasks.get(ti.id))!;
      assert.equal(row.try_number, 1, "no second try");
      assert.equal(row.result, JSON.stringify("held 1"));
      assert.equal(k.kube.podsOf(ti.id).length, 1, "no duplicate pod");
      const pod = k.kube.podsOf(ti.id)[0];
      await waitFor("the adopted pod deleted when done", () => !k.kube.pods.has(pod.metadata.name));
    });
  });
}
