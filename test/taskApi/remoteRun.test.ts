/**
 * `sluice task run --remote` end to end: the real CLI as a subprocess whose
 * environment has no database URL, talking to the API server on 127.0.0.1
 * with an attempt token (SQLite and PostgreSQL). Success with upstream
 * inputs, result and logs; a server that goes away mid-attempt and comes back
 * on the same port (the final write is retried and lands once); a failing
 * task retried by its policy; a runner killed with -9 judged dead by the
 * reaper's stale-heartbeat rule and retried.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import type { AttemptTokens } from "../../src/auth/attemptToken.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import type { Executor } from "../../src/executors/executor.js";
import { Reaper } from "../../src/scheduler/reaper.js";
import { SpecCache } from "../../src/scheduler/specCache.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";
import { killLeftovers, runSluice, show, SLUICE_BIN, sluiceEnv, waitFor } from "../e2e/helpers.js";
import { seedDag, setTi, tokensFor, type Fixture } from "./helpers.js";

const log = pino({ level: "silent" });

for (const dialect of DIALECTS) {
  describe(`remote task run on ${dialect}`, () => {
    let store: Store;
    let fx: Fixture;
    let config: SluiceConfig;
    let tokens: AttemptTokens;
    let app: ApiApp | undefined;
    let port = 0;
    let env: NodeJS.ProcessEnv;

    const listen = async () => {
      app = createApiServer({ store, config, log, ui: false });
      await app.listen({ host: "127.0.0.1", port });
      port = (app.server.address() as AddressInfo).port;
    };
    const url = () => `http://127.0.0.1:${port}`;
    const queue = (taskId: string, tryNumber: number, maxTries = 2) =>
      setTi(store, fx.runId, taskId, { state: "queued", try_number: tryNumber, max_tries: maxTries, queued_at: Date.now(), heartbeat_at: null, hostname: null, pid: null });
    const ti = async (id: number) => (await store.tasks.get(id))!;

    before(async () => {
      store = await freshStore(dialect, "task_api_remote");
      fx = await seedDag(store);
      config = defaultConfig();
      config.home = join(fx.project.dir, "server-home");
      // Fast heartbeats: the runner learns the interval from the server.
      config.scheduler.heartbeatIntervalMs = 200;
      tokens = tokensFor(config.home);
      await listen();
      // The pod's environment: no SLUICE_* but its own home and dags folder, no database settings at all.
      env = sluiceEnv({ home: join(fx.project.dir, "pod-home"), extra: { SLUICE_DAGS_FOLDER: fx.project.dags, REMOTE_TEST_DIR: fx.project.dir } });
      for (const k of Object.keys(env)) if (/^PG|DATABASE_URL/.test(k)) delete env[k];
    });
    after(async () => {
      await app?.close();
      await store.close();
      await killLeftovers();
    });

    it("runs an attempt with no database configuration: success, result, logs and upstream inputs in the store", async () => {
      assert.equal(env.SLUICE_DB_URL, undefined);
      assert.deepEqual(Object.keys(env).filter((k) => /^SLUICE_DB|^PG|DATABASE/.test(k)), [], "no database setting reaches the runner");
      await setTi(store, fx.runId, "produce", { state: "success", try_number: 1, result: JSON.stringify({ n: 41 }) });
      const id = await queue("consume", 1);
      const token = await tokens.issue({ tiId: id, tryNumber: 1 }, 60_000);
      const r = await runSluice(["task", "run", "--remote", url()], { ...env, SLUICE_TASK_TOKEN: token }, { cwd: fx.project.dir });
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, /remote\.consume try 1: success/);
      const row = await ti(id);
      assert.equal(row.state, "success");
      assert.deepEqual(JSON.parse(row.result!), { n: 42, try: 1 }, "the upstream result arrived through the context");
      assert.equal(row.hostname, hostname());
      const lines = (await store.logs.read(id, 1)).map((l) => l.line);
      assert.ok(lines.some((l) => /\[INFO\] consume got \{"p":\{"n":41\}\}/.test(l)), lines.join("\n"));
      assert.ok(lines.some((l) => /Attempt 1 finished: success/.test(l)), "the last lines came with the finish");
      assert.deepEqual((await store.tasks.tries(id)).map((t) => [t.try_number, t.state]), [[1, "success"]]);
      // Nothing under the pod's home: it never opened a database.
      assert.equal(existsSync(join(fx.project.dir, "pod-home", "sluice.db")), false);
    });

    it("a failing task is retried by its policy; the old try's token is useless for the new try", async () => {
      const id = await queue("flaky", 1);
      const t1 = await tokens.issue({ tiId: id, tryNumber: 1 }, 60_000);
      const r1 = await runSluice(["task", "run", "--remote", url(), "--token", t1], env, { cwd: fx.project.dir });
      assert.equal(r1.code, 1, show(r1));
      const row = await ti(id);
      assert.equal(row.state, "up_for_retry");
      assert.match(row.error!, /flaky fails on its first try/);
      // The scheduler's next step, done by hand: queue try 2 (with a new token).
      assert.ok(await store.tasks.cas(id, ["up_for_retry"], { state: "queued", try_number: 2, queued_at: Date.now() }, 1));
      const stale = await runSluice(["task", "run", "--remote", url(), "--token", t1], env, { cwd: fx.project.dir });
      assert.notEqual(stale.code, 0, show(stale));
      assert.equal((await ti(id)).state, "queued", "try 1's token did not run try 2");
      const t2 = await tokens.issue({ tiId: id, tryNumber: 2 }, 60_000);
      const r2 = await runSluice(["task", "run", "--remote", url(), "--token", t2], env, { cwd: fx.project.dir });
      assert.equal(r2.code, 0, show(r2));
      assert.equal((await ti(id)).state, "success");
      assert.deepEqual((await store.tasks.tries(id)).map((t) => [t.try_number, t.state]), [[1, "failed"], [2, "success"]]);
    });

    it("the server goes away mid-attempt and comes back on the same port: the attempt still finishes, once", async () => {
      const id = await queue("hold", 1);
      const token = await tokens.issue({ tiId: id, tryNumber: 1 }, 60_000);
      const proc = spawn(process.execPath, [SLUICE_BIN, "task", "run", "--remote", url(), "--token", token], { cwd: fx.project.dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      proc.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
      await waitFor("the task to start", () => existsSync(join(fx.project.dir, "started-1")), { timeoutMs: 30_000 });
      assert.equal((await ti(id)).state, "running");
      await app!.close();
      app = undefined;
      // Released while the server is down: the runner's final write finds no server and retries.
      writeFileSync(join(fx.project.dir, "go"), "");
      await waitFor("the runner to retry", () => /retrying/.test(stderr), { timeoutMs: 30_000 });
      await listen();
      assert.equal(await exited, 0, stderr);
      const row = await ti(id);
      assert.equal(row.state, "success");
      assert.equal(row.result, JSON.stringify("held"));
      assert.deepEqual((await store.tasks.tries(id)).map((t) => [t.try_number, t.state]), [[1, "success"]], "finished exactly once");
      const lines = (await store.logs.read(id, 1)).map((l) => l.line);
      assert.equal(lines.filter((l) => /Attempt 1 finished/.test(l)).length, 1, lines.join("\n"));
    });

    it("a runner killed with -9 stops heartbeating: the reaper judges the attempt dead and it is retried", async () => {
      const id = await queue("hold", 2, 3);
      // A fresh hold: the "go" file of the previous test would release it at once.
      rmSync(join(fx.project.dir, "go"), { force: true });
      const token = await tokens.issue({ tiId: id, tryNumber: 2 }, 60_000);
      const proc = spawn(process.execPath, [SLUICE_BIN, "task", "run", "--remote", url(), "--token", token], { cwd: fx.project.dir, env, stdio: "ignore" });
      const exited = new Promise<void>((resolve) => proc.on("close", () => resolve()));
      await waitFor("the task to start", () => existsSync(join(fx.project.dir, "started-2")), { timeoutMs: 30_000 });
      const taskPid = Number(readFileSync(join(fx.project.dir, "started-2"), "utf8"));
      await waitFor("a heartbeat", async () => {
        const r = await ti(id);
        return r.heartbeat_at !== null && r.start_date !== null && r.heartbeat_at > r.start_date;
      });
      proc.kill("SIGKILL");
      await exited;
      assert.equal(taskPid, proc.pid, "the task ran in the runner process itself");
      const lastBeat = (await ti(id)).heartbeat_at!;
      const stub = { runningIds: () => [], adopt: async () => [], cancel: () => {} } as unknown as Executor;
      const reaper = new Reaper(store, stub, new SpecCache(store), { jobId: () => undefined, zombieThresholdMs: 60_000, heartbeatIntervalMs: 200 }, log);
      // As a pod on another node: the reaper cannot look at its pid, only at its heartbeat.
      await store.db.updateTable("task_instance").set({ hostname: "pod-on-another-node" }).where("id", "=", id).execute();
      await reaper.reap(lastBeat + 1_000);
      assert.equal((await ti(id)).state, "running", "a recent heartbeat: still alive");
      await reaper.reap(lastBeat + 60_001);
      const row = await ti(id);
      assert.equal(row.state, "up_for_retry", JSON.stringify(row));
      assert.match(row.error!, /is gone: no heartbeat since/);
      assert.deepEqual((await store.tasks.tries(id)).filter((t) => t.try_number === 2).map((t) => t.state), ["failed"]);
    });
  });
}
