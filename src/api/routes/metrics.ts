/**
 * GET /metrics: Prometheus text format (prom-client), read from the store at
 * scrape time. The gauges are the store's current state, so any API replica
 * serves the same numbers whichever process runs the autoscaler. The task
 * duration histogram counts the attempts that ended (their task_try rows)
 * since this process started, whichever process ended them; see
 * ../metrics/taskDurationHistogram.ts for why it is fed from the store. The
 * names are the ones deploy/grafana's dashboard uses (test/api/metrics.test.ts
 * checks the dashboard against what this route serves).
 *
 * Access: with api.auth on (the default) a scrape needs an API token
 * (`Authorization: Bearer slc_…`, any role; Prometheus sends one with
 * `authorization: { credentials_file: … }`): queue names and load are
 * operational data, and the API may be reachable from outside through its
 * Ingress. With api.auth off, like every route, it is open.
 */
import { Gauge, Registry } from "prom-client";
import { userForToken } from "../../auth/users.js";
import { TaskDurationHistogram } from "../metrics/taskDurationHistogram.js";
import type { ApiApp, ApiDeps } from "../types.js";

export const METRICS_PATH = "/metrics";

function registry(deps: ApiDeps): Registry {
  const reg = new Registry();
  // One read per scrape serves every gauge: the first collect() starts it, the others await it.
  let snapshot: Promise<{ depth: Map<string, { queued: number; running: number }>; latest: Awaited<ReturnType<ApiDeps["store"]["autoscaler"]["latest"]>> }> | undefined;
  const read = () =>
    (snapshot ??= Promise.all([deps.store.autoscaler.depth(), deps.store.autoscaler.latest()]).then(([depth, latest]) => ({ depth, latest })));
  const gauge = (name: string, help: string, set: (g: Gauge<"queue">, s: Awaited<ReturnType<typeof read>>) => void) =>
    new Gauge({
      name,
      help,
      labelNames: ["queue"] as const,
      registers: [reg],
      async collect() {
        this.reset();
        set(this, await read());
      },
    });
  gauge("sluice_tasks_queued", "Task instances in state queued, per queue.", (g, s) => {
    for (const d of s.latest) g.set({ queue: d.queue }, 0);
    for (const [queue, d] of s.depth) g.set({ queue }, d.queued);
  });
  gauge("sluice_tasks_running", "Task instances in state running, per queue.", (g, s) => {
    for (const d of s.latest) g.set({ queue: d.queue }, 0);
    for (const [queue, d] of s.depth) g.set({ queue }, d.running);
  });
  gauge("sluice_autoscaler_desired_replicas", "Workers the autoscaler's latest decision asked for.", (g, s) => {
    for (const d of s.latest) g.set({ queue: d.queue }, d.desired_replicas);
  });
  gauge("sluice_autoscaler_current_replicas", "Workers when the autoscaler last decided.", (g, s) => {
    for (const d of s.latest) g.set({ queue: d.queue }, d.current_replicas);
  });
  gauge("sluice_worker_cpu_utilization", "Average CPU per worker in cores (1 = one core busy) over the autoscaler's last interval (local workers only).", (g, s) => {
    for (const d of s.latest) if (d.cpu !== null) g.set({ queue: d.queue }, Number(d.cpu));
  });
  gauge("sluice_autoscaler_last_decision_timestamp_seconds", "Time of the autoscaler's latest decision (stale gauges above mean the autoscaler stopped).", (g, s) => {
    for (const d of s.latest) g.set({ queue: d.queue }, d.at / 1000);
  });
  // Registers itself on reg; fed from the store at each scrape.
  new TaskDurationHistogram(deps.store, reg, deps.now);
  return Object.assign(reg, {
    async scrape(): Promise<string> {
      snapshot = undefined;
      try {
        return await reg.metrics();
      } finally {
        snapshot = undefined;
      }
    },
  });
}

/** Registered at the root (Prometheus' default path), outside /api/v1. */
export function metricsRoute(app: ApiApp, deps: ApiDeps): void {
  const reg = registry(deps) as Registry & { scrape(): Promise<string> };
  app.get(METRICS_PATH, { schema: { hide: true } }, async (req, reply) => {
    if (deps.config.api.auth) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
      const user = m ? await userForToken(deps.store, m[1], deps.now()) : undefined;
      if (!user) {
        return reply.code(401).send({ error: { code: "UNAUTHENTICATED", message: 'GET /metrics needs "Authorization: Bearer <token>" (any role; create one with `sluice users token <username>`), or api.auth false.' } });
      }
    }
    return reply.type(reg.contentType).send(await reg.scrape());
  });
}
