/**
 * The deployment files that are not rendered: the Dockerfile, the kind
 * config and the Grafana dashboard. Nothing here can build an image or start
 * a cluster (no container engine on the test machines), so these check what
 * can be checked: that they agree with the manifests and parse.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { parseDeployOptions, renderManifests } from "../../src/deploy/index.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (p: string) => readFileSync(join(REPO_ROOT, p), "utf8");

describe("deployment files", () => {
  it("the Dockerfile is multi-stage, runs as the uid the manifests require, and puts `sluice` on the PATH", () => {
    const df = read("Dockerfile");
    assert.deepEqual([...df.matchAll(/^FROM (\S+) AS (\w+)/gm)].map((m) => [m[1], m[2]]), [["node:20-bookworm-slim", "build"], ["node:20-bookworm-slim", "runtime"]]);
    const user = /^USER (\d+):(\d+)$/m.exec(df);
    assert.ok(user, "USER must be numeric so Kubernetes can check runAsNonRoot");
    const api = renderManifests(parseDeployOptions({})).find((o) => o.kind === "Deployment") as Record<string, any>;
    assert.equal(Number(user[1]), api.spec.template.spec.securityContext.runAsUser);
    assert.match(df, /^ENTRYPOINT \["node", "bin\/sluice\.js"\]$/m);
    assert.match(df, /ln -s \/opt\/sluice\/bin\/sluice\.js \/usr\/local\/bin\/sluice/);
    assert.match(df, /npm prune --omit=dev/);
    // The runtime stage copies the build's output, never the sources.
    const runtime = df.slice(df.indexOf("AS runtime"));
    assert.doesNotMatch(runtime, /COPY (src|test|ui)\b/);
    // Git bundles run `git` in the scheduler, worker and task-pod containers of this stage.
    assert.match(runtime, /apt-get install[^\n]*\bgit\b/);
    for (const p of [...df.matchAll(/^COPY (?!--from)(\S+)/gm)].map((m) => m[1])) assert.ok(existsSync(join(REPO_ROOT, p)), `COPY ${p}: no such path`);
    const ignored = read(".dockerignore").split("\n").map((l) => l.trim());
    for (const p of ["node_modules", "dist", ".git"]) assert.ok(ignored.includes(p), `.dockerignore lacks ${p}`);
  });

  it("the kind config has one control plane, three workers and a host port for the ingress", () => {
    const kind = parse(read("deploy/kind/kind-config.yaml")) as Record<string, any>;
    assert.equal(kind.apiVersion, "kind.x-k8s.io/v1alpha4");
    assert.deepEqual(kind.nodes.map((n: { role: string }) => n.role), ["control-plane", "worker", "worker", "worker"]);
    assert.deepEqual(kind.nodes[0].extraPortMappings.find((p: { containerPort: number }) => p.containerPort === 80), { containerPort: 80, hostPort: 8081, protocol: "TCP" });
  });

  it("the Grafana dashboard is valid dashboard JSON whose queries use the Sluice metrics", () => {
    const dash = JSON.parse(read("deploy/grafana/sluice-dashboard.json")) as Record<string, any>;
    assert.equal(dash.uid, "sluice-overview");
    assert.equal(typeof dash.schemaVersion, "number");
    const ids = dash.panels.map((p: { id: number }) => p.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids must be unique");
    const exprs: string[] = dash.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\bsluice_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ""))));
    assert.deepEqual([...used].sort(), [
      "sluice_autoscaler_current_replicas",
      "sluice_autoscaler_desired_replicas",
      "sluice_task_duration_seconds",
      "sluice_tasks_queued",
      "sluice_tasks_running",
      "sluice_worker_cpu_utilization",
    ]);
    for (const p of dash.panels) assert.ok(p.gridPos && p.type && p.title, `panel ${p.id}`);
  });

  it("the guide covers kind and an OpenStack cloud, and says plainly what was not run", () => {
    const doc = read("docs/kubernetes.md");
    for (const s of ["kind load docker-image", "port-forward service/sluice-api", "sluice deploy k8s", "OpenStack", "Octavia", "storageClassName", "not run on a real cluster"]) assert.ok(doc.includes(s), `docs/kubernetes.md lacks "${s}"`);
  });
});
