/**
 * A test Kubernetes API server for the pod executor (node:http on 127.0.0.1):
 * pods create / get / list (labelSelector, resourceVersion) / watch (JSON
 * lines from a resourceVersion) / delete / log. It RUNS each pod's task
 * container as a local process (command + args, with its plain env values on
 * top of `baseEnv`) and moves the pod Pending → Running → Succeeded/Failed
 * with containerStatuses. Faults are the test's: injected 429s on create,
 * dropped watch streams, 410 Gone, pods held Pending with a waiting reason,
 * OOM kills, deletes under a running task.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { closeLocal, kubeStatus, listenLocal } from "./fakeKube.js";

/** When the server saw each step of a pod's life (epoch ms with sub-ms precision): the Kubernetes executor benchmark reads it. */
export interface PodTimeline {
  /** The create request arrived. */
  create?: number;
  /** The create's answer went out. */
  answered?: number;
  /** The container's process was spawned. */
  spawn?: number;
  /** The container's process ended and its output was read. */
  exit?: number;
  /** The terminal pod status (Succeeded/Failed) went out on the watch streams. */
  ended?: number;
  /** The log request arrived. */
  log?: number;
  /** The delete request arrived. */
  del?: number;
}

const now = () => performance.timeOrigin + performance.now();

export interface FakePod {
  pod: any;
  proc?: ChildProcess;
  log: string;
  oom?: boolean;
}

export class FakeKubePods {
  readonly pods = new Map<string, FakePod>();
  /** Every pod name ever created (for duplicate checks). */
  readonly created: any[] = [];
  /** Pod name → when each step of its life happened. */
  readonly timeline = new Map<string, PodTimeline>();
  private rv = 1;
  private history: { rv: number; type: string; object: any }[] = [];
  /** Events older than this are "compacted": a watch from before it gets 410 Gone. */
  private compactedRv = 0;
  private watches = new Set<{ res: ServerResponse; ns: string; selector: [string, string][] }>();
  private server: Server | undefined;
  url = "";
  /**
   * Hold the answer to a create until the pod has ended (or this many ms passed): its
   * whole life is on the watch before the creator hears back, as when the create's
   * answer is lost in a slow network and the pod is quick.
   */
  answerCreatesAfterPodEnds = 0;
  /** Answer the next N creates with 429. */
  fail429 = 0;
  create429Count = 0;
  /** A pod for which this returns a reason stays Pending with that waiting reason. */
  holdPending: (pod: any) => string | undefined = () => undefined;
  watchCount = 0;
  listCount = 0;
  gone410Count = 0;

  constructor(private readonly baseEnv: NodeJS.ProcessEnv, private readonly cwd: string) {}

  async start(): Promise<void> {
    ({ server: this.server, url: this.url } = await listenLocal((req, res) => void this.handle(req, res)));
  }

  async stop(): Promise<void> {
    for (const p of this.pods.values()) p.proc?.kill("SIGKILL");
    this.dropWatches();
    await closeLocal(this.server);
  }

  /** Cut every open watch stream (a dropped connection). */
  dropWatches(): void {
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
  }

  /** Forget the event history: a watch resuming from any resourceVersion seen so far gets 410 Gone. Open streams are cut too. */
  compact(): void {
    this.compactedRv = this.rv + 1;
    this.history = [];
    this.dropWatches();
  }

  /** The kernel's OOM killer: SIGKILL the pod's process, reported as OOMKilled, exit 137. */
  oomKill(name: string): void {
    const p = this.pods.get(name);
    if (!p?.proc) throw new Error(`pod ${name} has no process`);
    p.oom = true;
    p.proc.kill("SIGKILL");
  }

  /** A node lost: the pod object goes away and its process dies (no graceful end). */
  deleteUnder(name: string): void {
    this.remove(name);
  }

  podsOf(tiId: number): any[] {
    return this.created.filter((p) => p.metadata.labels["sluice.io/ti-id"] === String(tiId));
  }

  private emit(type: string, pod: any): void {
    pod.metadata.resourceVersion = String(++this.rv);
    const e = { rv: this.rv, type, object: structuredClone(pod) };
    this.history.push(e);
    for (const w of this.watches) if (matches(pod, w.selector)) w.res.write(`${JSON.stringify({ type, object: e.object })}\n`);
  }

  private remove(name: string): any {
    const p = this.pods.get(name);
    if (!p) return undefined;
    this.pods.delete(name);
    p.proc?.removeAllListeners("close");
    p.proc?.kill("SIGKILL");
    this.emit("DELETED", p.pod);
    return p.pod;
  }

  private run(p: FakePod): void {
    const c = p.pod.spec.containers[0];
    const held = this.holdPending(p.pod);
    if (held) {
      p.pod.status.containerStatuses = [{ name: c.name, ready: false, restartCount: 0, image: c.image, imageID: "", state: { waiting: { reason: held, message: `Back-off pulling image "${c.image}"` } } }];
      this.emit("MODIFIED", p.pod);
      return;
    }
    const env: NodeJS.ProcessEnv = { ...this.baseEnv };
    for (const e of c.env ?? []) if (typeof e.value === "string") env[e.name] = e.value;
    const [cmd, ...rest] = [...(c.command ?? []), ...(c.args ?? [])];
    const proc = spawn(cmd, rest, { env, cwd: this.cwd, stdio: ["ignore", "pipe", "pipe"] });
    this.step(p.pod.metadata.name, "spawn");
    p.proc = proc;
    proc.stdout!.on("data", (d) => (p.log += d));
    proc.stderr!.on("data", (d) => (p.log += d));
    p.pod.status.phase = "Running";
    p.pod.status.startTime = new Date().toISOString();
    p.pod.status.containerStatuses = [{ name: c.name, ready: true, restartCount: 0, image: c.image, imageID: "", state: { running: { startedAt: p.pod.status.startTime } } }];
    this.emit("MODIFIED", p.pod);
    // "close", not "exit": the output is fully read by then (a real kubelet has the log before the container is reported terminated).
    proc.on("close", (code, signal) => {
      if (this.pods.get(p.pod.metadata.name) !== p) return;
      this.step(p.pod.metadata.name, "exit");
      const exitCode = code ?? (signal === "SIGKILL" ? 137 : 128 + 15);
      p.pod.status.phase = exitCode === 0 ? "Succeeded" : "Failed";
      const reason = p.oom ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
      p.pod.status.containerStatuses[0] = { ...p.pod.status.containerStatuses[0], ready: false, state: { terminated: { exitCode, reason, finishedAt: new Date().toISOString() } } };
      this.emit("MODIFIED", p.pod);
      this.step(p.pod.metadata.name, "ended");
    });
  }

  private step(name: string, what: keyof PodTimeline): void {
    const t = this.timeline.get(name) ?? {};
    t[what] ??= now();
    this.timeline.set(name, t);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = now();
    const u = new URL(req.url ?? "/", "http://x");
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(\/log)?$/.exec(u.pathname);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string) => send(code, kubeStatus(code, reason, message));
    if (!m) return status(404, "NotFound", `no route ${u.pathname}`);
    const [, ns, name, log] = m;
    if (req.method === "POST" && !name) {
      let text = "";
      for await (const chunk of req) text += chunk;
      if (this.fail429 > 0) {
        this.fail429--;
        this.create429Count++;
        return status(429, "TooManyRequests", "too many requests, try again later");
      }
      const pod = JSON.parse(text);
      this.timeline.set(pod.metadata.name, { ...this.timeline.get(pod.metadata.name), create: arrived });
      if (this.pods.has(pod.metadata.name)) return status(409, "AlreadyExists", `pods "${pod.metadata.name}" already exists`);
      pod.metadata.namespace = ns;
      pod.metadata.uid = `uid-${this.rv}`;
      pod.metadata.creationTimestamp = new Date().toISOString();
      pod.status = { phase: "Pending" };
      const p: FakePod = { pod, log: "" };
      this.pods.set(pod.metadata.name, p);
      this.created.push(structuredClone(pod));
      this.emit("ADDED", pod);
      const answer = structuredClone(pod);
      setImmediate(() => this.pods.get(pod.metadata.name) === p && this.run(p));
      if (this.answerCreatesAfterPodEnds > 0) {
        const deadline = Date.now() + this.answerCreatesAfterPodEnds;
        while (Date.now() < deadline && !this.timeline.get(pod.metadata.name)?.ended) await new Promise((r) => setTimeout(r, 20));
      }
      send(201, answer);
      this.step(pod.metadata.name, "answered");
      return;
    }
    if (req.method === "GET" && name && log) {
      this.step(name, "log");
      const p = this.pods.get(name);
      if (!p) return status(404, "NotFound", `pods "${name}" not found`);
      res.writeHead(200, { "content-type": "text/plain" });
      return void res.end(p.log);
    }
    if (req.method === "GET" && name) {
      const p = this.pods.get(name);
      return p ? send(200, p.pod) : status(404, "NotFound", `pods "${name}" not found`);
    }
    if (req.method === "DELETE" && name) {
      this.step(name, "del");
      const pod = this.remove(name);
      return pod ? send(200, pod) : status(404, "NotFound", `pods "${name}" not found`);
    }
    if (req.method === "GET" && !name) {
      const selector = parseSelector(u.searchParams.get("labelSelector"));
      if (u.searchParams.get("watch") === "true") {
        this.watchCount++;
        const from = Number(u.searchParams.get("resourceVersion") ?? this.rv);
        res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
        if (from < this.compactedRv) {
          this.gone410Count++;
          res.end(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", code: 410, reason: "Expired", message: `too old resource version: ${from} (${this.compactedRv})` } })}\n`);
          return;
        }
        for (const e of this.history) if (e.rv > from && matches(e.object, selector)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
        const w = { res, ns, selector };
        this.watches.add(w);
        res.on("close", () => this.watches.delete(w));
        return;
      }
      this.listCount++;
      const items = [...this.pods.values()].map((p) => p.pod).filter((p) => matches(p, selector));
      return send(200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: String(this.rv) }, items });
    }
    status(405, "MethodNotAllowed", `${req.method} ${u.pathname}`);
  }
}

function parseSelector(s: string | null): [string, string][] {
  return (s ?? "")
    .split(",")
    .filter(Boolean)
    .map((kv) => kv.split("=") as [string, string]);
}

function matches(pod: any, selector: [string, string][]): boolean {
  const l = pod.metadata?.labels ?? {};
  return selector.every(([k, v]) => l[k] === v);
}
