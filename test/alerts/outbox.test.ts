/**
 * The alerts outbox on SQLite and PostgreSQL, with a clock the test moves:
 * an event is recorded once whoever reports it and however often; the rate
 * limit per (DAG, task, event) suppresses the surplus and the next alert sent
 * counts what it suppressed; a failing notifier is retried with exponential
 * backoff, every attempt recorded, until it recovers or attempts run out; an
 * error no retry fixes fails the delivery at once; two dispatchers on one
 * database send every delivery exactly once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { AlertDispatcher, backoffMs } from "../../src/alerts/dispatcher.js";
import { enqueueAlert, gitSyncFailedAlert, type AlertEvent, type AlertsSettings } from "../../src/alerts/enqueue.js";
import { createNotifiers } from "../../src/alerts/notifiers.js";
import { defaultConfig } from "../../src/config/config.js";
import { openStore, type Store } from "../../src/store/store.js";
import { DIALECTS, freshTarget } from "../helpers/db.js";
import { Clock } from "../scheduler/helpers.js";
import { HttpReceiver, refusedUrl } from "./receivers.js";

const silent = pino({ level: "silent" });
const T0 = Date.parse("2026-03-01T12:00:00Z");

function settings(http: HttpReceiver, refused: string, patch: Partial<AlertsSettings> = {}): AlertsSettings {
  const s = defaultConfig().alerts;
  return {
    ...s,
    default: ["hook"],
    notifiers: {
      hook: { kind: "webhook", url: http.url("/hook") },
      flaky: { kind: "webhook", url: http.url("/flaky") },
      down: { kind: "webhook", url: refused },
      gone: { kind: "webhook", url: http.url("/gone") },
    },
    rateLimit: { windowMs: 60_000, max: 2 },
    retry: { maxAttempts: 4, initialDelayMs: 1_000, maxDelayMs: 3_000 },
    timeoutMs: 2_000,
    ...patch,
  };
}

const failure = (tiId: number, tryNumber: number, o: Partial<AlertEvent> = {}): AlertEvent => ({
  kind: "task_failed",
  dedupeKey: `task_failed:${tiId}:${tryNumber}`,
  title: "Task failed: etl.load",
  message: `boom on try ${tryNumber}`,
  dagId: "etl",
  taskId: "load",
  runId: `run_${tiId}`,
  tryNumber,
  ...o,
});

for (const dialect of DIALECTS) {
  describe(`the alerts outbox on ${dialect}`, () => {
    let store: Store;
    /**
     * A second connection, as another scheduler process would have. PostgreSQL
     * only: two SQLite connections in one process deadlock on each other's
     * write lock (better-sqlite3 waits synchronously, so the holder never gets
     * to commit); processes do not, and one SQLite database has one scheduler.
     */
    let other: Store;
    let http: HttpReceiver;
    let refused: string;
    let s: AlertsSettings;
    const clock = new Clock(T0);

    before(async () => {
      const target = await freshTarget(dialect, "alerts_outbox");
      store = await openStore(target, { migrate: true });
      other = dialect === "postgres" ? await openStore(target) : store;
      http = await HttpReceiver.start();
      refused = await refusedUrl();
      s = settings(http, refused);
    });
    after(async () => {
      if (other !== store) await other?.close();
      await store?.close();
      await http?.close();
    });

    const dispatcher = (st: Store = store, claimant?: string) =>
      new AlertDispatcher({ store: st, settings: s, notifiers: createNotifiers(s.notifiers, {}), uiBase: "http://localhost:8080", log: silent, now: clock.now, claimant });
    const deliveriesOf = async (alertId: number) => store.alerts.deliveriesOf([alertId]);

    it("records an event once, whoever reports it and how often", async () => {
      const first = await enqueueAlert(store, s, failure(1, 1), clock.t);
      assert.ok(first && !first.suppressed);
      assert.equal(await enqueueAlert(store, s, failure(1, 1), clock.t), undefined, "the same key again is a no-op");
      // Two processes (two connections) reporting one event at the same time: one row.
      const results = await Promise.all([store, other, store, other].map((st) => enqueueAlert(st, s, failure(2, 1), clock.t)));
      assert.equal(results.filter(Boolean).length, 1, "four concurrent reports, one alert");
      const { rows } = await store.alerts.list({ limit: 100, offset: 0 });
      assert.deepEqual(rows.map((r) => r.dedupe_key).sort(), ["task_failed:1:1", "task_failed:2:1"]);
      assert.equal((await deliveriesOf(first.id)).length, 1, "one delivery, to alerts.default");
    });

    it("rate-limits per (DAG, task, event): the surplus is suppressed, and the next one sent counts it", async () => {
      clock.advance(120_000); // a fresh window
      const sent: (number | undefined)[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await enqueueAlert(store, s, failure(10, i + 1), clock.advance(1_000));
        sent.push(r?.suppressed ? undefined : r?.id);
      }
      assert.equal(sent.filter(Boolean).length, 2, "max 2 per window");
      // Another task's failures are another group: not limited by this one.
      const otherTask = await enqueueAlert(store, s, failure(11, 1, { taskId: "extract" }), clock.t);
      assert.equal(otherTask?.suppressed, false);
      const suppressed = (await store.alerts.list({ states: ["suppressed"], limit: 100, offset: 0 })).rows;
      assert.equal(suppressed.length, 3);
      for (const a of suppressed) assert.equal((await deliveriesOf(a.id)).length, 0, "a suppressed alert is recorded, not delivered");

      clock.advance(60_000); // the window has passed
      const next = await enqueueAlert(store, s, failure(10, 6), clock.t);
      assert.deepEqual({ suppressed: next?.suppressed, count: next?.suppressedCount }, { suppressed: false, count: 3 });
      const row = await store.alerts.get(next!.id);
      assert.equal(row?.suppressed_count, 3);
    });

    it("a notifier that answers 500 is retried with exponential backoff, every attempt recorded, until it recovers", async () => {
      http.mode = "ok";
      clock.advance(600_000);
      const a = await enqueueAlert(store, s, failure(20, 1, { notify: ["flaky"] }), clock.t);
      const d = dispatcher();
      // Deliver what earlier tests left, to the healthy hook.
      while ((await d.runOnce()) > 0);
      http.mode = "error500";
      // The alert above was already sent with the others: enqueue a new one for the flaky notifier.
      const b = await enqueueAlert(store, s, failure(21, 1, { notify: ["flaky"] }), clock.t);
      assert.ok(a && b);
      const attemptTimes: number[] = [];
      for (let i = 0; i < 3; i++) {
        attemptTimes.push(clock.t);
        assert.equal(await d.runOnce(), 1, `attempt ${i + 1} is due`);
        const [delivery] = await deliveriesOf(b.id);
        assert.equal(delivery.state, "pending");
        assert.equal(delivery.attempts, i + 1);
        assert.match(delivery.last_error ?? "", new RegExp(`answered HTTP 500.*attempt ${i + 1} of 4; next at`));
        assert.equal(delivery.next_attempt_at, clock.t + backoffMs(i + 1, s.retry));
        // Not due before its backoff has passed.
        clock.advance(backoffMs(i + 1, s.retry) - 1);
        assert.equal(await d.runOnce(), 0, "nothing is due before the backoff ends");
        clock.advance(1);
      }
      assert.deepEqual([backoffMs(1, s.retry), backoffMs(2, s.retry), backoffMs(3, s.retry)], [1_000, 2_000, 3_000], "doubling, capped at maxDelayMs");
      http.mode = "ok";
      assert.equal(await d.runOnce(), 1);
      const [delivery] = await deliveriesOf(b.id);
      assert.equal(delivery.state, "delivered");
      assert.equal(delivery.attempts, 4);
      assert.equal(delivery.last_error, null);
      const attempts = await store.alerts.attemptsOf([delivery.id]);
      assert.deepEqual(
        attempts.map((t) => [t.attempt, t.ok, t.response]),
        [
          [1, 0, "HTTP 500"],
          [2, 0, "HTTP 500"],
          [3, 0, "HTTP 500"],
          [4, 1, "HTTP 200"],
        ],
      );
      assert.equal((await store.alerts.get(b.id))?.state, "delivered");
      assert.equal(http.to("/flaky").filter((r) => r.json?.runId === "run_21").length, 4, "four requests reached the notifier");
    });

    it("gives up after maxAttempts on a notifier that stays down; fails at once on an error no retry fixes", async () => {
      const a = await enqueueAlert(store, s, failure(30, 1, { dagId: "reports", notify: ["down", "gone", "hook", "nobody"] }), clock.t);
      http.mode = "ok";
      // "gone" answers 404: one attempt, failed.
      const notFound = await HttpReceiver.start();
      s.notifiers.gone = { kind: "webhook", url: notFound.url("/gone") };
      notFound.mode = "notFound";
      const d2 = new AlertDispatcher({ store, settings: s, notifiers: createNotifiers(s.notifiers, {}), uiBase: "http://localhost:8080", log: silent, now: clock.now });
      for (let i = 0; i < 6; i++) {
        await d2.runOnce();
        clock.advance(s.retry.maxDelayMs);
      }
      await notFound.close();
      const byName = Object.fromEntries((await deliveriesOf(a!.id)).map((x) => [x.notifier, x]));
      assert.equal(byName.hook.state, "delivered");
      assert.equal(byName.down.state, "failed");
      assert.equal(byName.down.attempts, 4, "maxAttempts");
      assert.match(byName.down.last_error ?? "", /connection was refused.*attempt 4 of 4: giving up/);
      assert.equal(byName.gone.state, "failed");
      assert.equal(byName.gone.attempts, 1, "a 404 is not retried");
      assert.match(byName.gone.last_error ?? "", /HTTP 404.*not retried/);
      assert.equal(byName.nobody.state, "failed");
      assert.equal(byName.nobody.attempts, 0);
      assert.match(byName.nobody.last_error ?? "", /notifier "nobody" is not configured \(configured: hook, flaky, down, gone\)/);
      assert.equal((await store.alerts.get(a!.id))?.state, "failed", "an alert with a failed delivery is failed");
      assert.equal((await store.alerts.attemptsOf([byName.down.id])).length, 4);
    });

    it("two dispatchers on one database send every delivery exactly once", async () => {
      http.mode = "ok";
      const before = http.to("/hook").length;
      const keys: string[] = [];
      for (let i = 0; i < 40; i++) {
        const e = failure(100 + i, 1, { dagId: `dag_${i}` });
        keys.push(e.dedupeKey);
        await enqueueAlert(store, s, e, clock.t);
      }
      const a = dispatcher(store, "a");
      const b = dispatcher(other, "b");
      const byDispatcher = [0, 0];
      for (;;) {
        const [x, y] = await Promise.all([a.runOnce(), b.runOnce()]);
        assert.ok(x <= 4 && y <= 4, `a claim takes at most its limit (4): ${x}, ${y}`);
        byDispatcher[0] += x;
        byDispatcher[1] += y;
        if (x + y === 0) break;
      }
      assert.equal(byDispatcher[0] + byDispatcher[1], 40, `claims: ${byDispatcher.join(" + ")}`);
      // Each takes at most 4 per round, so both took part.
      assert.ok(byDispatcher[0] > 0 && byDispatcher[1] > 0, `claims: ${byDispatcher.join(" + ")}`);
      const got = http.to("/hook").slice(before).map((r) => r.json.dagId as string);
      assert.equal(got.length, 40, "one request per alert");
      assert.equal(new Set(got).size, 40, "no alert sent twice");
      for (const k of keys) {
        const row = await store.alerts.byKey(k);
        const [d] = await deliveriesOf(row!.id);
        assert.equal(d.state, "delivered");
        assert.equal(d.attempts, 1);
        const [t] = await store.alerts.attemptsOf([d.id]);
        assert.equal(t.ok, 1);
      }
    });

    it("git sync failures are recorded once per bundle, commit and error, and go to alerts.default", async () => {
      const e = gitSyncFailedAlert({ bundle: "pipelines", commit: "0123456789abcdef0123", error: "fatal: could not read Username for 'https://github.com'" });
      const a = await enqueueAlert(store, s, e, clock.t);
      assert.ok(a);
      assert.equal(await enqueueAlert(store, s, gitSyncFailedAlert({ bundle: "pipelines", commit: "0123456789abcdef0123", error: "fatal: could not read Username for 'https://github.com'" }), clock.t), undefined);
      const row = await store.alerts.get(a.id);
      assert.equal(row?.title, "Git sync failed: bundle pipelines at 0123456789ab");
      assert.deepEqual((await deliveriesOf(a.id)).map((d) => d.notifier), ["hook"]);
    });

    it("records nothing when alerts are off", async () => {
      assert.equal(await enqueueAlert(store, { ...s, enabled: false }, failure(999, 1), clock.t), undefined);
      assert.equal(await store.alerts.byKey("task_failed:999:1"), undefined);
    });
  });
}
