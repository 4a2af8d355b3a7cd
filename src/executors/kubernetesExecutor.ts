import { readFile } from "node:fs/promises";
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { parse as parseYaml } from "yaml";
import { tokenLifetimeMs, type AttemptTokens } from "../auth/attemptToken.js";
import type { TaskPodSpec } from "../core/dagSpec.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { finishAttempt } from "../runner/finishAttempt.js";
import { apiMessage, apiStatus } from "../kube/client.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";
import type { AdoptInfo, Executor, FinishedListener, LaunchRequest } from "./executor.js";
import { PodApi, type KubeSettings, type WatchEvent } from "./k8s/podApi.js";
import { buildPod, MAIN_CONTAINER, podName, TASK_POD_SELECTOR, TI_LABEL, TRY_LABEL } from "./k8s/podManifest.js";
import { pendingReason, podEnd, type PodEnd } from "./k8s/podStatus.js";

const NO_DELAY = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };
const CREATE_TRIES = 8;
const CHECK_INTERVAL_MS = 500;
/** How often tracked attempts' heartbeats and timeouts are read from the store. */
const LIVENESS_INTERVAL_MS = 2_000;
/** Grace after a task's own timeout before its pod is deleted (the runner stops the task first). */
const HARD_KILL_GRACE_MS = 3_000;
const LOG_LIMIT_BYTES = 1 << 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PodTemplateError extends SluiceError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(ErrorCode.ConfigInvalid, message, opts);
    this.name = "PodTemplateError";
  }
}

interface Tracked {
  req: LaunchRequest;
  name: string;
  /** creating: the create call is under way; created: the pod exists; ending: being finished or cancelled by us. */
  phase: "creating" | "created" | "ending";
  createdAt: number;
  pod?: V1Pod;
  /**
   * The newest watch event for this pod that arrived while the create call was
   * still under way: a pod that starts (or even ends) fast is reported on the
   * watch before the create's answer is handled, and is newer than that answer.
   */
  watched?: { type: string; pod: V1Pod };
}

export interface KubernetesExecutorOptions {
  store: Store;
  settings: KubeSettings;
  tokens: AttemptTokens;
  log: Logger;
  onFinished: FinishedListener;
  /** A tracked attempt whose runner has not heartbeated for this long is failed and its pod deleted. */
  zombieThresholdMs: number;
  /** Git bundles the pods must be able to check out (config.bundles). */
  bundles?: readonly { name: string; token?: string }[];
  /** Tests: the client-node-backed API (default: connect with `settings`). */
  api?: PodApi;
}

/**
 * One pod per attempt. The pod runs `sluice task run --remote <apiUrl>` with
 * an attempt token, so it reports claim, heartbeats, logs and outcome through
 * the task API and never sees database credentials. This side creates pods,
 * watches them (resourceVersion; re-list on 410 Gone; reconnect when the
 * stream drops), records the ends the runner could not record itself (the
 * container never started, was OOM-killed, the pod vanished), fails pods stuck
 * Pending, keeps their logs in the store before deleting them, and adopts the
 * pods of a dead scheduler.
 */
export class KubernetesExecutor implements Executor {
  readonly name = "kubernetes";
  private api: PodApi | undefined;
  private template: V1Pod | undefined;
  private tracked = new Map<number, Tracked>();
  private podOverrides = new Map<string, Map<string, TaskPodSpec | undefined>>();
  private resourceVersion: string | undefined;
  private watchAbort: AbortController | undefined;
  /** Ends the wait for the current watch (set per watch; stop() calls it). */
  private endWatch: ((v: unknown) => void) | undefined;
  private watching: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private inFlight = new Set<Promise<void>>();
  private lastLiveness = 0;
  private checkingLiveness = false;

  constructor(private readonly o: KubernetesExecutorOptions) {}

  async start(): Promise<void> {
    const file = this.o.settings.podTemplateFile;
    if (file) {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        throw new PodTemplateError(`Cannot read the pod template kubernetes.podTemplateFile = ${file}: ${(err as Error).message}. Fix the path or unset it.`, { cause: err });
      }
      const t = parseYaml(text) as V1Pod | null;
      if (!t || typeof t !== "object" || (t.kind !== undefined && t.kind !== "Pod")) {
        throw new PodTemplateError(`The pod template ${file} is not a Pod manifest (kind: Pod, with spec.containers); fix the file or unset kubernetes.podTemplateFile.`);
      }
      this.template = t;
    }
    this.api = this.o.api ?? (await PodApi.connect(this.o.settings));
    this.watching = this.watchLoop();
    this.timer = setInterval(() => this.checkPending(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  /** Pods outlive the scheduler (a new one adopts them): stop watching, leave them running. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.watchAbort?.abort();
    // An abort does not always call the watch's done callback (not while the request is still
    // connecting, for one): end the wait for it here, or stop() would wait for ever.
    this.endWatch?.(undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.watching;
  }

  /** The batch limit: creates under way count against it, so one loop starts at most createBatchLimit pods. */
  freeSlots(): number {
    let creating = 0;
    for (const t of this.tracked.values()) if (t.phase === "creating") creating++;
    return Math.max(0, this.o.settings.createBatchLimit - creating);
  }

  runningIds(): number[] {
    return [...this.tracked.keys()];
  }

  launch(req: LaunchRequest): void {
    const t: Tracked = { req, name: "", phase: "creating", createdAt: Date.now() };
    this.tracked.set(req.tiId, t);
    this.track(this.create(t));
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err) => this.o.log.error({ err }, "kubernetes executor error")).finally(() => this.inFlight.delete(q));
    this.inFlight.add(q);
  }

  private async overridesFor(ti: TaskInstanceRow): Promise<TaskPodSpec | undefined> {
    const run = await this.o.store.runs.byPk(ti.run_pk);
    if (!run) return undefined;
    let byTask = this.podOverrides.get(`${ti.dag_id}@${run.version_hash}`);
    if (!byTask) {
      const spec = await this.o.store.dags.versionSpec(ti.dag_id, run.version_hash);
      byTask = new Map((spec?.tasks ?? []).map((task) => [task.id, task.pod]));
      this.podOverrides.set(`${ti.dag_id}@${run.version_hash}`, byTask);
    }
    return byTask.get(ti.task_id);
  }

  /** Create the pod, retrying 409/429/5xx and lost connections with backoff; a 409 for our own pod means an earlier try got through. */
  private async create(t: Tracked): Promise<void> {
    const api = this.api!;
    const { req } = t;
    const ti = await this.o.store.tasks.get(req.tiId);
    if (!ti || ti.try_number !== req.tryNumber || ti.state !== "queued") return this.drop(t);
    const attempt = { tiId: ti.id, tryNumber: req.tryNumber, dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, ownerJob: ti.owner_job };
    t.name = podName(attempt);
    const s = this.o.settings;
    const token = await this.o.tokens.issue({ tiId: ti.id, tryNumber: req.tryNumber }, tokenLifetimeMs(req.timeoutMs));
    const body = buildPod({ attempt, template: this.template, image: s.image, command: s.command, apiUrl: s.apiUrl, token, overrides: await this.overridesFor(ti), bundles: this.o.bundles });
    let lastError = "";
    for (let i = 0; i < CREATE_TRIES && !this.stopping; i++) {
      if (t.phase !== "creating") return;
      try {
        t.pod = await api.create(body);
        break;
      } catch (err) {
        const status = apiStatus(err);
        if (status === 409) {
          const existing = await api.get(t.name).catch(() => undefined);
          if (existing?.metadata?.labels?.[TI_LABEL] === String(req.tiId) && existing.metadata.labels[TRY_LABEL] === String(req.tryNumber)) {
            t.pod = existing;
            break;
          }
        }
        lastError = `${status ?? "no answer"}: ${apiMessage(err)}`;
        if (status !== undefined && status !== 409 && status !== 429 && status < 500) break;
        this.o.log.warn({ tiId: req.tiId, pod: t.name, status }, "pod create refused; retrying");
        await sleep(Math.min(5_000, 100 * 2 ** i));
      }
    }
    if (this.stopping && !t.pod) return;
    if (!t.pod) {
      t.phase = "ending";
      await this.recordFailure(t, `Could not create task pod ${t.name} in namespace ${s.namespace} (${lastError}). Check the executor's RBAC (pods create) and the API server.`);
      return this.drop(t, true);
    }
    // Cancelled while the create was under way: the pod must not outlive the attempt.
    if (t.phase !== "creating") {
      await api.delete(t.name).catch(() => {});
      return;
    }
    t.phase = "created";
    t.createdAt = Date.now();
    const w = t.watched;
    t.watched = undefined;
    this.onPod(w?.type ?? "ADDED", w?.pod ?? t.pod);
  }

  private drop(t: Tracked, finished = false): void {
    if (this.tracked.get(t.req.tiId) === t) this.tracked.delete(t.req.tiId);
    if (finished) this.o.onFinished(t.req.tiId, t.req.runPk, t.req.taskId);
  }

  // --- watching ---

  private async watchLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        if (this.stopping) break;
        const ended = await new Promise<unknown>((resolve) => {
          this.endWatch = resolve;
          this.api!.watch(TASK_POD_SELECTOR, this.resourceVersion, (e) => this.onEvent(e), resolve).then(
            (c) => {
              this.watchAbort = c;
              if (this.stopping) {
                c.abort();
                resolve(undefined);
              }
            },
            resolve,
          );
        });
        if (ended) throw ended;
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.o.log.warn({ err: (err as Error)?.message }, "pod watch failed; reconnecting");
        await sleep(Math.min(5_000, 100 * 2 ** failures));
      }
    }
  }

  /** List every task pod: the state to resume watching from, and the ends a gap in the watch hid. */
  private async relist(): Promise<void> {
    const since = Date.now();
    const l = await this.api!.list(TASK_POD_SELECTOR);
    const seen = new Set<string>();
    for (const p of l.items) {
      seen.add(p.metadata?.name ?? "");
      this.onPod("MODIFIED", p);
    }
    // Created before the list but not in it: deleted while we were not watching.
    for (const t of this.tracked.values()) if (t.phase === "created" && t.createdAt < since && !seen.has(t.name)) this.onPod("DELETED", t.pod ?? { metadata: { name: t.name, labels: { [TI_LABEL]: String(t.req.tiId), [TRY_LABEL]: String(t.req.tryNumber) } } });
    this.resourceVersion = l.resourceVersion;
  }

  private onEvent(e: WatchEvent): void {
    if (e.type === "ERROR") {
      // 410 Gone: our resourceVersion is too old; re-list (the loop does it when resourceVersion is unset).
      if (e.object?.code === 410) this.resourceVersion = undefined;
      this.watchAbort?.abort();
      return;
    }
    const rv = e.object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === "BOOKMARK") return;
    this.onPod(e.type, e.object as V1Pod);
  }

  private onPod(type: string, pod: V1Pod): void {
    const labels = pod.metadata?.labels ?? {};
    const t = this.tracked.get(Number(labels[TI_LABEL]));
    if (!t || labels[TRY_LABEL] !== String(t.req.tryNumber)) return;
    if (t.phase === "creating" && t.name === pod.metadata?.name) {
      t.watched = { type, pod };
      return;
    }
    if (t.phase !== "created") return;
    if (type === "DELETED") {
      t.phase = "ending";
      this.track(this.lost(t));
      return;
    }
    t.pod = pod;
    const end = podEnd(pod);
    if (end) {
      t.phase = "ending";
      this.track(this.finish(t, end));
    }
  }

  /** Fail pods Pending past the timeout, with the reason Kubernetes gives. */
  private checkPending(): void {
    const now = Date.now();
    if (now - this.lastLiveness >= LIVENESS_INTERVAL_MS && !this.checkingLiveness) {
      this.lastLiveness = now;
      this.checkingLiveness = true;
      this.track(this.checkLiveness().finally(() => (this.checkingLiveness = false)));
    }
    for (const t of this.tracked.values()) {
      if (t.phase !== "created" || (t.pod?.status?.phase ?? "Pending") !== "Pending" || now - t.createdAt < this.o.settings.pendingTimeoutMs) continue;
      t.phase = "ending";
      this.track(
        (async () => {
          // The watch can lag behind (a reconnect, a busy API server): read the pod once more
          // before deleting it, so a pod that did start is not killed for being "Pending".
          const fresh = await this.api!.get(t.name).catch(() => undefined);
          if (fresh && (fresh.status?.phase ?? "Pending") !== "Pending") {
            t.phase = "created";
            this.onPod("MODIFIED", fresh);
            return;
          }
          const why = pendingReason(fresh ?? t.pod) ?? "not scheduled or started yet";
          await this.api!.delete(t.name).catch((err) => this.o.log.warn({ err, pod: t.name }, "could not delete a pod stuck Pending"));
          await this.recordFailure(t, `Task pod ${t.name} was still Pending after ${this.o.settings.pendingTimeoutMs} ms (${why}); it was deleted.`);
          this.drop(t, true);
        })(),
      );
    }
  }

  /**
   * The reaper leaves attempts this executor tracks alone, so the executor
   * judges their runners itself: no heartbeat for zombieThresholdMs (a wedged
   * or frozen runner in a live pod), or running past the task's timeout.
   */
  private async checkLiveness(): Promise<void> {
    const now = Date.now();
    for (const t of [...this.tracked.values()]) {
      if (t.phase !== "created") continue;
      const ti = await this.o.store.tasks.get(t.req.tiId);
      if (!ti || ti.try_number !== t.req.tryNumber || ti.state !== "running" || t.phase !== "created") continue;
      let error: string | undefined;
      if ((ti.heartbeat_at ?? ti.start_date ?? now) < now - this.o.zombieThresholdMs) error = `The runner in task pod ${t.name} stopped heartbeating (none for ${this.o.zombieThresholdMs} ms); the pod was deleted.`;
      else if (t.req.timeoutMs && ti.start_date != null && now > ti.start_date + t.req.timeoutMs + HARD_KILL_GRACE_MS) error = `Task exceeded its timeout of ${t.req.timeoutMs} ms and its pod ${t.name} did not end by itself; the pod was deleted.`;
      if (!error) continue;
      t.phase = "ending";
      await this.keepLog(t);
      await this.api!.delete(t.name).catch((err) => this.o.log.warn({ err, pod: t.name }, "could not delete a pod"));
      await this.recordFailure(t, error);
      this.drop(t, true);
    }
  }

  /** The pod ended: keep its log, record what the runner could not, delete it. */
  private async finish(t: Tracked, end: PodEnd): Promise<void> {
    const api = this.api!;
    await this.keepLog(t);
    const ti = await this.o.store.tasks.get(t.req.tiId);
    if (ti && ti.try_number === t.req.tryNumber && (ti.state === "running" || ti.state === "queued")) {
      await this.recordFailure(
        t,
        end.failed ? `Task pod ${t.name} failed: ${end.reason}.` : `Task pod ${t.name} ended (${end.reason}) without recording the attempt's outcome.`,
      );
    }
    if (!(end.failed && this.o.settings.keepFailedPods)) await api.delete(t.name).catch((err) => this.o.log.warn({ err, pod: t.name }, "could not delete a finished pod"));
    this.drop(t, true);
  }

  /** The pod vanished under the attempt (node lost, or deleted by someone): its process is gone. */
  private async lost(t: Tracked): Promise<void> {
    await this.recordFailure(t, `Task pod ${t.name} was deleted while the attempt was running (node lost, evicted or deleted by hand).`, ["running", "queued"]);
    this.drop(t, true);
  }

  private async keepLog(t: Tracked): Promise<void> {
    let text: string;
    try {
      text = await this.api!.log(t.name, t.pod?.spec?.containers?.find((c) => c.name === MAIN_CONTAINER)?.name ?? t.pod?.spec?.containers?.[0]?.name ?? MAIN_CONTAINER, LOG_LIMIT_BYTES);
    } catch (err) {
      this.o.log.warn({ pod: t.name, err: apiMessage(err) }, "could not read a finished pod's log");
      return;
    }
    const ts = Date.now();
    const lines = String(text ?? "").split("\n");
    if (lines.at(-1) === "") lines.pop();
    for (let i = 0; i < lines.length; i += 1000) {
      await this.o.store.logs.append(lines.slice(i, i + 1000).map((line) => ({ ti_id: t.req.tiId, try_number: t.req.tryNumber, ts, stream: "pod", line: line.slice(0, 20_000) })));
    }
  }

  /** Fail (or retry, by policy) the attempt if it is still this try's; the compare-and-set makes a late or repeated call harmless. */
  private async recordFailure(t: Tracked, error: string, from: ("running" | "queued")[] = ["running", "queued"]): Promise<void> {
    const ti = await this.o.store.tasks.get(t.req.tiId).catch(() => undefined);
    if (!ti || ti.try_number !== t.req.tryNumber || !from.includes(ti.state as "running")) return;
    const state = await finishAttempt(this.o.store, ti, { kind: "failed", error, retryable: true }, t.req.policy, Date.now(), from).catch((err) => {
      this.o.log.error({ err, tiId: ti.id }, "could not record a failed attempt");
      return null;
    });
    if (state) await this.o.store.logs.append([{ ti_id: ti.id, try_number: t.req.tryNumber, ts: Date.now(), stream: "log", line: `[ERROR] ${error}` }]).catch(() => {});
  }

  /** Delete the pod; the caller records the attempt's state. */
  cancel(tiId: number): void {
    const t = this.tracked.get(tiId);
    if (!t) return;
    const wasCreated = t.phase === "created";
    t.phase = "ending";
    this.tracked.delete(tiId);
    if (wasCreated) this.track(this.api!.delete(t.name).then(() => undefined));
  }

  /**
   * Attempts of a dead scheduler whose pod still exists are watched from now
   * on (a finished one is finished as usual); the rest are handed back.
   */
  async adopt(rows: TaskInstanceRow[], info?: Map<number, AdoptInfo>): Promise<TaskInstanceRow[]> {
    if (rows.length === 0) return [];
    const pods = new Map<string, V1Pod>();
    for (const p of (await this.api!.list(TASK_POD_SELECTOR)).items) {
      const l = p.metadata?.labels ?? {};
      pods.set(`${l[TI_LABEL]}/${l[TRY_LABEL]}`, p);
    }
    const orphans: TaskInstanceRow[] = [];
    for (const r of rows) {
      const pod = pods.get(`${r.id}/${r.try_number}`);
      if (!pod || pod.metadata?.deletionTimestamp) {
        orphans.push(r);
        continue;
      }
      const i = info?.get(r.id);
      const created = Date.parse(String(pod.metadata?.creationTimestamp ?? "")) || Date.now();
      const t: Tracked = { req: { tiId: r.id, tryNumber: r.try_number, runPk: r.run_pk, taskId: r.task_id, timeoutMs: i?.timeoutMs, policy: i?.policy ?? NO_DELAY }, name: pod.metadata!.name!, phase: "created", createdAt: created, pod };
      this.tracked.set(r.id, t);
      this.o.log.info({ tiId: r.id, pod: t.name }, "adopted a task pod");
      this.onPod("MODIFIED", pod);
    }
    return orphans;
  }
}
