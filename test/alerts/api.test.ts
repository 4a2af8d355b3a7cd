/**
 * The alert history in the REST API, on SQLite and PostgreSQL: alerts
 * recorded through the outbox and sent by the dispatcher to real local
 * endpoints (one up, one answering 500, one refused), then read back through
 * GET /api/v1/alerts (filters, paging, deliveries per notifier with their
 * attempts and errors) and GET /api/v1/alerts/notifiers (state per
 * notifier, never its secrets). Viewers may read; both routes are in the
 * OpenAPI document.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { AlertDispatcher } from "../../src/alerts/dispatcher.js";
import { enqueueAlert, type AlertEvent } from "../../src/alerts/enqueue.js";
import { createNotifiers } from "../../src/alerts/notifiers.js";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";
import { Clock } from "../scheduler/helpers.js";
import { HttpReceiver, refusedUrl } from "./receivers.js";

const V1 = "/api/v1";
const T0 = Date.parse("2026-03-01T12:00:00Z");

for (const dialect of DIALECTS) {
  describe(`the alerts API on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let http: HttpReceiver;
    /** Always answers 500. */
    let bad: HttpReceiver;
    let config: SluiceConfig;
    let viewer: string;
    const clock = new Clock(T0);

    const get = async (url: string, token = viewer) => {
      const res = await app.inject({ method: "GET", url: V1 + url, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, json: res.json() as any };
    };

    before(async () => {
      store = await freshStore(dialect, "alerts_api");
      http = await HttpReceiver.start();
      bad = await HttpReceiver.start();
      bad.mode = "error500";
      config = defaultConfig();
      config.alerts.default = ["ops"];
      config.alerts.notifiers = {
        ops: { kind: "webhook", url: http.url("/ops"), secret: "never-shown-secret" },
        flaky: { kind: "webhook", url: bad.url("/flaky") },
        down: { kind: "slack", webhookUrl: await refusedUrl("/services/T0/B0/never-shown-token") },
      };
      config.alerts.retry = { maxAttempts: 2, initialDelayMs: 1_000, maxDelayMs: 1_000 };
      const s = config.alerts;
      const event = (i: number, o: Partial<AlertEvent> = {}): AlertEvent => ({
        kind: "task_failed",
        dedupeKey: `task_failed:${i}:1`,
        title: `Task failed: etl.t${i}`,
        message: `boom ${i}`,
        dagId: "etl",
        taskId: `t${i}`,
        runId: "r1",
        tryNumber: 1,
        details: { maxTries: 1 },
        ...o,
      });
      await enqueueAlert(store, s, event(1, { notify: ["ops", "flaky", "down"] }), clock.advance(1_000));
      for (let i = 2; i <= 5; i++) await enqueueAlert(store, s, event(i), clock.advance(1_000));
      await enqueueAlert(store, s, { ...event(6), kind: "run_failed", dedupeKey: "run_failed:1:1", taskId: null, title: "DAG run failed: etl (r1)", dagId: "etl" }, clock.advance(1_000));
      await enqueueAlert(store, s, { ...event(7), kind: "import_error", dedupeKey: "import_error:x.ts:1", dagId: null, taskId: null, runId: null, title: "DAG import error: x.ts", rateKey: "import_error:x.ts" }, clock.advance(1_000));
      // Rate limit (5 per group by default): the 6th failure of one task is suppressed.
      for (let i = 0; i < 6; i++) await enqueueAlert(store, s, event(100 + i, { taskId: "flapper", title: "Task failed: etl.flapper" }), clock.advance(1_000));

      // First round: every endpoint fails (ops answers 500 too). Second, after the backoff: ops is back, the others fail for good (maxAttempts 2).
      http.mode = "error500";
      const d = new AlertDispatcher({ store, settings: s, notifiers: createNotifiers(s.notifiers, {}), uiBase: "http://localhost:8080", log: pino({ level: "silent" }), now: clock.now });
      while ((await d.runOnce()) > 0);
      http.mode = "ok";
      clock.advance(1_000);
      while ((await d.runOnce()) > 0);

      await createUser(store, { username: "vic", role: "viewer", password: "correct horse battery" });
      viewer = (await createToken(store, "vic", "test")).token;
      app = createApiServer({ store, config, log: pino({ level: "silent" }), now: clock.now });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await store?.close();
      await http?.close();
      await bad?.close();
    });

    it("lists alerts newest first with each delivery's attempts and errors", async () => {
      const r = await get("/alerts?limit=100");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.total, 13);
      const titles = r.json.alerts.map((a: { title: string }) => a.title);
      assert.equal(titles.at(-1), "Task failed: etl.t1", "oldest last");
      const first = r.json.alerts.at(-1);
      assert.equal(first.kind, "task_failed");
      assert.equal(first.message, "boom 1");
      assert.deepEqual(first.details, { maxTries: 1 });
      const by = Object.fromEntries(first.deliveries.map((d: any) => [d.notifier, d]));
      assert.equal(by.ops.state, "delivered");
      assert.equal(by.ops.attemptLog.length, 2);
      assert.deepEqual(by.ops.attemptLog.map((t: any) => [t.attempt, t.ok, t.response]), [
        [1, false, "HTTP 500"],
        [2, true, "HTTP 200"],
      ]);
      assert.equal(by.down.state, "failed");
      assert.equal(by.down.attempts, 2);
      assert.match(by.down.lastError, /could not reach Slack \(127\.0\.0\.1:\d+\): the connection was refused.*attempt 2 of 2: giving up/);
      assert.match(by.down.attemptLog[0].error, /attempt 1 of 2; next at/);
      assert.equal(first.state, "failed", "one delivery failed for good");
      assert.ok(!JSON.stringify(r.json).includes("never-shown"), "no notifier settings in the answer");
    });

    it("filters by kind, state, DAG, task and notifier, and pages", async () => {
      const kinds = await get("/alerts?kind=run_failed,import_error");
      assert.deepEqual(kinds.json.alerts.map((a: any) => a.kind).sort(), ["import_error", "run_failed"]);
      const suppressed = await get("/alerts?state=suppressed");
      assert.equal(suppressed.json.total, 1);
      assert.equal(suppressed.json.alerts[0].taskId, "flapper");
      assert.deepEqual(suppressed.json.alerts[0].deliveries, []);
      assert.equal((await get("/alerts?taskId=flapper")).json.total, 6);
      assert.equal((await get("/alerts?notifier=down")).json.total, 1);
      const page1 = await get("/alerts?limit=5&offset=0");
      const page2 = await get("/alerts?limit=5&offset=5");
      assert.equal(page1.json.alerts.length, 5);
      assert.equal(page2.json.alerts.length, 5);
      assert.equal(new Set([...page1.json.alerts, ...page2.json.alerts].map((a: any) => a.id)).size, 10);
      const since = await get(`/alerts?since=${encodeURIComponent(new Date(T0 + 6_500).toISOString())}`);
      assert.ok(since.json.alerts.every((a: any) => Date.parse(a.createdAt) >= T0 + 6_500));
      const bad = await get("/alerts?kind=nope");
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.json), /task_failed/);
    });

    it("shows each notifier's state: kinds, recent counts, last success and last error — never its settings", async () => {
      const r = await get("/alerts/notifiers");
      assert.equal(r.status, 200);
      const by = Object.fromEntries(r.json.notifiers.map((n: any) => [n.name, n]));
      assert.deepEqual(Object.keys(by).sort(), ["down", "flaky", "ops"]);
      assert.equal(by.ops.kind, "webhook");
      assert.equal(by.ops.isDefault, true);
      assert.ok(by.ops.last24h.delivered >= 1);
      assert.ok(by.ops.lastDeliveredAt);
      assert.equal(by.down.kind, "slack");
      assert.equal(by.down.last24h.failed, 1);
      assert.equal(by.down.lastDeliveredAt, null);
      assert.match(by.down.lastError, /connection was refused/);
      assert.ok(!JSON.stringify(r.json).includes("never-shown"));
    });

    it("needs a signed-in user, and documents both routes", async () => {
      const anon = await app.inject({ method: "GET", url: `${V1}/alerts` });
      assert.equal(anon.statusCode, 401);
      const doc = (await get("/openapi.json")).json as { paths: Record<string, Record<string, { tags?: string[] }>> };
      assert.deepEqual(doc.paths[`${V1}/alerts`].get.tags, ["alerts"]);
      assert.deepEqual(doc.paths[`${V1}/alerts/notifiers`].get.tags, ["alerts"]);
    });
  });
}
