/**
 * Killing a Spark application when its task is cancelled or times out.
 *
 * The kill cannot be an ordinary request from the task process: the moment
 * the attempt's signal aborts, the attempt is recorded as ended and its warm
 * task process is retired (it exits as soon as the final write is done), so
 * an HTTP request still in flight would often die with it and leave the
 * driver running on the cluster. The order is therefore carried out by a
 * small detached process (sparkKiller.ts), started synchronously in the abort
 * handler, which outlives the task process: it asks Spark to kill the
 * application, then takes down the local spark-submit process group.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export type KillOrder =
  /** Client mode: the master UI's kill endpoint for the app (if its id is known), then the spark-submit process group. */
  | { kind: "standalone-app"; webUiUrl: string; appId?: string; token?: string; pgid?: number }
  /** Cluster mode: the REST server's kill for the driver. */
  | { kind: "standalone-driver"; restUrl: string; driverId: string; token?: string }
  /** Kubernetes operator: delete the SparkApplication (the operator removes its pods). */
  | { kind: "k8s-app"; kubeconfig: string; namespace: string; name: string }
  /** Kubernetes via spark-submit: delete the driver pod (executors go with it), then the spark-submit process group. */
  | { kind: "k8s-pod"; kubeconfig: string; namespace: string; pod: string; pgid?: number };

/** Environment variable the order travels in (not argv: it may hold a token, and argv is world-readable in /proc). */
export const KILL_ORDER_ENV = "SLUICE_SPARK_KILL_ORDER";
const KILLER_MAIN = fileURLToPath(new URL("./sparkKiller.js", import.meta.url));

/** Kill a process group, quietly when it is gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * Start the kill process for `order` and return at once. If it cannot be
 * started, the local process group is killed here so nothing keeps running
 * on this machine at least.
 */
export function dispatchKill(order: KillOrder, write?: (text: string) => void): void {
  try {
    const child = spawn(process.execPath, [KILLER_MAIN], {
      detached: true,
      stdio: "ignore",
      env: { PATH: process.env.PATH ?? "", [KILL_ORDER_ENV]: JSON.stringify(order) },
    });
    child.on("error", () => fallback(order));
    child.unref();
    write?.(`[INFO] Killing the Spark application (${describeOrder(order)}).\n`);
  } catch {
    fallback(order);
  }
}

function fallback(order: KillOrder): void {
  if ("pgid" in order && order.pgid) killGroup(order.pgid, "SIGKILL");
}

export function describeOrder(o: KillOrder): string {
  switch (o.kind) {
    case "standalone-app":
      return o.appId ? `application ${o.appId} through ${o.webUiUrl}` : "the spark-submit process (no application id yet)";
    case "standalone-driver":
      return `driver ${o.driverId} through ${o.restUrl}`;
    case "k8s-app":
      return `SparkApplication ${o.namespace}/${o.name}`;
    case "k8s-pod":
      return `driver pod ${o.namespace}/${o.pod}`;
  }
}
