/** A real Sluice with the Kubernetes executor against the test pod server, and the API server its pods call back. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createSluice, openSluiceStore, type Sluice } from "../../src/app/createSluice.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { FakeKubePods } from "../helpers/fakeKubePods.js";
import { makeProject, SLUICE_BIN, sluiceEnv, SluiceProcess, waitFor } from "../e2e/helpers.js";

export { DIALECTS };
export const log = pino({ level: process.env.K8S_TEST_LOG ?? "silent" });

export interface K8sEnv {
  sluice: Sluice;
  config: SluiceConfig;
  api: ApiApp;
  kube: FakeKubePods;
  dir: string;
  /** A second scheduler on the same database and cluster (adoption). */
  restart(): Promise<Sluice>;
  /** A `sluice scheduler` subprocess with the same settings, for a test to kill -9 (a crash leaves its job row behind). */
  spawnScheduler(): SluiceProcess;
  close(): Promise<void>;
}

export async function startK8s(dialect: (typeof DIALECTS)[number], dagSource: string, tune: (c: SluiceConfig) => void = () => {}): Promise<K8sEnv> {
  const project = makeProject();
  writeFileSync(join(project.dags, "k8s.ts"), dagSource);
  const env = sluiceEnv({ home: join(project.dir, "pod-home"), extra: { SLUICE_DAGS_FOLDER: project.dags, K8S_TEST_DIR: project.dir } });
  // A pod has no database settings at all: everything goes through the task API.
  for (const k of Object.keys(env)) if (/^PG|DATABASE_URL|^SLUICE_DB/.test(k)) delete env[k];
  const kube = new FakeKubePods(env, project.dir);
  await kube.start();
  const config = defaultConfig();
  config.home = join(project.dir, "home");
  config.dagsFolder = project.dags;
  config.db.url = targetUrl(await freshTarget(dialect, "k8s_exec"));
  config.scheduler.loopIntervalMs = 100;
  config.scheduler.heartbeatIntervalMs = 300;
  config.scheduler.dagScanIntervalMs = 3_600_000;
  config.executor.kind = "kubernetes";
  config.kubernetes.server = kube.url;
  config.kubernetes.token = "test";
  // client-node refuses plain http unless TLS checks are off (a real cluster uses https).
  config.kubernetes.insecureSkipTlsVerify = true;
  config.kubernetes.namespace = "jobs";
  config.kubernetes.command = [process.execPath, SLUICE_BIN];
  tune(config);
  let sluice = await createSluice(config, log);
  // Its own store: the API server outlives the schedulers a test stops (adoption), like a separate Deployment.
  const apiStore = await openSluiceStore(config);
  const api = createApiServer({ store: apiStore, config, log, ui: false });
  await api.listen({ host: "127.0.0.1", port: 0 });
  config.kubernetes.apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  assert.equal((await sluice.processor.scan()).errors, 0, JSON.stringify(await sluice.store.dags.importErrors()));
  await sluice.store.dags.setPaused("k8s", false, Date.now());
  await sluice.start();
  const extra: Sluice[] = [];
  return {
    get sluice() {
      return sluice;
    },
    config,
    api,
    kube,
    dir: project.dir,
    spawnScheduler() {
      const k = config.kubernetes;
      const env = sluiceEnv({
        dbUrl: config.db.url,
        // The same home: the attempt tokens it signs must verify with the API server's key.
        home: config.home,
        extra: {
          SLUICE_DAGS_FOLDER: config.dagsFolder,
          SLUICE_EXECUTOR__KIND: "kubernetes",
          SLUICE_SCHEDULER__LOOP_INTERVAL_MS: String(config.scheduler.loopIntervalMs),
          SLUICE_SCHEDULER__HEARTBEAT_INTERVAL_MS: String(config.scheduler.heartbeatIntervalMs),
          SLUICE_SCHEDULER__ZOMBIE_THRESHOLD_MS: String(config.scheduler.zombieThresholdMs),
          SLUICE_SCHEDULER__DAG_SCAN_INTERVAL_MS: String(config.scheduler.dagScanIntervalMs),
          SLUICE_KUBERNETES__SERVER: k.server!,
          SLUICE_KUBERNETES__TOKEN: k.token!,
          SLUICE_KUBERNETES__INSECURE_SKIP_TLS_VERIFY: "true",
          SLUICE_KUBERNETES__NAMESPACE: k.namespace,
          SLUICE_KUBERNETES__COMMAND: JSON.stringify(k.command),
          SLUICE_KUBERNETES__API_URL: k.apiUrl,
          SLUICE_KUBERNETES__PENDING_TIMEOUT_MS: String(k.pendingTimeoutMs),
        },
      });
      return new SluiceProcess(["scheduler"], env, project.dir);
    },
    async restart() {
      const s = await createSluice(config, log);
      await s.start();
      extra.push(s);
      return s;
    },
    async close() {
      for (const s of extra) await s.stop();
      // A test may have stopped it already (adoption): a second stop finds its store closed.
      await sluice.stop().catch(() => {});
      await api.close();
      await apiStore.close();
      await kube.stop();
    },
  };
}

export async function finished(sluice: Sluice, runPk: number) {
  return waitFor(
    "the run to finish",
    async () => {
      const r = await sluice.store.runs.byPk(runPk);
      return r && (r.state === "success" || r.state === "failed") ? r : undefined;
    },
    { timeoutMs: 60_000 },
  );
}
