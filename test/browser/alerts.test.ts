/**
 * The Alerts page in headless Chromium, against the real API server on
 * SQLite and on PostgreSQL, with alerts recorded through the outbox and sent
 * by the real dispatcher to endpoints on 127.0.0.1: one that takes them, one
 * that refuses connections (its deliveries fail for good with the error), and
 * one that answers 500 and is still being retried.
 *
 * Before any alert the page says what it is for. Then: the notifiers with
 * their state and last error; the history with each alert's deliveries per
 * notifier and the failed delivery's error; a rate-limited alert and the
 * count of suppressed ones in the next; the filters (kept in the URL); an
 * alert's attempts; a new alert showing without a reload; no serious
 * accessibility violation.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import type { Page } from "playwright-core";
import { AlertDispatcher } from "../../src/alerts/dispatcher.js";
import { enqueueAlert, type AlertEvent } from "../../src/alerts/enqueue.js";
import { createNotifiers } from "../../src/alerts/notifiers.js";
import { HttpReceiver, refusedUrl } from "../alerts/receivers.js";
import { waitFor } from "../e2e/helpers.js";
import { axe, launchBrowser, screenshot, signIn, startApiServer, type Browser, type RunningApi } from "../helpers/browser.js";
import { DIALECTS } from "../helpers/db.js";

const failure = (n: number, o: Partial<AlertEvent> = {}): AlertEvent => ({
  kind: "task_failed",
  dedupeKey: `task_failed:${n}:1`,
  title: "Task failed: etl.load",
  message: `Error: warehouse refused the load (#${n})\n    at load (dags/etl.ts:12:11)`,
  dagId: "etl",
  taskId: "load",
  runId: `run_${n}`,
  tryNumber: 1,
  details: { maxTries: 1 },
  ...o,
});

for (const dialect of DIALECTS) {
  describe(`the Alerts page on ${dialect}`, () => {
    let api: RunningApi;
    let browser: Browser;
    let page: Page;
    let ok: HttpReceiver;
    let flaky: HttpReceiver;
    let dispatcher: AlertDispatcher;
    let clock = Date.now();

    const rows = () => page.getByTestId("alert-row");
    const deliver = async () => {
      while ((await dispatcher.runOnce()) > 0);
    };

    before(async () => {
      ok = await HttpReceiver.start();
      flaky = await HttpReceiver.start();
      flaky.mode = "error500";
      const refused = await refusedUrl();
      api = await startApiServer({
        dialect,
        config: (c) => {
          c.alerts.default = ["team_slack", "pager"];
          c.alerts.notifiers = {
            team_slack: { kind: "slack", webhookUrl: ok.url("/slack") },
            pager: { kind: "webhook", url: refused },
            audit: { kind: "webhook", url: flaky.url("/audit") },
          };
          c.alerts.rateLimit = { windowMs: 3_600_000, max: 2 };
          c.alerts.retry = { maxAttempts: 2, initialDelayMs: 1_000, maxDelayMs: 1_000 };
        },
      });
      const s = api.config.alerts;
      dispatcher = new AlertDispatcher({ store: api.store, settings: s, notifiers: createNotifiers(s.notifiers, {}), uiBase: api.baseUrl, log: pino({ level: "silent" }), now: () => clock });
      const viewer = await api.createUser("viewer");
      browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      await signIn(page, api.baseUrl, viewer.username, viewer.password, { expectDags: false });
    });
    after(async () => {
      await browser?.close();
      await api?.close();
      await ok?.close();
      await flaky?.close();
    });

    it("before any alert, the page (linked from the top bar) says what it is for", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
      await page.waitForURL(/\/alerts$/);
      await page.getByTestId("alerts-empty").waitFor();
      assert.match(await page.getByTestId("alerts-empty").innerText(), /sluice alerts test/);
      assert.equal(await page.getByTestId("notifier-row").count(), 3, "the configured notifiers are listed");
    });

    it("lists alerts with each notifier's delivery state and the error of a failed delivery", async () => {
      const s = api.config.alerts;
      // Two failures of etl.load go out; the third is rate-limited; a run failure goes to the default notifiers too.
      for (let i = 1; i <= 3; i++) await enqueueAlert(api.store, s, failure(i), (clock += 1_000));
      await enqueueAlert(api.store, s, { kind: "run_failed", dedupeKey: "run_failed:1:1", title: "DAG run failed: etl (run_1)", message: "", dagId: "etl", runId: "run_1", notify: ["team_slack", "audit"] }, (clock += 1_000));
      // First attempts: the pager's connection is refused, the audit endpoint answers 500. After the backoff,
      // both fail again and give up (maxAttempts 2).
      await deliver();
      clock += 1_000;
      await deliver();
      await page.reload();
      await waitFor("the alerts in the table", async () => (await rows().count()) === 4, { timeoutMs: 15_000 });

      const newestFirst = await rows().evaluateAll((els) => els.map((e) => [e.getAttribute("data-kind"), e.getAttribute("data-state")]));
      assert.deepEqual(newestFirst, [
        ["run_failed", "failed"],
        ["task_failed", "suppressed"],
        ["task_failed", "failed"],
        ["task_failed", "failed"],
      ]);
      const first = rows().nth(3);
      const states = await first.getByTestId("alert-delivery").evaluateAll((els) => els.map((e) => [e.getAttribute("data-notifier"), e.getAttribute("data-state")]));
      assert.deepEqual(states, [
        ["pager", "failed"],
        ["team_slack", "delivered"],
      ]);
      const error = await first.locator('[data-notifier="pager"]').getByTestId("delivery-error").innerText();
      assert.match(error, /could not reach the webhook at 127\.0\.0\.1:\d+: the connection was refused .*attempt 2 of 2: giving up/);
      assert.match(await first.innerText(), /Task failed: etl\.load/);
      assert.match(await first.innerText(), /2 attempts/);
      assert.equal(await first.getByRole("link", { name: "load" }).getAttribute("href"), "/dags/etl/grid?run=run_1&task=load");

      const suppressed = rows().nth(1);
      assert.match(await suppressed.innerText(), /Suppressed[\s\S]*rate-limited/);
      if (dialect === "sqlite") await screenshot(page, "alerts-history");
    });

    it("shows each notifier's state: last success, recent failures and the last error", async () => {
      const pager = page.locator('[data-testid="notifier-row"][data-notifier="pager"]');
      assert.match(await pager.innerText(), /webhook/);
      assert.match(await pager.innerText(), /\d+ failed/);
      assert.match(await pager.innerText(), /the connection was refused/);
      const slack = page.locator('[data-testid="notifier-row"][data-notifier="team_slack"]');
      assert.match(await slack.innerText(), /slack/);
      assert.match(await slack.innerText(), /3 delivered/);
      assert.match(await slack.innerText(), /default/i);
    });

    it("shows an alert's attempts, one per send, with what each endpoint answered", async () => {
      const runFailed = rows().first();
      await runFailed.getByRole("button", { name: /Show details/ }).click();
      const attempts = page.getByTestId("alert-attempt");
      await attempts.first().waitFor();
      const text = await attempts.allInnerTexts();
      assert.ok(text.some((t) => /team_slack\s+1[\s\S]*HTTP 200/.test(t)), text.join("\n"));
      assert.ok(text.some((t) => /audit\s+2[\s\S]*answered HTTP 500/.test(t)), text.join("\n"));
      await runFailed.getByRole("button", { name: /Hide details/ }).click();
    });

    it("filters by state and event, in the URL", async () => {
      await page.getByLabel("State").selectOption("suppressed");
      await page.waitForURL(/state=suppressed/);
      await waitFor("only the suppressed alert", async () => (await rows().count()) === 1, { timeoutMs: 15_000 });
      await page.getByLabel("State").selectOption("");
      await page.getByLabel("Event").selectOption("run_failed");
      await page.waitForURL(/kind=run_failed/);
      await waitFor("only the run failure", async () => (await rows().count()) === 1, { timeoutMs: 15_000 });
      await page.reload();
      await waitFor("the filter kept after a reload", async () => (await rows().count()) === 1, { timeoutMs: 15_000 });
      assert.equal(await rows().first().getAttribute("data-kind"), "run_failed");
      await page.getByLabel("Event").selectOption("");
      await waitFor("all alerts again", async () => (await rows().count()) === 4, { timeoutMs: 15_000 });
    });

    it("a new alert shows without a reload, with the count of the suppressed ones before it", async () => {
      // An hour later the window has passed: the next failure of etl.load is sent and says one was suppressed.
      clock += 3_700_000;
      await enqueueAlert(api.store, api.config.alerts, failure(9), clock);
      await deliver();
      await waitFor("the new alert on the page", async () => (await rows().count()) === 5, { timeoutMs: 15_000 });
      const newest = rows().first();
      assert.match(await newest.getByTestId("alert-suppressed-count").innerText(), /1 similar alert was suppressed before this one/);
      const a11y = await axe(page);
      assert.equal(a11y.violations.length, 0, a11y.text);
    });
  });
}
