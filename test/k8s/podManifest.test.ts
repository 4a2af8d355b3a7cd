/**
 * Pod names, the manifest merge (template + settings + task overrides), the
 * hardening, status reading, and the `pod` task option's checks. Every pod
 * rendered here is validated against the official v1 Pod schema
 * (schemas/kubernetes, strict like `kubectl apply --validate=strict`).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";
import type { TaskPodSpec } from "../../src/core/dagSpec.js";
import { buildPod as buildPodUnchecked, podName, type PodInputs } from "../../src/executors/k8s/podManifest.js";
import { pendingReason, podEnd } from "../../src/executors/k8s/podStatus.js";
import { dag } from "../../src/sdk/dag.js";
import { manifestValidator } from "../deploy/k8sSchemas.js";

const attempt = { tiId: 123456, tryNumber: 12, dagId: "A_Very_Long_DAG_Name".repeat(4), runId: "manual__2026-03-01T12:00:00Z", taskId: "Task.With.Dots", mapIndex: 3, ownerJob: 7 };
const validate = manifestValidator();

/** buildPod, failing the test unless the pod is a valid v1 Pod. */
function buildPod(i: PodInputs): V1Pod {
  const pod = buildPodUnchecked(i);
  assert.deepEqual(validate(pod), [], `the pod of ${JSON.stringify(i.overrides ?? {})} is not a valid v1 Pod`);
  return pod;
}
const inputs = (overrides?: TaskPodSpec, template?: V1Pod): PodInputs => ({ attempt, template, image: "sluice:1", command: ["sluice"], apiUrl: "http://sluice-api:8080", token: "t", overrides });

/** What kubernetes.podTemplateFile may hold (the executor reads it with the same YAML parser). */
const TEMPLATE_FILE = `
apiVersion: v1
kind: Pod
metadata:
  generateName: sluice-task-
  labels: { team: ml }
  annotations: { cluster-autoscaler.kubernetes.io/safe-to-evict: "false" }
spec:
  priorityClassName: batch
  imagePullSecrets: [{ name: registry }]
  nodeSelector: { pool: tasks }
  tolerations: [{ key: dedicated, operator: Equal, value: tasks, effect: NoSchedule }]
  initContainers:
    - name: fetch-models
      image: busybox:1.36
      command: [sh, -c, "cp -r /src/. /models"]
      volumeMounts: [{ name: models, mountPath: /models }]
  containers:
    - name: base
      image: registry.example.com/sluice:1.2
      resources: { requests: { cpu: 250m, memory: 512Mi } }
      env:
        - { name: FROM_TEMPLATE, value: "1" }
        - { name: LOG_LEVEL, value: info }
        - name: NODE_NAME
          valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
      volumeMounts: [{ name: models, mountPath: /models, readOnly: true }, { name: scratch, mountPath: /scratch }]
    - name: log-shipper
      image: fluent/fluent-bit:3.0
      securityContext: { runAsUser: 0, readOnlyRootFilesystem: true }
  volumes:
    - { name: models, emptyDir: {} }
    - { name: scratch, emptyDir: { sizeLimit: 10Gi } }
`;

/** Every override the `pod` task option has, with values a user would write. */
const EVERY_OVERRIDE: Required<TaskPodSpec> = {
  image: "registry.example.com/etl:2",
  resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi", "nvidia.com/gpu": "1" } },
  nodeSelector: { "cloud.google.com/gke-accelerator": "nvidia-l4" },
  tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }, { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }],
  affinity: {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["europe-west4-a"] }] }] } },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { "sluice.io/component": "task-pod" } } } }] },
  },
  env: { A: "b", LOG_LEVEL: "debug" },
  secretEnv: { PW: { secret: "db", key: "password" } },
  serviceAccount: "spark",
  extraContainers: [{ name: "cloud-sql-proxy", image: "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11", args: ["--port=5432", "proj:eu:db"], ports: [{ containerPort: 5432 }], resources: { requests: { cpu: "50m" } } }],
};

/** Container-level hardening of task pods: the deploy workloads', but a writable root (a task pod mounts nothing to write to). */
const TASK_CONTAINER_CONTEXT = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] } };

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

  it("renders a valid v1 Pod with each override alone and all together, with and without the template file", () => {
    const template = parseYaml(TEMPLATE_FILE) as V1Pod;
    for (const t of [undefined, template]) {
      const plain = buildPod(inputs(undefined, t));
      for (const key of Object.keys(EVERY_OVERRIDE) as (keyof TaskPodSpec)[]) {
        const pod = buildPod(inputs({ [key]: EVERY_OVERRIDE[key] } as TaskPodSpec, t));
        assert.notDeepEqual(pod, plain, `the ${key} override changes the pod`);
      }
      const pod = buildPod(inputs(EVERY_OVERRIDE, t));
      const c = pod.spec!.containers[0];
      assert.equal(c.image, EVERY_OVERRIDE.image);
      assert.deepEqual(c.resources, EVERY_OVERRIDE.resources);
      assert.equal(pod.spec!.nodeSelector!["cloud.google.com/gke-accelerator"], "nvidia-l4");
      assert.deepEqual(pod.spec!.tolerations!.slice(-2), EVERY_OVERRIDE.tolerations);
      assert.deepEqual(pod.spec!.affinity, EVERY_OVERRIDE.affinity);
      assert.equal(pod.spec!.serviceAccountName, "spark");
      assert.deepEqual(pod.spec!.containers.at(-1)!.name, "cloud-sql-proxy");
    }
    const pod = buildPod(inputs(EVERY_OVERRIDE, template));
    assert.deepEqual(pod.spec!.containers.map((x) => x.name), ["base", "log-shipper", "cloud-sql-proxy"]);
    assert.deepEqual(pod.spec!.volumes!.map((v) => v.name), ["models", "scratch"]);
    assert.equal(pod.spec!.priorityClassName, "batch");
    assert.equal(pod.metadata!.generateName, undefined, "one fixed name per attempt");
  });

  it("the task's env replaces the template's of the same name; SLUICE_API_URL and SLUICE_TASK_TOKEN are Sluice's", () => {
    const template = parseYaml(TEMPLATE_FILE) as V1Pod;
    const pod = buildPod(inputs({ env: { LOG_LEVEL: "debug", TARGET: "prod", SLUICE_TASK_TOKEN: "forged" }, secretEnv: { TARGET: { secret: "t", key: "k" } } }, template));
    const env = pod.spec!.containers[0].env!;
    assert.deepEqual(env.map((e) => e.name), ["FROM_TEMPLATE", "NODE_NAME", "SLUICE_API_URL", "SLUICE_TASK_TOKEN", "LOG_LEVEL", "TARGET"]);
    assert.equal(env.find((e) => e.name === "LOG_LEVEL")!.value, "debug");
    assert.deepEqual(env.find((e) => e.name === "TARGET")!.valueFrom, { secretKeyRef: { name: "t", key: "k" } }, "secretEnv over env");
    assert.equal(env.find((e) => e.name === "SLUICE_TASK_TOKEN")!.value, "t");
  });

  it("the schema check fails a broken pod", () => {
    const pod = buildPodUnchecked(inputs());
    assert.deepEqual(validate(pod), []);
    const broken = structuredClone(pod) as any;
    broken.spec.containers[0].ports = [{ containerPort: "8080" }];
    broken.spec.containers[0].resource = { limits: { memory: "1Gi" } };
    broken.spec.tolerations = [{ key: "gpu", tolerationSeconds: "60" }];
    delete broken.spec.containers[0].name;
    const problems = validate(broken).join("\n");
    assert.match(problems, /spec\.containers\.0: must NOT have additional properties \(resource\)/);
    assert.match(problems, /spec\.containers\.0: must have required property 'name'/);
    assert.match(problems, /spec\.containers\.0\.ports\.0\.containerPort: must be integer/);
    assert.match(problems, /spec\.tolerations\.0\.tolerationSeconds: must be integer/);
    // What the API server refuses with "Duplicate value": a sidecar named like the task container.
    assert.match(validate(buildPodUnchecked(inputs({ extraContainers: [{ name: "base", image: "busybox" }] }))).join("\n"), /spec\.containers: items 0 and 1 have the same key \(name="base"\)/);
    assert.match(validate({ ...pod, kind: "Pods" }).join("\n"), /no schema for v1\/Pods/);
  });

  it("hardens task pods like the deploy workloads; no service account token unless the task names a service account", () => {
    const pod = buildPod(inputs({ extraContainers: [{ name: "side", image: "busybox" }] }));
    // PodSecurity "restricted": non-root as the image's uid, no escalation, no capabilities, default seccomp.
    assert.deepEqual(pod.spec!.securityContext, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
    for (const c of pod.spec!.containers) assert.deepEqual(c.securityContext, TASK_CONTAINER_CONTEXT, c.name);
    assert.equal(pod.spec!.automountServiceAccountToken, false);

    const extra = [{ name: "side", image: "busybox" }];
    const spark = buildPod(inputs({ serviceAccount: "spark", extraContainers: extra }));
    assert.equal(spark.spec!.serviceAccountName, "spark");
    assert.equal(spark.spec!.automountServiceAccountToken, undefined, "a task that names a service account keeps its token (the ServiceAccount decides)");
    assert.deepEqual(extra, [{ name: "side", image: "busybox" }], "the task's spec is not modified");

    // The template's own contexts win, whole (even empty ones); its containers without one get the default.
    const template = parseYaml(TEMPLATE_FILE) as V1Pod;
    const fromFile = buildPod(inputs(undefined, template));
    assert.deepEqual(fromFile.spec!.initContainers![0].securityContext, TASK_CONTAINER_CONTEXT);
    assert.deepEqual(fromFile.spec!.containers.map((c) => c.securityContext), [TASK_CONTAINER_CONTEXT, { runAsUser: 0, readOnlyRootFilesystem: true }]);
    assert.equal(fromFile.spec!.automountServiceAccountToken, false);
    const own = structuredClone(template);
    own.spec!.securityContext = {};
    own.spec!.automountServiceAccountToken = true;
    own.spec!.serviceAccountName = "tasks";
    const owned = buildPod(inputs({ extraContainers: [{ name: "root-side", image: "busybox", securityContext: { runAsUser: 0, runAsNonRoot: false } }] }, own));
    assert.deepEqual(owned.spec!.securityContext, {});
    assert.equal(owned.spec!.automountServiceAccountToken, true);
    assert.deepEqual(owned.spec!.containers.at(-1)!.securityContext, { runAsUser: 0, runAsNonRoot: false });
    // A service account from the template alone does not mount a token (cloud workload identities do not need one).
    const named = structuredClone(template);
    named.spec!.serviceAccountName = "tasks";
    assert.equal(buildPod(inputs(undefined, named)).spec!.automountServiceAccountToken, false);
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
