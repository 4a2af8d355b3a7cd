/**
 * The `pod` task option (Kubernetes executor): checked when the DAG file
 * loads, so a typo fails the DAG import with the task named, not a pod create
 * at run time.
 */
import { z } from "zod";
import type { TaskPodSpec } from "../core/dagSpec.js";

const Obj = z.record(z.string(), z.unknown());
const PodOptions = z.strictObject({
  image: z.string().min(1).optional(),
  resources: Obj.optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(Obj).optional(),
  affinity: Obj.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"), z.string()).optional(),
  secretEnv: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.strictObject({ secret: z.string().min(1), key: z.string().min(1) })).optional(),
  serviceAccount: z.string().min(1).optional(),
  extraContainers: z.array(Obj.and(z.object({ name: z.string().min(1) }))).optional(),
});

/** The checked copy of a task's `pod` option; `fail` throws the DAG error. */
export function podSpec(given: unknown, taskId: string, fail: (msg: string) => never): TaskPodSpec {
  const r = PodOptions.safeParse(given);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "pod"}: ${i.message}`).join("; ");
    fail(`task "${taskId}": pod option is invalid (${problems}). Keys: image, resources, nodeSelector, tolerations, affinity, env, secretEnv, serviceAccount, extraContainers.`);
  }
  return r.data as TaskPodSpec;
}
