/**
 * Spark on Kubernetes through the spark-operator: the task creates a
 * SparkApplication, reads `.status.applicationState.state` until it is final
 * (COMPLETED is success; FAILED and SUBMISSION_FAILED are failures), follows
 * the driver pod's log into the task log, and deletes the SparkApplication
 * when the task is stopped (the operator then removes the driver and
 * executor pods). A SparkApplication is left in place when it ends, so its
 * status and driver log stay inspectable (spec.timeToLiveSeconds or a
 * cleanup job removes it).
 */
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { DriverOutput, failureMessage } from "./driverOutput.js";
import { dispatchKill } from "./killOrder.js";
import { apiMessage, apiStatus, DRIVER_CONTAINER, kubeConfigFor, KubeSparkApi } from "./kubeClient.js";
import { attemptAnnotations, attemptName } from "./kubeNames.js";
import { buildSparkApplication } from "./sparkApplication.js";
import type { KubernetesTarget } from "./sparkConnection.js";
import type { SparkEnd, SparkIO, SparkJob } from "./sparkJob.js";

/** Final application states (ApplicationStateType in the operator). */
const SUCCESS_STATES = new Set(["COMPLETED"]);
const FAILURE_STATES = new Set(["FAILED", "SUBMISSION_FAILED"]);
/** API reads may fail this long in a row before the task gives up on the application. */
const UNREACHABLE_GRACE_MS = 60_000;
/** After the final state, how long the driver's log stream gets to deliver its last lines. */
const LOG_DRAIN_MS = 5_000;

function sameAttempt(existing: Record<string, any>, job: SparkJob): boolean {
  const want = attemptAnnotations(job.attempt);
  const have = (existing?.metadata?.annotations ?? {}) as Record<string, string>;
  return Object.keys(want).every((k) => have[k] === want[k]);
}

/** The driver pod's log into the task log, following it until the container ends. */
class DriverLogFollower {
  private controller: AbortController | undefined;
  private done: Promise<void> | undefined;
  private starting = false;

  constructor(
    private readonly api: KubeSparkApi,
    private readonly namespace: string,
    private readonly io: SparkIO,
    private readonly out: DriverOutput,
  ) {}

  get started(): boolean {
    return this.done !== undefined;
  }

  /** Start following `pod` (once); a failure (container not started yet) is retried at the next call. */
  async start(pod: string): Promise<void> {
    if (this.done || this.starting) return;
    this.starting = true;
    let finished!: () => void;
    const done = new Promise<void>((r) => (finished = r));
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        const text = chunk.toString();
        this.io.write("stdout", text);
        this.out.push("stdout", text);
        cb();
      },
    });
    sink.on("finish", finished);
    sink.on("close", finished);
    sink.on("error", finished);
    try {
      this.controller = await this.api.followLog(this.namespace, pod, DRIVER_CONTAINER, sink);
      this.done = done;
    } catch {
      /* not ready yet */
    } finally {
      this.starting = false;
    }
  }

  /** Wait for the stream to end by itself (bounded), then stop it. */
  async drain(ms: number): Promise<void> {
    if (this.done) await Promise.race([this.done, sleep(ms)]);
    this.controller?.abort();
    this.out.end();
  }
}

export async function runKubeOperator(job: SparkJob, t: KubernetesTarget, io: SparkIO): Promise<SparkEnd> {
  const name = attemptName(job.attempt);
  const body = buildSparkApplication(job, t, name);
  const namespace = body.metadata.namespace;
  const api = await KubeSparkApi.connect(await kubeConfigFor(t));
  io.write("log", `[INFO] Creating SparkApplication ${namespace}/${name} on ${t.apiServer}.\n`);
  try {
    await api.create(namespace, body as unknown as Record<string, unknown>);
  } catch (err) {
    const status = apiStatus(err);
    if (status === 409) {
      // Our own object from an earlier try of this create (the answer was lost): follow it. Anything else is a clash.
      const existing = await api.get(namespace, name).catch(() => undefined);
      if (!existing || !sameAttempt(existing, job)) {
        return { ok: false, state: "NOT_SUBMITTED", driverId: name, retryable: false, error: `A SparkApplication ${namespace}/${name} already exists and was not created by this attempt; delete it (kubectl delete sparkapplication -n ${namespace} ${name}) and clear the task.` };
      }
      io.write("log", `[INFO] SparkApplication ${namespace}/${name} already exists for this attempt; following it.\n`);
    } else {
      const clientError = status !== undefined && status >= 400 && status < 500 && status !== 429;
      const hint = status === 401 || status === 403 ? " Check the connection's password (a bearer token) and the RBAC rights on sparkapplications." : status === 404 ? " Is the spark-operator (its CRD) installed in the cluster?" : "";
      return { ok: false, state: "NOT_SUBMITTED", driverId: name, retryable: !clientError, error: `Kubernetes refused the SparkApplication ${namespace}/${name}${status ? ` (HTTP ${status})` : ""}: ${apiMessage(err)}.${hint}` };
    }
  }
  io.note({ driver_id: name, state: "SUBMITTED" });
  const killOrder = () => dispatchKill({ kind: "k8s-app", kubeconfig: api.exportConfig(), namespace, name }, (text) => io.write("log", text));
  if (io.signal.aborted) killOrder();
  else io.signal.addEventListener("abort", killOrder, { once: true });

  const out = new DriverOutput();
  const logs = new DriverLogFollower(api, namespace, io, out);
  let state = "";
  let appId: string | undefined;
  let errorMessage: string | undefined;
  let failingSince: number | undefined;
  const stopped = (): SparkEnd => ({ ok: false, state: "KILLED", driverId: name, appId, retryable: true, error: `The SparkApplication ${namespace}/${name} was deleted because the task was stopped.` });
  try {
    for (;;) {
      if (io.signal.aborted) return stopped();
      let app: Record<string, any> | undefined;
      try {
        app = await api.get(namespace, name);
        failingSince = undefined;
      } catch (err) {
        if (apiStatus(err) === 404) {
          return { ok: false, state: "DELETED", driverId: name, appId, retryable: true, error: `The SparkApplication ${namespace}/${name} was deleted while it ran (not by this task).` };
        }
        failingSince ??= Date.now();
        if (Date.now() - failingSince > UNREACHABLE_GRACE_MS) return { ok: false, state: state || "UNKNOWN", driverId: name, appId, retryable: true, error: `Lost track of SparkApplication ${namespace}/${name}: ${apiMessage(err)}` };
      }
      if (app) {
        const status = (app.status ?? {}) as Record<string, any>;
        const next = String(status.applicationState?.state ?? "");
        errorMessage = status.applicationState?.errorMessage || errorMessage;
        if (status.sparkApplicationId && status.sparkApplicationId !== appId) {
          appId = String(status.sparkApplicationId);
          io.note({ app_id: appId });
        }
        if (next && next !== state) {
          state = next;
          io.note({ state });
          io.write("log", `[INFO] SparkApplication ${name} is ${state}.\n`);
        }
        const pod = status.driverInfo?.podName as string | undefined;
        if (pod && !logs.started && state !== "SUBMITTED" && state !== "") await logs.start(pod);
        if (SUCCESS_STATES.has(state) || FAILURE_STATES.has(state)) break;
      }
      await sleep(t.pollIntervalMs, undefined, { signal: io.signal }).catch(() => {});
    }
    await logs.drain(LOG_DRAIN_MS);
  } finally {
    io.signal.removeEventListener("abort", killOrder);
    // A stopped task does not wait for the log; drain() again after a normal end is a no-op.
    await logs.drain(0);
  }
  const ids = { driverId: name, appId };
  if (SUCCESS_STATES.has(state)) return { ok: true, state, ...ids, retryable: false };
  const what = `SparkApplication ${namespace}/${name} ended ${state}${errorMessage ? `: ${errorMessage}` : "."}`;
  return { ok: false, state, ...ids, retryable: true, error: failureMessage(what, out) };
}
