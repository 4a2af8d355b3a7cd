/** Pod names, the manifest merge (template + settings + task overrides), status reading, and the `pod` task option's checks. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildPod, podName } from "../../src/executors/k8s/podManifest.js";
import { pendingReason, podEnd } from "../../src/executors/k8s/podStatus.js";
import { dag } from "../../src/sdk/dag.js";

const attempt = { tiId: 123456, tryNumber: 12, dagId: "A_Very_Long_DAG_Name".repeat(4), runId: "manual__2026-03-01T12:00:00Z", taskId: "Task.With.Dots", mapIndex: 3, ownerJob: 7 };

describe("task pods", () => {
  it("names are DNS-1123, at most 63 characters, different per try", () => {
    const n = podName(attempt);
    assert.match(n, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.ok(n.length <= 63, n);
    assert.ok(n.endsWith("-123456-12-" + n.split("-").at(-1)));
    assert.notEqual(podName({ ...attempt, tryNumber: 13 }), n);
  });

  it("merges the template, the settings and the task's overrides", () => {
    const template = {
      metadata: { labels: { team: "ml" } },
      spec: { nodeSelector: { pool: "tasks" }, containers: [{ name: "base", image: "tmpl:1", env: [{ name: "FROM_TEMPLATE", value: "1" }, { name: "SLUICE_TASK_TOKEN", value: "stale" }] }], volumes: [{ name: "dags", emptyDir: {} }] },
    };
    const pod = buildPod({
      attempt,
      template,
      image: "sluice:latest",
      command: ["sluice"],
      apiUrl: "http://sluice-api:8080",
      token: "tok",
      overrides: { image: "custom:2", resources: { limits: { memory: "1Gi" } }, nodeSelector: { gpu: "yes" }, env: { A: "b" }, secretEnv: { PW: { secret: "s", key: "k" } }, serviceAccount: "runner", extraContainers: [{ name: "side", image: "busybox" }] },
    });
    const c = pod.spec!.containers[0];
    assert.equal(c.image, "custom:2");
    assert.deepEqual([...c.command!, ...c.args!], ["sluice", "task", "run", "--remote", "http://sluice-api:8080"]);
    assert.deepEqual(c.env!.map((e) => e.name), ["FROM_TEMPLATE", "SLUICE_API_URL", "SLUICE_TASK_TOKEN", "A", "PW"]);
    assert.equal(c.env!.find((e) => e.name === "SLUICE_TASK_TOKEN")!.value, "tok");
    assert.deepEqual(pod.spec!.nodeSelector, { pool: "tasks", gpu: "yes" });
    assert.equal(pod.spec!.serviceAccountName, "runner");
    assert.equal(pod.spec!.restartPolicy, "Never");
    assert.deepEqual(pod.spec!.containers.map((x) => x.name), ["base", "side"]);
    assert.equal(pod.metadata!.labels!.team, "ml");
    assert.equal(pod.metadata!.labels!["sluice.io/run-id"], "manual__2026-03-01T12_00_00Z");
    assert.equal(pod.metadata!.annotations!["sluice.io/run-id"], attempt.runId);
    assert.equal(template.spec.containers[0].image, "tmpl:1", "the template is not modified");
    assert.equal(buildPod({ attempt, template: undefined, image: "sluice:1", command: ["sluice"], apiUrl: "http://x", token: "t", overrides: undefined }).spec!.containers[0].image, "sluice:1");
  });

  it("passes the git bundles to the pod without literal tokens (the pod checks its run's commit out itself)", () => {
    const bundles = [
      { name: "pipes", repo: "https://github.com/org/pipes.git", branch: "main", subdir: "dags", refreshIntervalMs: 60_000, keepVersions: 3, token: "ghp_secret", tokenEnv: undefined },
      { name: "more", repo: "git@github.com:org/more.git", branch: "prod", subdir: "", refreshIntervalMs: 60_000, keepVersions: 3, tokenEnv: "MORE_TOKEN" },
    ];
    const env = buildPod({ attempt, template: undefined, image: "sluice:1", command: ["sluice"], apiUrl: "http://x", token: "t", overrides: undefined, bundles }).spec!.containers[0].env!;
    const passed = JSON.parse(env.find((e) => e.name === "SLUICE_BUNDLES")!.value!);
    assert.deepEqual(passed.map((b: any) => [b.name, b.repo, b.branch, b.subdir, b.tokenEnv]), [["pipes", "https://github.com/org/pipes.git", "main", "dags", undefined], ["more", "git@github.com:org/more.git", "prod", "", "MORE_TOKEN"]]);
    assert.ok(!JSON.stringify(env).includes("ghp_secret"), "no literal token in the pod spec");
    assert.equal(buildPod({ attempt, template: undefined, image: "sluice:1", command: ["sluice"], apiUrl: "http://x", token: "t", overrides: undefined }).spec!.containers[0].env!.some((e) => e.name === "SLUICE_BUNDLES"), false);
  });

  it("reads ends and pending reasons from pod status", () => {
    const term = (t: object, phase = "Failed") => ({ spec: { containers: [{ name: "base" }] }, status: { phase, containerStatuses: [{ name: "base", state: { terminated: t } }] } }) as any;
    assert.deepEqual(podEnd(term({ exitCode: 137, reason: "OOMKilled" })), { failed: true, reason: "OOMKilled (exit 137)" });
    assert.deepEqual(podEnd(term({ exitCode: 2, reason: "Error" })), { failed: true, reason: "exit code 2 (Error)" });
    assert.deepEqual(podEnd(term({ exitCode: 0 }, "Succeeded")), { failed: false, reason: "exit code 0" });
    assert.equal(podEnd({ status: { phase: "Running" } } as any), undefined);
    assert.deepEqual(podEnd({ status: { phase: "Failed", reason: "Evicted", message: "low on memory" } } as any), { failed: true, reason: "Evicted: low on memory" });
    assert.equal(pendingReason({ status: { phase: "Pending", containerStatuses: [{ name: "base", state: { waiting: { reason: "ErrImagePull", message: "not found" } } }] } } as any), "ErrImagePull: not found");
    assert.equal(pendingReason({ status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes" }] } } as any), "Unschedulable: 0/3 nodes");
  });

  it("checks the pod task option when the DAG is declared", () => {
    assert.throws(() => dag({ id: "p", schedule: null }, (d) => void d.task("t", async () => 1, { pod: { imag: "x" } as any })), /task "t": pod option is invalid .*imag/);
    assert.throws(() => dag({ id: "p", schedule: null }, (d) => void d.task("t", async () => 1, { pod: { env: { A: 1 } } as any })), /pod option is invalid \(env\.A/);
    const spec = dag({ id: "p", schedule: null }, (d) => {
      d.task("t", async () => 1, { pod: { image: "x:1" } });
      d.task("u", async () => 1);
    }).toSpec("p.ts");
    assert.deepEqual(spec.tasks.find((t) => t.id === "t")!.pod, { image: "x:1" });
    assert.equal("pod" in spec.tasks.find((t) => t.id === "u")!, false, "absent when not set (the version hash of other DAGs is unchanged)");
  });
});
