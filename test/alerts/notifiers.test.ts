/**
 * Each notifier against the real thing on 127.0.0.1: a Slack-like incoming
 * webhook and a generic webhook (an HTTP server that records what it got,
 * checking the HMAC signature the way a receiver would), and a real SMTP
 * server with a login receiving the email. Then the failures a notifier can
 * meet, and whether each is worth a retry: connection refused, no answer,
 * HTTP 500, HTTP 404, a wrong SMTP password, an unset secret variable.
 */
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { alertContent } from "../../src/alerts/content.js";
import { DeliveryError, NotifierConfigError } from "../../src/alerts/notifier.js";
import { parseNotifier } from "../../src/alerts/notifierConfig.js";
import { createNotifier, sendWithTimeout } from "../../src/alerts/notifiers.js";
import type { AlertRow } from "../../src/store/alertQueries.js";
import { HttpReceiver, refusedUrl, SmtpReceiver } from "./receivers.js";

const BASE = "https://sluice.example.com";
const ERROR = "Error: warehouse refused the load: disk full on node-7\n    at load (dags/etl.ts:12:11)\n    at async run (sluice/task.js:40:3)";

const failedAlert: AlertRow = {
  id: 42,
  dedupe_key: "task_failed:7:3",
  kind: "task_failed",
  rate_key: "task_failed:etl:load",
  dag_id: "etl",
  task_id: "load",
  run_id: "manual__2026-03-01T02:00:00.000Z",
  run_pk: 9,
  map_index: -1,
  try_number: 3,
  title: "Task failed: etl.load",
  message: ERROR,
  details: JSON.stringify({ maxTries: 3 }),
  state: "pending",
  suppressed_count: 4,
  created_at: Date.parse("2026-03-01T02:05:00Z"),
};
const content = alertContent(failedAlert, BASE);
const LOGS_URL = `${BASE}/dags/etl/grid?run=manual__2026-03-01T02%3A00%3A00.000Z&task=load`;

function notifier(name: string, raw: unknown, env: Record<string, string> = {}) {
  const parsed = parseNotifier(raw);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return createNotifier(name, parsed.value, env);
}

async function failure(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${(err as Error)?.stack ?? err}`);
    return err;
  }
  assert.fail("the send succeeded; expected a failure");
}

describe("alert notifiers against local servers", () => {
  let http: HttpReceiver;
  let smtp: SmtpReceiver;

  before(async () => {
    http = await HttpReceiver.start();
    smtp = await SmtpReceiver.start({ user: "alerts@example.com", password: "s3cret-smtp" });
  });
  after(async () => {
    await http?.close();
    await smtp?.close();
  });

  it("Slack: one readable message with the DAG, task, run, try, the error and a link to the task's logs", async () => {
    const slack = notifier("slack_ops", { kind: "slack", webhookUrlEnv: "SLACK_OPS_URL" }, { SLACK_OPS_URL: http.url("/services/T0/B0/xyz") });
    const response = await sendWithTimeout(slack, content, 5_000);
    assert.match(response, /^HTTP 200/);
    const [req] = http.to("/services/T0/B0/xyz");
    assert.equal(req.headers["content-type"], "application/json");
    const body = req.json as { text: string; blocks: any[] };
    assert.match(body.text, /Task failed: etl\.load/);
    const all = JSON.stringify(body.blocks);
    assert.equal(body.blocks[0].type, "header");
    assert.equal(body.blocks[0].text.text, "Task failed: etl.load");
    const fields = body.blocks[1].fields.map((f: { text: string }) => f.text);
    assert.deepEqual(fields, ["*DAG*\netl", "*Task*\nload", "*Run*\nmanual__2026-03-01T02:00:00.000Z", "*Try*\n3 of 3"]);
    assert.ok(all.includes("warehouse refused the load: disk full on node-7"), all);
    assert.ok(all.includes(`<${LOGS_URL}|View the task's logs>`), all);
    assert.ok(all.includes("4 similar alerts were suppressed"), all);
  });

  it("webhook: JSON with the facts and a sha256 HMAC of the raw body that verifies with the secret", async () => {
    const hook = notifier("audit", { kind: "webhook", url: http.url("/audit"), secret: "topsecret-hmac-key" });
    await sendWithTimeout(hook, content, 5_000, 1234);
    const [req] = http.to("/audit");
    assert.equal(req.json.kind, "task_failed");
    assert.equal(req.json.dagId, "etl");
    assert.equal(req.json.taskId, "load");
    assert.equal(req.json.tryNumber, 3);
    assert.equal(req.json.error, ERROR);
    assert.equal(req.json.url, LOGS_URL);
    assert.equal(req.json.suppressedCount, 4);
    assert.equal(req.headers["x-sluice-event"], "task_failed");
    assert.equal(req.headers["x-sluice-delivery"], "1234");
    // What a receiver does: HMAC of the bytes it received, compared in constant time.
    const sent = String(req.headers["x-sluice-signature-256"]);
    const expected = `sha256=${createHmac("sha256", "topsecret-hmac-key").update(req.raw).digest("hex")}`;
    assert.ok(timingSafeEqual(Buffer.from(sent), Buffer.from(expected)), `${sent} != ${expected}`);
    const forged = `sha256=${createHmac("sha256", "another-key").update(req.raw).digest("hex")}`;
    assert.notEqual(sent, forged, "another key gives another signature");

    const plain = notifier("plain", { kind: "webhook", url: http.url("/plain") });
    await sendWithTimeout(plain, content, 5_000);
    assert.equal(http.to("/plain")[0].headers["x-sluice-signature-256"], undefined, "no secret, no signature");
  });

  it("email: a real SMTP server (with a login) receives text and HTML with the DAG, task, try, error and log link", async () => {
    const mail = notifier(
      "oncall",
      { kind: "email", host: "127.0.0.1", port: smtp.port, user: "alerts@example.com", passwordEnv: "SMTP_PASSWORD", from: "sluice@example.com", to: ["oncall@example.com", "data@example.com"] },
      { SMTP_PASSWORD: "s3cret-smtp" },
    );
    const response = await sendWithTimeout(mail, content, 10_000);
    assert.match(response, /^250/);
    assert.equal(smtp.messages.length, 1);
    const m = smtp.messages[0];
    assert.equal(m.user, "alerts@example.com");
    assert.equal(m.from, "sluice@example.com");
    assert.deepEqual(m.to, ["oncall@example.com", "data@example.com"]);
    assert.equal(m.subject, "[Sluice] Task failed: etl.load (try 3 of 3)");
    for (const part of [m.text, m.html]) {
      assert.match(part, /etl/);
      assert.match(part, /load/);
      assert.match(part, /3 of 3/);
      assert.match(part, /disk full on node-7/);
      assert.match(part, /4 similar alerts were suppressed/);
    }
    assert.ok(m.text.includes(`View the task's logs: ${LOGS_URL}`), m.text);
    assert.ok(m.html.includes(`href="${LOGS_URL.replace(/&/g, "&amp;")}"`), m.html);
    assert.match(m.html, /<pre[^>]*>Error: warehouse refused/);
  });

  it("HTML in an error is escaped in the email and in Slack", async () => {
    const nasty = alertContent({ ...failedAlert, message: '<script>alert("x")</script> & <b>bold</b>' }, BASE);
    const mail = notifier("m", { kind: "email", host: "127.0.0.1", port: smtp.port, user: "alerts@example.com", password: "s3cret-smtp", from: "sluice@example.com", to: ["a@example.com"] });
    await sendWithTimeout(mail, nasty, 10_000);
    const html = smtp.messages.at(-1)!.html;
    assert.ok(!html.includes("<script>"), html);
    assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;"), html);
    const slack = notifier("s", { kind: "slack", webhookUrl: http.url("/escaped") });
    await sendWithTimeout(slack, nasty, 5_000);
    assert.ok(JSON.stringify(http.to("/escaped")[0].json).includes("&lt;script&gt;"));
  });

  it("a refused connection, no answer and HTTP 500 are retryable; HTTP 404 is not", async () => {
    const refused = await failure(sendWithTimeout(notifier("r", { kind: "webhook", url: await refusedUrl() }), content, 5_000));
    assert.equal(refused.retryable, true);
    assert.match(refused.message, /could not reach the webhook at 127\.0\.0\.1:\d+: the connection was refused/);

    http.mode = "hang";
    const slow = await failure(sendWithTimeout(notifier("h", { kind: "webhook", url: http.url("/slow") }), content, 300));
    assert.equal(slow.retryable, true);
    assert.match(slow.message, /did not (answer|finish) within 300 ms \(alerts\.timeoutMs\)/);

    http.mode = "error500";
    const e500 = await failure(sendWithTimeout(notifier("e", { kind: "slack", webhookUrl: http.url("/svc") }), content, 5_000));
    assert.equal(e500.retryable, true);
    assert.match(e500.message, /Slack \(127\.0\.0\.1:\d+\) answered HTTP 500 \(internal error \(test receiver\)\)/);
    assert.equal(e500.response, "HTTP 500");

    http.mode = "notFound";
    const gone = await failure(sendWithTimeout(notifier("g", { kind: "slack", webhookUrl: http.url("/svc") }), content, 5_000));
    assert.equal(gone.retryable, false);
    assert.match(gone.message, /HTTP 404 \(no_service\) — the URL is wrong or the webhook was removed/);
    assert.ok(!gone.message.includes("/svc"), "the URL's path (Slack's token) is not in the message");
    http.mode = "ok";
  });

  it("a wrong SMTP password is not retried; an unset secret variable names the variable", async () => {
    const wrong = notifier("m", { kind: "email", host: "127.0.0.1", port: smtp.port, user: "alerts@example.com", password: "wrong", from: "sluice@example.com", to: ["a@example.com"] });
    const e = await failure(sendWithTimeout(wrong, content, 10_000));
    assert.equal(e.retryable, false);
    assert.match(e.message, /SMTP server 127\.0\.0\.1:\d+ refused the login .*535.*check alerts\.notifiers\.m\.user and password/);

    const unset = notifier("slack_ops", { kind: "slack", webhookUrlEnv: "SLACK_NOT_SET" }, {});
    const u = await failure(sendWithTimeout(unset, content, 5_000));
    assert.ok(u instanceof NotifierConfigError);
    assert.equal(u.retryable, false);
    assert.match(u.message, /alerts\.notifiers\.slack_ops\.webhookUrlEnv names the environment variable SLACK_NOT_SET, which is not set/);
  });
});
