import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { HEADER, manifestFiles, renderFromInput, toMultiDocYaml } from "../../deploy/render.js";
import { globals } from "../context.js";
import { print } from "../format.js";

interface K8sFlags {
  namespace?: string;
  image?: string;
  values?: string;
  out?: string;
  keda?: boolean;
  executor?: string;
  sluiceAutoscaler?: boolean;
}

async function readValues(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new SluiceError(ErrorCode.Usage, `--values ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Give the path of a JSON file, like --values deploy/values.json.`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SluiceError(ErrorCode.Usage, `--values ${file} is not valid JSON (${(err as Error).message}). Example: {"workers": {"maxReplicas": 20}}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new SluiceError(ErrorCode.Usage, `--values ${file} must hold a JSON object, like {"namespace": "pipelines"}.`);
  return v as Record<string, unknown>;
}

/** Flags win over the values file, which wins over the defaults. */
async function optionsFrom(flags: K8sFlags): Promise<{ input: Record<string, unknown>; source: string }> {
  const input = flags.values ? await readValues(flags.values) : {};
  if (flags.namespace !== undefined) input.namespace = flags.namespace;
  if (flags.image !== undefined) input.image = flags.image;
  if (flags.executor !== undefined) input.executor = flags.executor;
  if (flags.keda) input.workers = { ...((input.workers as object | undefined) ?? {}), keda: true };
  if (flags.sluiceAutoscaler) input.workers = { ...((input.workers as object | undefined) ?? {}), sluiceAutoscaler: true };
  const source = flags.values ? `deploy options (${flags.values} and flags)` : "deploy options";
  return { input, source };
}

/** Replace what an earlier render wrote (files starting with our header), so a dropped object does not linger. */
async function writeFiles(dir: string, files: { file: string; content: string }[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) {
    if (!name.endsWith(".yaml")) continue;
    const text = await readFile(join(dir, name), "utf8");
    if (text.startsWith(HEADER)) await rm(join(dir, name));
  }
  for (const f of files) await writeFile(join(dir, f.file), f.content);
}

/** `deploy k8s`: Kubernetes manifests for a Sluice installation. */
export function registerDeploy(program: Command): void {
  const deploy = program
    .command("deploy")
    .description("Render deployment files (Kubernetes manifests)")
    .addHelpText("after", "\nExample:\n  $ sluice deploy k8s | kubectl apply -f -");
  deploy
    .command("k8s")
    .description("Render Kubernetes manifests: API, scheduler (2 replicas), autoscaled workers, PostgreSQL, RBAC, config, NetworkPolicies")
    .option("--namespace <ns>", "namespace of every object (default: sluice)")
    .option("--image <image>", "Sluice image (default: sluice:0.1.0, built from the Dockerfile)")
    .option("--values <file.json>", "options as JSON (see docs/kubernetes.md for every key); flags override it")
    .option("--out <dir>", "write one file per object into <dir> instead of printing multi-document YAML")
    .option("--keda", "scale workers with a KEDA ScaledObject (queue depth from PostgreSQL) instead of the HPA")
    .option("--sluice-autoscaler", "scale workers with `sluice autoscaler` (queue depth, CPU and memory; decisions in the UI) instead of the HPA")
    .option("--executor <kind>", 'queue (worker Deployment, autoscaled; the default) or kubernetes (one pod per task attempt, no workers)')
    .addHelpText(
      "after",
      "\nExample:\n  $ sluice deploy k8s --namespace pipelines --image registry.example.com/sluice:0.1.0 --keda | kubectl apply -f -\n  $ sluice deploy k8s --executor kubernetes --out deploy/k8s-pods\n  $ sluice deploy k8s --values deploy/values.json --out deploy/k8s",
    )
    .action(async (flags: K8sFlags, cmd: Command) => {
      const g = globals(cmd);
      const { input, source } = await optionsFrom(flags);
      const objects = renderFromInput(input, source);
      if (flags.out) {
        const dir = resolve(flags.out);
        const files = manifestFiles(objects);
        await writeFiles(dir, files);
        print(!!g.json, { dir, files: files.map((f) => f.file) }, () => `Wrote ${files.length} manifests to ${dir}. Apply with: kubectl apply -f ${flags.out}`);
        return;
      }
      // kubectl applies a v1 List as readily as multi-document YAML.
      if (g.json) process.stdout.write(`${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`);
      else process.stdout.write(toMultiDocYaml(objects));
    });
}
