/**
 * A small Kubernetes API server for the Spark-on-Kubernetes tests: enough of
 * the real one for what @kubernetes/client-node calls on behalf of a Spark
 * task, with the real answers: SparkApplications (create 201, or 409
 * AlreadyExists / 422 Invalid Status objects; get 404 NotFound; delete),
 * validated against the spark-operator CRD schema as a server with the CRD
 * installed does; pods' logs (follow streams until the container ends); pod
 * deletion; bearer-token auth (401 Unauthorized). There is no operator: the
 * test moves each application's status along by hand, as the operator would.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { sparkApplicationValidator } from "./sparkCrd.js";
import { closeLocal, kubeStatus, listenLocal } from "./fakeKube.js";

const SA = /^\/apis\/sparkoperator\.k8s\.io\/v1beta2\/namespaces\/([^/]+)\/sparkapplications(?:\/([^/?]+))?$/;
const POD = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;
const POD_LOG = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/;

interface PodLog {
  container: string;
  text: string;
  ended: boolean;
  followers: Set<ServerResponse>;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
}


export class FakeKubeApi {
  private server: Server | undefined;
  readonly apps = new Map<string, Record<string, any>>();
  readonly pods = new Map<string, PodLog>();
  readonly requests: RequestRecord[] = [];
  private resourceVersion = 1000;
  private readonly validate = sparkApplicationValidator();
  url = "";

  constructor(readonly token: string) {}

  async start(): Promise<string> {
    ({ server: this.server, url: this.url } = await listenLocal((req, res) => {
      this.handle(req, res).catch((err) => this.send(req, res, 500, kubeStatus(500, "InternalError", String(err))));
    }));
    return this.url;
  }

  async stop(): Promise<void> {
    for (const p of this.pods.values()) for (const f of p.followers) f.end();
    await closeLocal(this.server);
  }

  // --- What the test does in place of the operator and the kubelet. ---

  /** Set `.status` of an application, as the operator does (and bump its resourceVersion). */
  setStatus(namespace: string, name: string, status: Record<string, unknown>): void {
    const app = this.apps.get(`${namespace}/${name}`);
    if (!app) throw new Error(`no SparkApplication ${namespace}/${name}`);
    app.status = status;
    app.metadata.resourceVersion = String(++this.resourceVersion);
  }

  /** A pod whose container writes log lines. */
  addPod(namespace: string, pod: string, container: string): void {
    this.pods.set(`${namespace}/${pod}`, { container, text: "", ended: false, followers: new Set() });
  }

  appendLog(namespace: string, pod: string, text: string): void {
    const p = this.pods.get(`${namespace}/${pod}`)!;
    p.text += text;
    for (const f of p.followers) f.write(text);
  }

  /** The container ended: followed log streams end. */
  endLog(namespace: string, pod: string): void {
    const p = this.pods.get(`${namespace}/${pod}`)!;
    p.ended = true;
    for (const f of p.followers) f.end();
    p.followers.clear();
  }

  /** Wait until the application `namespace/name` has been created; the stored object. */
  async created(namespace: string, name: string, ms = 10_000): Promise<Record<string, any>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.apps.get(`${namespace}/${name}`);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`SparkApplication ${namespace}/${name} was not created within ${ms} ms (requests: ${JSON.stringify(this.requests)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  followers(namespace: string, pod: string): number {
    return this.pods.get(`${namespace}/${pod}`)?.followers.size ?? 0;
  }

  // --- The API. ---

  private send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
    this.requests.push({ method: req.method!, path: req.url!.split("?")[0], status });
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    return text ? JSON.parse(text) : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, "http://x");
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.send(req, res, 401, kubeStatus(401, "Unauthorized", "Unauthorized"));
    let m: RegExpExecArray | null;
    if ((m = SA.exec(url.pathname))) {
      const [, namespace, name] = m;
      if (!name && req.method === "POST") return this.createApp(req, res, namespace, (await this.body(req)) as Record<string, any>);
      if (!name) return this.send(req, res, 405, kubeStatus(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));
      const key = `${namespace}/${name}`;
      const app = this.apps.get(key);
      const notFound = () => this.send(req, res, 404, kubeStatus(404, "NotFound", `sparkapplications.sparkoperator.k8s.io "${name}" not found`, { name, group: "sparkoperator.k8s.io", kind: "sparkapplications" }));
      if (req.method === "GET") return app ? this.send(req, res, 200, app) : notFound();
      if (req.method === "DELETE") {
        if (!app) return notFound();
        this.apps.delete(key);
        // The operator removes the application's pods with it.
        const pod = app.status?.driverInfo?.podName as string | undefined;
        if (pod) this.deletePod(namespace, pod);
        return this.send(req, res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: "sparkoperator.k8s.io", kind: "sparkapplications", uid: app.metadata.uid } });
      }
    }
    if ((m = POD_LOG.exec(url.pathname)) && req.method === "GET") {
      const [, namespace, pod] = m;
      const p = this.pods.get(`${namespace}/${pod}`);
      if (!p) return this.send(req, res, 404, kubeStatus(404, "NotFound", `pods "${pod}" not found`, { name: pod, kind: "pods" }));
      const container = url.searchParams.get("container");
      if (container && container !== p.container) return this.send(req, res, 400, kubeStatus(400, "BadRequest", `container ${container} is not valid for pod ${pod}`));
      this.requests.push({ method: "GET", path: url.pathname, status: 200 });
      res.writeHead(200, { "content-type": "text/plain" });
      res.write(p.text);
      if (url.searchParams.get("follow") !== "true" || p.ended) return void res.end();
      p.followers.add(res);
      res.on("close", () => p.followers.delete(res));
      return;
    }
    if ((m = POD.exec(url.pathname)) && req.method === "DELETE") {
      const [, namespace, pod] = m;
      if (!this.pods.has(`${namespace}/${pod}`)) return this.send(req, res, 404, kubeStatus(404, "NotFound", `pods "${pod}" not found`, { name: pod, kind: "pods" }));
      this.deletePod(namespace, pod);
      return this.send(req, res, 200, { kind: "Pod", apiVersion: "v1", metadata: { name: pod, namespace } });
    }
    return this.send(req, res, 404, kubeStatus(404, "NotFound", "the server could not find the requested resource"));
  }

  private deletePod(namespace: string, pod: string): void {
    const p = this.pods.get(`${namespace}/${pod}`);
    if (!p) return;
    for (const f of p.followers) f.end();
    this.pods.delete(`${namespace}/${pod}`);
  }

  private createApp(req: IncomingMessage, res: ServerResponse, namespace: string, obj: Record<string, any>): void {
    const name = obj?.metadata?.name as string | undefined;
    const problems = this.validate(obj);
    if (!name || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) problems.push(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
    if (obj?.metadata?.namespace && obj.metadata.namespace !== namespace) problems.push(`metadata.namespace: Invalid value: "${obj.metadata.namespace}": does not match the namespace of the request`);
    if (problems.length > 0) {
      return this.send(
        req,
        res,
        422,
        kubeStatus(422, "Invalid", `SparkApplication.sparkoperator.k8s.io "${name}" is invalid: ${problems.join(", ")}`, {
          name,
          group: "sparkoperator.k8s.io",
          kind: "SparkApplication",
          causes: problems.map((p) => ({ reason: "FieldValueInvalid", message: p, field: p.split(":")[0] })),
        }),
      );
    }
    const key = `${namespace}/${name}`;
    if (this.apps.has(key)) {
      return this.send(req, res, 409, kubeStatus(409, "AlreadyExists", `sparkapplications.sparkoperator.k8s.io "${name}" already exists`, { name, group: "sparkoperator.k8s.io", kind: "sparkapplications" }));
    }
    // The status subresource is the operator's: a client's status is dropped on create.
    const { status: _ignored, ...rest } = obj;
    const stored = {
      ...rest,
      metadata: { ...obj.metadata, namespace, uid: randomUUID(), resourceVersion: String(++this.resourceVersion), generation: 1, creationTimestamp: new Date().toISOString() },
    };
    this.apps.set(key, stored);
    this.send(req, res, 201, stored);
  }
}
