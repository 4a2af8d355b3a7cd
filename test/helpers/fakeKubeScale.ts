/**
 * A small Kubernetes API server for the autoscaler's Deployment actuator: the
 * scale subresource of Deployments, with the real server's answers.
 * GET  /apis/apps/v1/namespaces/<ns>/deployments/<name>/scale → autoscaling/v1 Scale;
 * PUT  same path, body a Scale → 200 with the new Scale; 404 NotFound for an
 * unknown Deployment; 409 Conflict when metadata.resourceVersion is stale (a
 * concurrent `kubectl scale`); 422 Invalid for negative replicas; 401 without
 * the bearer token. No controller: replicas are what was last set.
 * With `podMetrics` set, it also answers metrics-server's
 * GET /apis/metrics.k8s.io/v1beta1/namespaces/<ns>/pods?labelSelector=… (a
 * PodMetricsList of the pods whose labels match); unset, that API is missing
 * (404), as on a cluster without metrics-server.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { closeLocal, kubeStatus, listenLocal } from "./fakeKube.js";

const SCALE = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/;
const POD_METRICS = /^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/pods$/;

/** One pod as metrics-server reports it: its labels and each container's usage ("250m", "300Mi"). */
export interface FakePodMetrics {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  containers: { name: string; cpu: string; memory: string }[];
}


interface Deployment {
  replicas: number;
  resourceVersion: number;
}

export class FakeKubeScale {
  private server: Server | undefined;
  /** "<namespace>/<name>" → its replicas. */
  readonly deployments = new Map<string, Deployment>();
  readonly requests: { method: string; path: string; status: number; replicas?: number }[] = [];
  /** Every PUT body as received (parsed JSON, before any check), for the tests to validate against autoscaling/v1 Scale. */
  readonly putBodies: { apiVersion?: unknown; kind?: unknown }[] = [];
  /** metrics-server's view of the pods; undefined: no metrics API (404). */
  podMetrics: FakePodMetrics[] | undefined;
  private version = 500;
  url = "";

  constructor(readonly token: string) {}

  addDeployment(namespace: string, name: string, replicas: number): void {
    this.deployments.set(`${namespace}/${name}`, { replicas, resourceVersion: ++this.version });
  }

  /** Another client changes the replicas (as `kubectl scale` would), bumping the resourceVersion. */
  externalScale(namespace: string, name: string, replicas: number): void {
    const d = this.deployments.get(`${namespace}/${name}`)!;
    d.replicas = replicas;
    d.resourceVersion = ++this.version;
  }

  async start(): Promise<string> {
    ({ server: this.server, url: this.url } = await listenLocal((req, res) => {
      this.handle(req, res).catch((err) => this.send(req, res, 500, kubeStatus(500, "InternalError", String(err))));
    }));
    return this.url;
  }

  async stop(): Promise<void> {
    await closeLocal(this.server);
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, replicas?: number): void {
    this.requests.push({ method: req.method ?? "", path: (req.url ?? "").split("?")[0], status, replicas });
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private scaleOf(namespace: string, name: string, d: Deployment) {
    return {
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      metadata: { name, namespace, resourceVersion: String(d.resourceVersion) },
      spec: { replicas: d.replicas },
      status: { replicas: d.replicas, selector: `app.kubernetes.io/component=${name}` },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.send(req, res, 401, kubeStatus(401, "Unauthorized", "Unauthorized"));
    const url = new URL(req.url ?? "/", "http://x");
    const pm = POD_METRICS.exec(url.pathname);
    if (pm && req.method === "GET") {
      if (!this.podMetrics) return this.send(req, res, 404, kubeStatus(404, "NotFound", "the server could not find the requested resource"));
      const wanted = (url.searchParams.get("labelSelector") ?? "").split(",").filter(Boolean).map((kv) => kv.split("="));
      const items = this.podMetrics
        .filter((p) => p.namespace === pm[1] && wanted.every(([k, v]) => p.labels[k] === v))
        .map((p) => ({
          metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
          timestamp: new Date().toISOString(),
          window: "15s",
          containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: c.cpu, memory: c.memory } })),
        }));
      return this.send(req, res, 200, { kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items });
    }
    const m = SCALE.exec(url.pathname);
    if (!m) return this.send(req, res, 404, kubeStatus(404, "NotFound", "the server could not find the requested resource"));
    const [, namespace, name] = m;
    const d = this.deployments.get(`${namespace}/${name}`);
    if (!d) return this.send(req, res, 404, kubeStatus(404, "NotFound", `deployments.apps "${name}" not found`));
    if (req.method === "GET") return this.send(req, res, 200, this.scaleOf(namespace, name, d));
    if (req.method !== "PUT") return this.send(req, res, 405, kubeStatus(405, "MethodNotAllowed", `${req.method} is not supported`));
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { kind?: string; metadata?: { resourceVersion?: string }; spec?: { replicas?: number } };
    this.putBodies.push(structuredClone(body));
    const replicas = body.spec?.replicas ?? 0;
    if (body.kind !== "Scale" || !Number.isInteger(replicas) || replicas < 0) {
      return this.send(req, res, 422, kubeStatus(422, "Invalid", `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`));
    }
    const rv = body.metadata?.resourceVersion;
    if (rv !== undefined && rv !== String(d.resourceVersion)) {
      return this.send(req, res, 409, kubeStatus(409, "Conflict", `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`));
    }
    d.replicas = replicas;
    d.resourceVersion = ++this.version;
    this.send(req, res, 200, this.scaleOf(namespace, name, d), replicas);
  }
}
