/**
 * The detached process that carries out a KillOrder (see killOrder.ts): it
 * runs after the task process may already be gone, retries briefly when
 * Spark or Kubernetes does not answer, and exits within about 30 s whatever
 * happens. It writes nothing (its stdio is closed); the task log says the kill
 * was ordered, the master's state shows that it happened.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { KILL_ORDER_ENV, killGroup, type KillOrder } from "./killOrder.js";
import { StandaloneRestClient, killAppThroughUi } from "./standaloneRest.js";

const DEADLINE_MS = 25_000;
/** A driver asked to stop gets this long to end its spark-submit process by itself before SIGKILL. */
const GROUP_GRACE_MS = 3_000;

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Retry `fn` until it succeeds or the deadline passes. */
async function withRetries(deadline: number, fn: () => Promise<unknown>): Promise<boolean> {
  for (let wait = 250; Date.now() < deadline; wait = Math.min(wait * 2, 4_000)) {
    try {
      await fn();
      return true;
    } catch {
      await sleep(wait);
    }
  }
  return false;
}

async function endGroup(pgid: number | undefined, graceMs: number): Promise<void> {
  if (!pgid) return;
  // SIGTERM first: spark-submit's shutdown hook then stops the SparkContext, which tells the master.
  killGroup(pgid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < until) await sleep(100);
  killGroup(pgid, "SIGKILL");
}

async function kubeApi(kubeconfig: string) {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const { KubeSparkApi } = await import("./kubeClient.js");
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig);
  return KubeSparkApi.connect(kc);
}

export async function carryOut(order: KillOrder): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  switch (order.kind) {
    case "standalone-app": {
      if (order.appId) {
        const appId = order.appId;
        await withRetries(Math.min(deadline, Date.now() + 10_000), () => killAppThroughUi(order.webUiUrl, appId, order.token, AbortSignal.timeout(5_000)));
        await endGroup(order.pgid, GROUP_GRACE_MS);
      } else await endGroup(order.pgid, GROUP_GRACE_MS);
      return;
    }
    case "standalone-driver": {
      const rest = new StandaloneRestClient(order.restUrl, order.token);
      await withRetries(deadline, async () => {
        if (!(await rest.kill(order.driverId, AbortSignal.timeout(5_000)))) {
          // Refused: it may have ended already; that is only a failure if it still runs.
          const s = await rest.status(order.driverId, AbortSignal.timeout(5_000));
          if (s.driverState === "RUNNING" || s.driverState === "SUBMITTED" || s.driverState === "RELAUNCHING") throw new Error("still running");
        }
      });
      return;
    }
    case "k8s-app": {
      await withRetries(deadline, async () => (await kubeApi(order.kubeconfig)).delete(order.namespace, order.name));
      return;
    }
    case "k8s-pod": {
      await withRetries(deadline, async () => (await kubeApi(order.kubeconfig)).deletePod(order.namespace, order.pod));
      await endGroup(order.pgid, GROUP_GRACE_MS);
      return;
    }
  }
}

const text = process.env[KILL_ORDER_ENV];
if (text) {
  carryOut(JSON.parse(text) as KillOrder)
    .catch(() => {})
    .finally(() => process.exit(0));
}
