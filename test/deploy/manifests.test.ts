/**
 * `sluice deploy k8s` renders objects a Kubernetes API server accepts: every
 * one is validated against the official OpenAPI definitions (and the KEDA
 * CRD), for the default options and the variants users pick. No cluster runs
 * here, so these checks are what stands between a typo and a failed apply.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { AUTOSCALER_RULES, EXECUTOR_RULES, kedaQuery, parseDeployOptions, PLACEHOLDER, PLACEHOLDER_ANNOTATION, renderFromInput, renderManifests, type DeployOptionsInput, type K8sObject } from "../../src/deploy/index.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { manifestValidator } from "./k8sSchemas.js";

type Any = Record<string, any>;

const VARIANTS: Record<string, DeployOptionsInput> = {
  defaults: {},
  "external database": { database: { mode: "external" }, secrets: { create: false } },
  keda: { workers: { keda: true, minReplicas: 0, maxReplicas: 30, concurrency: 16 } },
  "custom values": {
    name: "ml-etl",
    namespace: "pipelines-prod",
    image: "registry.example.com/team/sluice:1.2.3",
    imagePullPolicy: "Always",
    imagePullSecrets: ["regcred"],
    ingress: { host: "sluice.example.com", className: "openstack-lb", tlsSecretName: "sluice-tls" },
    api: { replicas: 3, port: 9090, resources: { requests: { cpu: "200m", memory: "300Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
    workers: { minReplicas: 2, maxReplicas: 8, concurrency: 2, queue: "highmem", targetCpuUtilization: 60 },
    database: { mode: "internal", storage: "50Gi", storageClassName: "csi-cinder-sc-delete" },
    dags: { gitSync: { repo: "https://github.com/acme/pipelines.git", ref: "release", subPath: "dags", period: "30s" } },
    env: { SLUICE_LOGGING__LEVEL: "debug", SLUICE_SCHEDULER__PARALLELISM: "64" },
  },
  "no ingress": { ingress: { enabled: false } },
  "sluice autoscaler": { workers: { sluiceAutoscaler: true, minReplicas: 0, maxReplicas: 12 } },
  "pods per task": { executor: "kubernetes", namespace: "pipelines", image: "registry.example.com/sluice:0.1.0", taskPods: { pendingTimeoutSeconds: 120, keepFailedPods: true } },
};

const render = (input: DeployOptionsInput) => renderManifests(parseDeployOptions(input));
const find = (objs: K8sObject[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind} ${name} in ${objs.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`);
  return o as Any;
};
const podSpecs = (objs: K8sObject[]) => objs.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet").map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: (o as Any).spec.template.spec, labels: (o as Any).spec.template.metadata.labels }));
const allContainers = (spec: Any): Any[] => [...(spec.initContainers ?? []), ...spec.containers];

/** The problems the options parser reports for `input` (it must refuse it). */
const problems = (input: unknown): { key: string; message: string }[] => {
  try {
    renderFromInput(input);
  } catch (err) {
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, ErrorCode.ConfigInvalid);
    return (err.details as { problems: { key: string; message: string }[] }).problems;
  }
  assert.fail("expected the options to be refused");
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe("deploy k8s: rendered manifests", () => {
  const validate = manifestValidator();

  for (const [variant, input] of Object.entries(VARIANTS)) {
    it(`${variant}: every object validates against the Kubernetes OpenAPI schemas (and the KEDA CRD)`, () => {
      const objs = render(input);
      const problems = objs.flatMap((o) => validate(o).map((p) => `${o.kind}/${o.metadata.name}: ${p}`));
      assert.deepEqual(problems, []);
      // The schemas cover every kind rendered: nothing slipped through as "unknown".
      for (const o of objs) assert.ok(validate.kinds.includes(`${o.apiVersion}/${o.kind}`), `${o.apiVersion}/${o.kind}`);
    });

    it(`${variant}: names are DNS labels, unique per kind, in the namespace, with app.kubernetes.io labels`, () => {
      const o = parseDeployOptions(input);
      const objs = renderManifests(o);
      const seen = new Set<string>();
      for (const obj of objs) {
        assert.match(obj.metadata.name, DNS_LABEL, `${obj.kind} name`);
        assert.ok(obj.metadata.name.length <= 63, obj.metadata.name);
        const key = `${obj.kind}/${obj.metadata.name}`;
        assert.ok(!seen.has(key), `duplicate ${key}`);
        seen.add(key);
        if (obj.kind === "Namespace") assert.equal(obj.metadata.name, o.namespace);
        else assert.equal(obj.metadata.namespace, o.namespace, key);
        for (const l of ["name", "instance", "component", "part-of", "version", "managed-by"]) assert.ok(obj.metadata.labels[`app.kubernetes.io/${l}`], `${key} lacks app.kubernetes.io/${l}`);
      }
      for (const p of podSpecs(objs)) {
        const owner = find(objs, p.owner.split("/")[0], p.owner.split("/")[1]);
        // The selector must match the template, or the API server refuses the workload.
        for (const [k, v] of Object.entries(owner.spec.selector.matchLabels as Record<string, string>)) assert.equal(p.labels[k], v, `${p.owner} selector ${k}`);
      }
    });

    it(`${variant}: every pod runs as non-root with a read-only root, no capabilities and /tmp on an emptyDir`, () => {
      for (const { owner, spec } of podSpecs(render(input))) {
        assert.equal(spec.securityContext.runAsNonRoot, true, owner);
        assert.ok(spec.securityContext.runAsUser > 0, owner);
        const emptyDirs = new Set((spec.volumes as Any[]).filter((v) => v.emptyDir).map((v) => v.name));
        for (const c of allContainers(spec)) {
          const where = `${owner} container ${c.name}`;
          assert.equal(c.securityContext.runAsNonRoot, true, where);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, where);
          assert.equal(c.securityContext.readOnlyRootFilesystem, true, where);
          assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] }, where);
          const tmp = (c.volumeMounts as Any[]).find((m) => m.mountPath === "/tmp");
          assert.ok(tmp && emptyDirs.has(tmp.name), `${where}: /tmp is not an emptyDir`);
          // Every mount names a volume of the pod (or a claim template).
          for (const m of c.volumeMounts as Any[]) assert.ok((spec.volumes as Any[]).some((v) => v.name === m.name) || m.name === "data", `${where}: volume ${m.name} missing`);
        }
      }
    });

    it(`${variant}: what the workloads reference exists (ConfigMap, Secret keys, ServiceAccount, Services)`, () => {
      const o = parseDeployOptions(input);
      const objs = renderManifests(o);
      const secret = objs.find((x) => x.kind === "Secret") as Any | undefined;
      assert.equal(!!secret, o.secrets.create);
      for (const { owner, spec } of podSpecs(objs)) {
        if (spec.serviceAccountName) find(objs, "ServiceAccount", spec.serviceAccountName);
        for (const c of allContainers(spec)) {
          for (const ef of c.envFrom ?? []) find(objs, "ConfigMap", ef.configMapRef.name);
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef;
            if (ref && secret) {
              assert.equal(ref.name, secret.metadata.name, `${owner} ${e.name}`);
              assert.ok(ref.key in secret.stringData, `${owner} ${e.name}: the Secret has no key ${ref.key}`);
            }
          }
        }
      }
      const ing = objs.find((x) => x.kind === "Ingress") as Any | undefined;
      assert.equal(!!ing, o.ingress.enabled);
      if (ing) {
        const backend = ing.spec.rules[0].http.paths[0].backend.service;
        const svc = find(objs, "Service", backend.name);
        assert.ok(svc.spec.ports.some((p: Any) => p.name === backend.port.name));
        assert.equal(ing.spec.rules[0].host, o.ingress.host);
      }
    });
  }

  it("the scheduler runs two replicas, is the only pod with a Kubernetes token, and the Role grants exactly what the executor needs", () => {
    const objs = render({});
    const sched = find(objs, "Deployment", "sluice-scheduler");
    assert.equal(sched.spec.replicas, 2);
    assert.deepEqual(sched.spec.template.spec.containers[0].command, ["sluice", "scheduler"]);
    assert.equal(sched.spec.template.spec.automountServiceAccountToken, true);
    for (const name of ["sluice-api", "sluice-worker"]) assert.equal(find(objs, "Deployment", name).spec.template.spec.automountServiceAccountToken, false, name);

    const role = find(objs, "Role", "sluice-executor");
    assert.deepEqual(role.rules, [
      { apiGroups: [""], resources: ["pods"], verbs: ["create", "get", "list", "watch", "delete"] },
      { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
    ]);
    assert.deepEqual(role.rules, EXECUTOR_RULES);
    assert.ok(!JSON.stringify(role.rules).includes("*"), "no wildcard");
    assert.ok(!objs.some((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding"), "nothing cluster-wide");
    const binding = find(objs, "RoleBinding", "sluice-executor");
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "sluice-executor" });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: sched.spec.template.spec.serviceAccountName, namespace: "sluice" }]);
  });

  it("the API has /health probes on its named port, a Service, and PodDisruptionBudgets guard API and scheduler", () => {
    const objs = render({ api: { port: 9090 } });
    const api = find(objs, "Deployment", "sluice-api");
    const c = api.spec.template.spec.containers[0];
    assert.deepEqual(c.command, ["sluice", "api"]);
    assert.deepEqual(c.ports, [{ name: "http", containerPort: 9090, protocol: "TCP" }]);
    for (const p of ["startupProbe", "readinessProbe", "livenessProbe"]) assert.deepEqual(c[p].httpGet, { path: "/health", port: "http" }, p);
    assert.ok(c.env.some((e: Any) => e.name === "SLUICE_API__HOST" && e.value === "0.0.0.0"), "the API must listen beyond loopback in a pod");
    assert.ok(c.env.some((e: Any) => e.name === "SLUICE_API__PORT" && e.value === "9090"));
    assert.equal(find(objs, "Service", "sluice-api").spec.ports[0].targetPort, "http");
    for (const name of ["sluice-api", "sluice-scheduler"]) {
      const pdb = find(objs, "PodDisruptionBudget", name);
      assert.deepEqual(pdb.spec.selector.matchLabels, find(objs, "Deployment", name).spec.selector.matchLabels);
    }
  });

  it("workers: `sluice worker` scaled by an HPA on CPU and memory, or by KEDA with the queue query, never both", () => {
    const hpaObjs = render({ workers: { minReplicas: 2, maxReplicas: 12, concurrency: 8, targetCpuUtilization: 65, targetMemoryUtilization: 75 } });
    const w = find(hpaObjs, "Deployment", "sluice-worker");
    assert.deepEqual(w.spec.template.spec.containers[0].command, ["sluice", "worker"]);
    assert.ok(w.spec.template.spec.containers[0].env.some((e: Any) => e.name === "SLUICE_WORKER__CONCURRENCY" && e.value === "8"));
    assert.deepEqual(w.spec.template.spec.containers[0].args, ["--queues", "default"]);
    assert.equal(find(hpaObjs, "ConfigMap", "sluice-config").data.SLUICE_EXECUTOR__KIND, "queue");
    const hpa = find(hpaObjs, "HorizontalPodAutoscaler", "sluice-worker");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "sluice-worker" });
    assert.equal(hpa.spec.minReplicas, 2);
    assert.equal(hpa.spec.maxReplicas, 12);
    assert.deepEqual(
      hpa.spec.metrics.map((m: Any) => [m.resource.name, m.resource.target.averageUtilization]),
      [["cpu", 65], ["memory", 75]],
    );
    assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 300);
    assert.ok(!hpaObjs.some((o) => o.kind === "ScaledObject"));

    const kedaObjs = render({ workers: { keda: true, minReplicas: 0, maxReplicas: 30, concurrency: 16, queue: "highmem" } });
    assert.ok(!kedaObjs.some((o) => o.kind === "HorizontalPodAutoscaler"), "KEDA makes its own HPA; a second one would fight it");
    const so = find(kedaObjs, "ScaledObject", "sluice-worker");
    assert.equal(so.spec.minReplicaCount, 0);
    assert.equal(so.spec.maxReplicaCount, 30);
    assert.equal(so.spec.scaleTargetRef.name, "sluice-worker");
    const pg = so.spec.triggers.find((t: Any) => t.type === "postgresql");
    assert.equal(pg.metadata.query, "SELECT ceil(count(*)::decimal / 16) FROM task_instance WHERE state IN ('queued','running') AND queue = 'highmem'");
    assert.equal(pg.metadata.query, kedaQuery(parseDeployOptions({ workers: { keda: true, concurrency: 16, queue: "highmem" } })));
    assert.equal(pg.metadata.targetQueryValue, "1");
    // KEDA reads the connection string from the target container's env: it must be there.
    assert.ok(find(kedaObjs, "Deployment", "sluice-worker").spec.template.spec.containers[0].env.some((e: Any) => e.name === pg.metadata.connectionFromEnv));
    assert.deepEqual(so.spec.triggers.map((t: Any) => t.type), ["postgresql", "cpu", "memory"]);
  });

  it("executor kubernetes: no worker pool; schedulers create task pods in this namespace from this image, which reach the API Service with a shared token key", async () => {
    const input: DeployOptionsInput = { executor: "kubernetes", name: "etl", namespace: "pipelines", image: "registry.example.com/sluice:2.0.0", api: { port: 9090 }, taskPods: { pendingTimeoutSeconds: 120 } };
    const objs = render(input);
    assert.ok(!objs.some((o) => o.metadata.name === "etl-worker"), "no worker Deployment, HPA or ScaledObject");
    const cm = find(objs, "ConfigMap", "etl-config");
    const secret = find(objs, "Secret", "etl-secrets");
    const svc = find(objs, "Service", "etl-api");
    // What a Sluice process in these pods would resolve, through the real config loader.
    const sample = Buffer.alloc(32, 7).toString("base64");
    const env = { ...cm.data, SLUICE_DB_URL: "postgres://sluice:pw@db:5432/sluice", SLUICE_SECRETS__KEY: sample, SLUICE_API__TASK_TOKEN_KEY: sample };
    const { config } = await loadConfig({ cwd: process.cwd(), env });
    assert.equal(config.executor.kind, "kubernetes");
    assert.equal(config.kubernetes.inCluster, true);
    assert.equal(config.kubernetes.namespace, "pipelines");
    assert.equal(config.kubernetes.image, "registry.example.com/sluice:2.0.0");
    assert.equal(config.kubernetes.pendingTimeoutMs, 120_000);
    const api = new URL(config.kubernetes.apiUrl);
    assert.equal(api.hostname, `${svc.metadata.name}.pipelines.svc`);
    assert.equal(Number(api.port || 80), svc.spec.ports[0].port, "task pods must dial the Service's port, not the container's");
    // Schedulers sign attempt tokens and API pods verify them: both read the one key from the Secret.
    for (const name of ["etl-scheduler", "etl-api"]) {
      const c = find(objs, "Deployment", name).spec.template.spec.containers[0];
      const e = c.env.find((x: Any) => x.name === "SLUICE_API__TASK_TOKEN_KEY");
      assert.deepEqual(e?.valueFrom?.secretKeyRef, { name: "etl-secrets", key: "task-token-key" }, name);
    }
    assert.match(secret.stringData["task-token-key"], new RegExp(PLACEHOLDER));
    // The Role the scheduler uses lives where the pods are created.
    assert.equal(find(objs, "Role", "etl-executor").metadata.namespace, "pipelines");
    // The queue default has none of it.
    const queue = render({});
    assert.equal(find(queue, "ConfigMap", "sluice-config").data.SLUICE_EXECUTOR__KIND, "queue");
    assert.ok(!("task-token-key" in find(queue, "Secret", "sluice-secrets").stringData));
    // git-sync volumes are not mounted in task pods: refused, naming the alternatives.
    const p = problems({ executor: "kubernetes", dags: { gitSync: { repo: "https://github.com/acme/pipelines.git" } } });
    assert.equal(p[0].key, "dags.gitSync");
    assert.match(p[0].message, /task pods do not mount the git-sync volume.*git bundles/);
    assert.equal(problems({ executor: "pods" })[0].key, "executor");
  });

  it("workers.sluiceAutoscaler: `sluice autoscaler` scales the worker Deployment with its own account (scale and pod metrics only), no HPA; its config resolves to that Deployment", async () => {
    const objs = render({ name: "etl", namespace: "pipelines", workers: { sluiceAutoscaler: true, minReplicas: 0, maxReplicas: 12, concurrency: 8, queue: "highmem", targetCpuUtilization: 60, targetMemoryUtilization: 50, scaleDownStabilizationSeconds: 120, resources: { requests: { cpu: "500m", memory: "1Gi" } } } });
    assert.ok(!objs.some((o) => o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject"), "one autoscaler per Deployment");
    const dep = find(objs, "Deployment", "etl-autoscaler");
    assert.equal(dep.spec.replicas, 1);
    const pod = dep.spec.template.spec;
    assert.equal(pod.serviceAccountName, "etl-autoscaler");
    assert.equal(pod.automountServiceAccountToken, true);
    const c = pod.containers[0];
    assert.deepEqual(c.command, ["sluice", "autoscaler"]);
    // What `sluice autoscaler` in that pod resolves, through the real config loader.
    const cm = find(objs, "ConfigMap", "etl-config");
    const sample = Buffer.alloc(32, 7).toString("base64");
    const env = { ...cm.data, ...Object.fromEntries(c.env.filter((e: Any) => typeof e.value === "string").map((e: Any) => [e.name, e.value])), SLUICE_DB_URL: "postgres://x:y@db/sluice", SLUICE_SECRETS__KEY: sample };
    const { config } = await loadConfig({ cwd: process.cwd(), env });
    const a = config.autoscaler;
    assert.deepEqual([a.enabled, a.actuator, a.namespace, a.queues, a.min, a.max, a.stabilizationWindowMs], [true, "kubernetes", "pipelines", ["highmem"], 0, 12, 120_000]);
    assert.equal(find(objs, "Deployment", a.deployment).metadata.labels["app.kubernetes.io/component"], "worker", "it scales the worker Deployment");
    assert.equal(config.kubernetes.inCluster, true);
    assert.equal(config.worker.concurrency, 8, "the queue rule divides by the workers' concurrency");
    // HPA-style targets (a share of the request) become per-worker targets: 60 % of 0.5 cores, 50 % of 1 GiB.
    assert.equal(a.targets.cpu, 0.3);
    assert.equal(a.targets.memory, 512);
    const role = find(objs, "Role", "etl-autoscaler");
    assert.deepEqual(role.rules, AUTOSCALER_RULES);
    assert.deepEqual(role.rules, [
      { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["get", "update"] },
      { apiGroups: ["metrics.k8s.io"], resources: ["pods"], verbs: ["get", "list"] },
    ]);
    assert.deepEqual(find(objs, "RoleBinding", "etl-autoscaler").subjects, [{ kind: "ServiceAccount", name: "etl-autoscaler", namespace: "pipelines" }]);
    // It reads the queue from PostgreSQL and takes no traffic.
    const pg = find(objs, "NetworkPolicy", "etl-postgres");
    assert.ok(pg.spec.ingress[0].from[0].podSelector.matchExpressions[0].values.includes("autoscaler"));
    assert.ok(find(objs, "NetworkPolicy", "etl-no-ingress").spec.podSelector.matchExpressions[0].values.includes("autoscaler"));
    // Without requests there is nothing to take a share of: the queue rule alone.
    const bare = render({ workers: { sluiceAutoscaler: true, resources: {} } });
    const bareEnv = find(bare, "Deployment", "sluice-autoscaler").spec.template.spec.containers[0].env.map((e: Any) => e.name);
    assert.ok(!bareEnv.includes("SLUICE_AUTOSCALER__TARGETS__CPU") && !bareEnv.includes("SLUICE_AUTOSCALER__TARGETS__MEMORY"));
    // Not with KEDA (two autoscalers fight), and the default renders none of it.
    assert.equal(problems({ workers: { sluiceAutoscaler: true, keda: true } })[0].key, "workers.sluiceAutoscaler");
    assert.ok(!render({}).some((o) => o.metadata.name === "sluice-autoscaler"));
  });

  it("internal PostgreSQL: a StatefulSet with a volume claim, reachable only from this release's Sluice pods", () => {
    const objs = render({ database: { mode: "internal", storage: "20Gi", storageClassName: "csi-cinder" } });
    const sts = find(objs, "StatefulSet", "sluice-postgres");
    assert.equal(sts.spec.serviceName, "sluice-postgres");
    assert.deepEqual(sts.spec.volumeClaimTemplates[0].spec, { accessModes: ["ReadWriteOnce"], storageClassName: "csi-cinder", resources: { requests: { storage: "20Gi" } } });
    assert.equal(find(objs, "Service", "sluice-postgres").spec.clusterIP, "None");
    const np = find(objs, "NetworkPolicy", "sluice-postgres");
    assert.deepEqual(np.spec.podSelector.matchLabels, sts.spec.selector.matchLabels);
    assert.deepEqual(np.spec.ingress, [
      {
        from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "sluice", "app.kubernetes.io/instance": "sluice" }, matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["api", "scheduler", "worker", "autoscaler"] }] } }],
        ports: [{ protocol: "TCP", port: 5432 }],
      },
    ]);
    const apiNp = find(objs, "NetworkPolicy", "sluice-api");
    assert.deepEqual(apiNp.spec.ingress, [{ ports: [{ protocol: "TCP", port: 8080 }] }]);
    // The URL in the Secret points at the in-cluster Service with the same (placeholder) password PostgreSQL gets.
    const secret = find(objs, "Secret", "sluice-secrets");
    assert.equal(secret.stringData["db-url"], `postgres://sluice:${secret.stringData["postgres-password"]}@sluice-postgres.sluice.svc:5432/sluice`);

    const ext = render({ database: { mode: "external" } });
    assert.ok(!ext.some((o) => o.kind === "StatefulSet" || o.metadata.name === "sluice-postgres"), "external: no PostgreSQL objects");
    assert.ok(!("postgres-password" in find(ext, "Secret", "sluice-secrets").stringData));
  });

  it("the Secret holds only clearly marked placeholders", () => {
    for (const mode of ["internal", "external"] as const) {
      const secret = find(render({ database: { mode } }), "Secret", "sluice-secrets");
      for (const [k, v] of Object.entries(secret.stringData as Record<string, string>)) assert.ok(v.includes(PLACEHOLDER), `${mode}: ${k} is not a placeholder`);
      assert.match(secret.metadata.annotations[PLACEHOLDER_ANNOTATION], /replace/i);
    }
    // The secrets-key placeholder must not pass for a key: Sluice refuses to start until it is replaced.
    assert.doesNotMatch(find(render({}), "Secret", "sluice-secrets").stringData["secrets-key"], /^[A-Za-z0-9+/]{43}=$/);
  });

  it("git-sync: an init container and a sidecar in scheduler and workers, and SLUICE_DAGS_FOLDER points into the checkout", () => {
    const objs = render({ dags: { gitSync: { repo: "https://github.com/acme/pipelines.git", subPath: "dags" } } });
    assert.equal(find(objs, "ConfigMap", "sluice-config").data.SLUICE_DAGS_FOLDER, "/git/current/dags");
    for (const name of ["sluice-scheduler", "sluice-worker"]) {
      const spec = find(objs, "Deployment", name).spec.template.spec;
      assert.deepEqual(spec.initContainers.map((c: Any) => c.name), ["git-sync-init"]);
      assert.ok(spec.initContainers[0].args.includes("--one-time"));
      assert.deepEqual(spec.containers.map((c: Any) => c.name).slice(1), ["git-sync"]);
      assert.ok(spec.containers[1].args.includes("--repo=https://github.com/acme/pipelines.git"));
    }
    assert.equal(find(objs, "Deployment", "sluice-api").spec.template.spec.initContainers, undefined);
    assert.equal(find(render({}), "ConfigMap", "sluice-config").data.SLUICE_DAGS_FOLDER, "/opt/sluice/dags");
  });

  it("the validator is not a rubber stamp: misspelt fields, wrong types and missing required fields are refused", () => {
    const objs = render({ workers: { keda: true } });
    const dep = structuredClone(find(objs, "Deployment", "sluice-api"));
    dep.spec.replica = 2;
    dep.spec.template.spec.containers[0].securityContext.runAsNonroot = true;
    dep.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    assert.deepEqual(validate(dep).sort(), [
      "spec.template.spec.containers.0.ports.0.containerPort: must be integer",
      "spec.template.spec.containers.0.securityContext: must NOT have additional properties (runAsNonroot)",
      "spec: must NOT have additional properties (replica)",
    ]);
    const so = structuredClone(find(objs, "ScaledObject", "sluice-worker"));
    delete so.spec.scaleTargetRef;
    so.spec.triggers[0].metdata = {};
    assert.ok(validate(so).includes("spec: must have required property 'scaleTargetRef'"), validate(so).join("; "));
    assert.ok(validate(so).includes("spec.triggers.0: must NOT have additional properties (metdata)"));
    assert.match(validate({ apiVersion: "apps/v1", kind: "DaemonSet" })[0], /no schema for apps\/v1\/DaemonSet/);
    assert.ok(validate({ ...find(objs, "Role", "sluice-executor"), apiVersion: "rbac.authorization.k8s.io/v1beta1" }).length > 0);
  });
});

describe("deploy k8s: options", () => {
  it("bad values are refused with the key and the fix, all at once", () => {
    const p = problems({ namespace: "Prod_NS", workers: { maxReplicas: "ten", concurrency: 0 }, api: { replica: 3 } });
    const keys = p.map((x) => x.key).sort();
    assert.deepEqual(keys, ["api", "namespace", "workers.concurrency", "workers.maxReplicas"]);
    assert.match(p.find((x) => x.key === "namespace")!.message, /lower-case letters, digits and '-'/);
    assert.match(p.find((x) => x.key === "api")!.message, /replica/);
  });

  it("scale to zero needs KEDA, min above max is refused, resources must be quantities, git URLs must be URLs", () => {
    assert.match(problems({ workers: { minReplicas: 0 } })[0].message, /needs workers\.keda: true \(--keda\) or workers\.sluiceAutoscaler: true/);
    assert.equal(problems({ workers: { minReplicas: 5, maxReplicas: 2 } })[0].key, "workers.minReplicas");
    assert.equal(problems({ api: { resources: { limits: { memory: "lots" } } } })[0].key, "api.resources.limits.memory");
    assert.equal(problems({ dags: { gitSync: { repo: "acme/pipelines" } } })[0].key, "dags.gitSync.repo");
    assert.equal(problems({ database: { mode: "cloud" } })[0].key, "database.mode");
    assert.equal(problems({ name: "a".repeat(41) })[0].key, "name");
  });

  it("defaults: namespace sluice, image sluice:0.1.0, HPA 1..10, internal PostgreSQL 10Gi", () => {
    const o = parseDeployOptions({});
    assert.equal(o.namespace, "sluice");
    assert.equal(o.image, "sluice:0.1.0");
    assert.deepEqual([o.workers.minReplicas, o.workers.maxReplicas, o.workers.keda], [1, 10, false]);
    assert.deepEqual(o.database, { mode: "internal", image: "postgres:17-bookworm", storage: "10Gi", resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } } });
  });
});
