/**
 * "Kubernetes executor: Sluice's own overhead per pod". The real scheduler
 * with `executor.kind: kubernetes` talks through @kubernetes/client-node to
 * the test API server (test/helpers/fakeKubePods.ts), which runs each pod's
 * `sluice task run --remote` as a local process reporting to a real API
 * server in this process. The test server timestamps every step of each pod
 * (create request, process spawned, process ended, terminal status sent,
 * log read, delete request), so the time each side took can be told apart.
 *
 * Workload: 20 no-op tasks in a chain (one pod at a time, so no pod waits for
 * another's CPU), one warm-up run, then 3 runs. Per pod, Sluice's overhead is
 *   queued → create request   (dispatch, attempt token, pod manifest, the create call)
 * + terminal status → delete  (watch event, reading and storing the log, checking the attempt, the delete call)
 * + the task API's server time for the pod's requests (claim, context, logs, heartbeat, finish).
 * What the cluster takes is not in it: scheduling and starting the container
 * (here a process spawn), and the container's own run time — which here is the
 * runner's start-up (Node, tsx, importing the DAG file) and the task; that is
 * reported separately. So is the step from one task's recorded end to the
 * next task's queueing (the scheduler reacting; the pod's deletion runs
 * alongside it).
 */
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createApiServer } from "../src/api/server.js";
import { openSluiceStore } from "../src/app/createSluice.js";
import { createLogger } from "../src/app/logger.js";
import { TI_LABEL, TRY_LABEL } from "../src/executors/k8s/podManifest.js";
import { sluiceEnv, SLUICE_BIN } from "../test/e2e/helpers.js";
import { FakeKubePods } from "../test/helpers/fakeKubePods.js";
import { median, round, type Benchmark } from "./common.js";
import { sequentialDagSource } from "./dagFiles.js";
import { startSluice } from "./inProcess.js";

const TASKS = 20;
const RUNS = 3;
const DAG_ID = "bench_kube_pods";
const TASK_API = /^\/api\/v1\/task-api\/attempts\/(\d+)\/(\d+)\//;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export const kubePods: Benchmark = {
  id: "kubePods",
  title: "Kubernetes executor: Sluice's overhead per pod",
  async run(ctx) {
    const podDir = ctx.scope.tempDir("kubePods-pod");
    // A pod gets no database settings: everything goes through the task API. (Its DAG folder is set below.)
    const env = sluiceEnv({ home: join(podDir, "home") });
    for (const k of Object.keys(env)) if (/^PG|DATABASE_URL|^SLUICE_DB/.test(k)) delete env[k];
    const kube = new FakeKubePods(env, podDir);
    await kube.start();
    ctx.scope.defer("stop the test Kubernetes API server", () => kube.stop());

    const s = await startSluice(
      ctx,
      "kubePods",
      { [`${DAG_ID}.ts`]: sequentialDagSource(DAG_ID, TASKS) },
      (c) => {
        // The pods read the DAG files where the scheduler does (as a shared image or git-sync would give them).
        env.SLUICE_DAGS_FOLDER = c.dagsFolder;
        c.executor.kind = "kubernetes";
        c.kubernetes.server = kube.url;
        c.kubernetes.token = "bench";
        // client-node refuses plain http unless TLS checks are off (a real cluster uses https).
        c.kubernetes.insecureSkipTlsVerify = true;
        c.kubernetes.namespace = "bench";
        c.kubernetes.command = [process.execPath, SLUICE_BIN];
      },
    );
    const config = s.config;

    // The API server the pods report to, on its own store (as its own Deployment would be).
    const apiStore = await openSluiceStore(config);
    ctx.scope.defer("close the API server's store", () => apiStore.close());
    const api = createApiServer({ store: apiStore, config, log: createLogger("warn"), ui: false });
    const serverMs = new Map<string, number>();
    api.addHook("onResponse", async (req, reply) => {
      const m = TASK_API.exec(req.url);
      if (m) serverMs.set(`${m[1]}/${m[2]}`, (serverMs.get(`${m[1]}/${m[2]}`) ?? 0) + reply.elapsedTime);
    });
    await api.listen({ host: "127.0.0.1", port: 0 });
    ctx.scope.defer("stop the API server", () => api.close());
    config.kubernetes.apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;

    const runMs: number[] = [];
    const perPod = { beforeCreate: [] as number[], afterEnd: [] as number[], taskApi: [] as number[], overhead: [] as number[], cluster: [] as number[], container: [] as number[], nextQueued: [] as number[] };
    for (let i = 0; i <= RUNS; i++) {
      const runId = i === 0 ? "warmup" : `run_${i}`;
      const ms = await s.timeRun(DAG_ID, runId, 300_000);
      ctx.progress(`${runId}: ${Math.round(ms)} ms for ${TASKS} pods in a chain (${Math.round(ms / TASKS)} ms per task)`);
      if (i === 0) continue;
      runMs.push(ms);
      const run = (await s.sluice.store.runs.get(DAG_ID, runId))!;
      const tis = (await s.sluice.store.tasks.forRun(run.id)).sort((a, b) => a.task_id.localeCompare(b.task_id));
      let prevEnd: number | null | undefined;
      for (const ti of tis) {
        const pod = kube.created.find((p) => p.metadata.labels[TI_LABEL] === String(ti.id) && p.metadata.labels[TRY_LABEL] === String(ti.try_number));
        const t = pod && kube.timeline.get(pod.metadata.name);
        if (!t?.create || !t.spawn || !t.exit || !t.ended || !t.del || ti.queued_at == null) throw new Error(`pod of ${ti.task_id} in ${runId} has an incomplete timeline: ${JSON.stringify(t)}`);
        const api = serverMs.get(`${ti.id}/${ti.try_number}`) ?? 0;
        perPod.beforeCreate.push(t.create - ti.queued_at);
        perPod.afterEnd.push(t.del - t.ended);
        perPod.taskApi.push(api);
        perPod.overhead.push(t.create - ti.queued_at + (t.del - t.ended) + api);
        perPod.cluster.push(t.spawn - t.create + (t.ended - t.exit));
        perPod.container.push(t.exit - t.spawn);
        if (prevEnd != null) perPod.nextQueued.push(ti.queued_at - prevEnd);
        prevEnd = ti.end_date;
      }
    }
    const r = (xs: number[]) => round(median(xs), 1);
    return {
      metrics: [
        { name: "Sluice's overhead per pod, median", value: r(perPod.overhead), unit: "ms", target: { op: "<=", value: 50 }, note: `p95 ${round(quantile(perPod.overhead, 0.95), 1)} ms over ${perPod.overhead.length} pods` },
        { name: "of which queued → create request", value: r(perPod.beforeCreate), unit: "ms" },
        { name: "of which pod ended → delete request", value: r(perPod.afterEnd), unit: "ms" },
        { name: "of which task API server time", value: r(perPod.taskApi), unit: "ms" },
        { name: "not counted: the container (runner start-up + task)", value: r(perPod.container), unit: "ms" },
        { name: "not counted: a task's end → the next one queued", value: r(perPod.nextQueued), unit: "ms" },
        { name: `median wall time of ${TASKS} pods in a chain`, value: round(median(runMs), 0), unit: "ms" },
      ],
      samples: Object.fromEntries([...Object.entries(perPod).map(([k, v]) => [k, v.map((x) => round(x, 2))]), ["runMs", runMs.map((x) => round(x, 1))]]),
      details: {
        workload: `${TASKS} no-op function tasks in a chain, one pod each; 1 warm-up run, then ${RUNS}`,
        measured:
          "per pod: (create request arrival − task_instance.queued_at) + (delete request arrival − terminal pod status sent on the watch) + the API server's reply.elapsedTime summed over the pod's task API requests",
        notCounted: "the test server's pod start (spawn of the container's process) and the container's run (Node + tsx start-up, DAG import, the task): on a real cluster those are the kubelet's and the image's",
        cluster: "test/helpers/fakeKubePods.ts on 127.0.0.1 (not a real cluster: no scheduling, image pull or kubelet)",
        clusterMsPerPodMedian: r(perPod.cluster),
      },
    };
  },
};
