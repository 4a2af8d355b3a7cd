/**
 * `sluice deploy k8s` as a user runs it (`node bin/sluice.js ...`): what it
 * prints, what it writes, how it refuses bad options, and that the manifests
 * committed under deploy/k8s are exactly what it renders today.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { manifestFiles, parseDeployOptions, renderManifests, type K8sObject } from "../../src/deploy/index.js";
import { manifestValidator } from "./k8sSchemas.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO_ROOT, "bin", "sluice.js");
const tmp = mkdtempSync(join(tmpdir(), "sluice-deploy-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}
function sluice(args: string[]): Promise<Result> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SLUICE_") && k !== "NODE_TEST_CONTEXT"));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: tmp, env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const show = (r: Result) => `exit ${r.code}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr}`;
const docs = (yamlText: string): K8sObject[] => parseAllDocuments(yamlText).map((d) => d.toJS() as K8sObject);
const values = (name: string, content: string): string => {
  const file = join(tmp, name);
  writeFileSync(file, content);
  return file;
};

describe("sluice deploy k8s", () => {
  it("prints multi-document YAML that parses back to exactly the rendered objects, all valid", async () => {
    const r = await sluice(["deploy", "k8s"]);
    assert.equal(r.code, 0, show(r));
    const objs = docs(r.stdout);
    assert.deepEqual(objs, renderManifests(parseDeployOptions({})));
    const validate = manifestValidator();
    assert.deepEqual(objs.flatMap((o) => validate(o).map((p) => `${o.kind}/${o.metadata.name}: ${p}`)), []);
  });

  it("the committed deploy/k8s manifests are what the CLI renders (regenerate with `sluice deploy k8s --out deploy/k8s`)", async () => {
    const out = join(tmp, "k8s");
    const r = await sluice(["deploy", "k8s", "--out", out]);
    assert.equal(r.code, 0, show(r));
    const committed = join(REPO_ROOT, "deploy", "k8s");
    const names = readdirSync(out).sort();
    assert.deepEqual(readdirSync(committed).sort(), names, "deploy/k8s has other files than the CLI writes: re-render it");
    for (const f of names) assert.equal(readFileSync(join(committed, f), "utf8"), readFileSync(join(out, f), "utf8"), `deploy/k8s/${f} drifted: re-render it`);
    assert.deepEqual(names, manifestFiles(renderManifests(parseDeployOptions({}))).map((f) => f.file).sort());
  });

  it("--out replaces its own earlier files (a dropped object does not linger) and leaves other files alone", async () => {
    const out = join(tmp, "switch");
    assert.equal((await sluice(["deploy", "k8s", "--out", out])).code, 0);
    writeFileSync(join(out, "my-notes.yaml"), "# mine\n");
    const r = await sluice(["deploy", "k8s", "--out", out, "--keda", "--json"]);
    assert.equal(r.code, 0, show(r));
    const files = readdirSync(out);
    assert.ok(files.includes("my-notes.yaml"));
    assert.ok(files.some((f) => f.includes("scaledobject")), files.join(", "));
    assert.ok(!files.some((f) => f.includes("horizontalpodautoscaler")), "the HPA of the first render must be gone");
    assert.deepEqual((JSON.parse(r.stdout) as { files: string[] }).files.sort(), files.filter((f) => f !== "my-notes.yaml").sort());
  });

  it("flags override the values file; --json prints a v1 List", async () => {
    const file = values("values.json", JSON.stringify({ namespace: "from-file", image: "file/image:1", workers: { maxReplicas: 7, minReplicas: 0 } }));
    const r = await sluice(["deploy", "k8s", "--values", file, "--namespace", "from-flag", "--keda", "--json"]);
    assert.equal(r.code, 0, show(r));
    const list = JSON.parse(r.stdout) as { apiVersion: string; kind: string; items: K8sObject[] };
    assert.equal(list.kind, "List");
    assert.ok(list.items.every((o) => o.kind === "Namespace" ? o.metadata.name === "from-flag" : o.metadata.namespace === "from-flag"));
    const so = list.items.find((o) => o.kind === "ScaledObject") as Record<string, any>;
    assert.deepEqual([so.spec.minReplicaCount, so.spec.maxReplicaCount], [0, 7]);
    const api = list.items.find((o) => o.kind === "Deployment" && o.metadata.name === "sluice-api") as Record<string, any>;
    assert.equal(api.spec.template.spec.containers[0].image, "file/image:1");
  });

  it("bad options exit 2 naming the key and the fix", async () => {
    const cases: [string[], RegExp][] = [
      [["--namespace", "Prod_NS"], /namespace: expected lower-case letters, digits and '-'/],
      [["--values", values("zero.json", '{"workers": {"minReplicas": 0}}')], /workers\.minReplicas: 0 needs workers\.keda: true \(--keda\)/],
      [["--values", values("typo.json", '{"worker": {"maxReplicas": 3}}')], /Unrecognized key: "worker" \(every key is listed in docs\/kubernetes.md/],
      [["--values", values("bad.json", "{ namespace: x }")], /--values .*bad\.json is not valid JSON.*Example/],
      [["--values", values("list.json", "[1]")], /must hold a JSON object/],
      [["--values", join(tmp, "missing.json")], /cannot read it \(ENOENT\)/],
      [["--image", "has space:1"], /image: expected an image reference/],
    ];
    for (const [args, message] of cases) {
      const r = await sluice(["deploy", "k8s", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${show(r)}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stdout, "", "nothing half-rendered on stdout");
    }
    const j = await sluice(["deploy", "k8s", "--namespace", "UPPER", "--json"]);
    assert.equal(j.code, 2);
    const err = JSON.parse(j.stderr) as { error: { code: string; details: { problems: { key: string }[] } } };
    assert.equal(err.error.code, "CONFIG_INVALID");
    assert.deepEqual(err.error.details.problems.map((p) => p.key), ["namespace"]);
  });

  it("--help of `deploy` and `deploy k8s` shows an example", async () => {
    for (const args of [["deploy", "--help"], ["deploy", "k8s", "--help"]]) {
      const r = await sluice(args);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /Example:\n\s+\$ sluice deploy k8s/);
    }
  });
});
