/**
 * `sluice alerts test <notifier>` and `sluice alerts list`, run the way a
 * user runs them (`node bin/sluice.js` subprocesses, a config file in the
 * project) against a Slack-like endpoint, a webhook and a real SMTP server
 * on 127.0.0.1: exit 0 and what was answered when the message went out, 1
 * and why when it did not, 2 with the fix when the notifier is unknown or
 * its config cannot be used.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { enqueueAlert } from "../../src/alerts/enqueue.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { openSluiceStore } from "../../src/app/createSluice.js";
import { json, killLeftovers, makeProject, runSluice, show, sluiceEnv, type Project } from "../e2e/helpers.js";
import { HttpReceiver, SmtpReceiver } from "./receivers.js";

describe("sluice alerts (CLI)", () => {
  let http: HttpReceiver;
  let failing: HttpReceiver;
  let smtp: SmtpReceiver;
  let project: Project;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    http = await HttpReceiver.start();
    failing = await HttpReceiver.start();
    failing.mode = "error500";
    smtp = await SmtpReceiver.start({ user: "sluice", password: "mail-pass" });
    project = makeProject();
    writeFileSync(
      join(project.dir, "sluice.config.json"),
      JSON.stringify({
        api: { publicUrl: "https://sluice.example.com" },
        alerts: {
          default: ["slack_ops"],
          notifiers: {
            slack_ops: { kind: "slack", webhookUrlEnv: "SLACK_OPS_URL" },
            mail: { kind: "email", host: "127.0.0.1", port: smtp.port, user: "sluice", passwordEnv: "SMTP_PASSWORD", from: "sluice@example.com", to: ["oncall@example.com"] },
            hook: { kind: "webhook", url: failing.url("/hook") },
            unset: { kind: "slack", webhookUrlEnv: "NOT_SET_ANYWHERE" },
          },
        },
      }),
    );
    env = sluiceEnv({ home: project.home, extra: { SLACK_OPS_URL: http.url("/services/T1/B1/abc"), SMTP_PASSWORD: "mail-pass" } });
  });
  after(async () => {
    await http?.close();
    await failing?.close();
    await smtp?.close();
    assert.deepEqual(await killLeftovers(), [], "no process left running");
  });

  const sluice = (args: string[], e = env) => runSluice(args, e, { cwd: project.dir });

  it("sends a test message through Slack (URL from an environment variable) and exits 0", async () => {
    const r = await sluice(["alerts", "test", "slack_ops"]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Sent a test alert through "slack_ops" \(slack\) in \d+ ms: HTTP 200 ok/);
    const [req] = http.to("/services/T1/B1/abc");
    assert.match(JSON.stringify(req.json), /Test alert from Sluice \(notifier \\"slack_ops\\"\)/);
    assert.match(JSON.stringify(req.json), /https:\/\/sluice\.example\.com\/alerts\|Open Sluice/);
  });

  it("sends a test email through a real SMTP server; --json answers what the server said", async () => {
    const r = await sluice(["alerts", "test", "mail", "--json"]);
    assert.equal(r.code, 0, show(r));
    const out = json(r);
    assert.equal(out.ok, true);
    assert.equal(out.kind, "email");
    assert.match(out.response, /^250/);
    assert.equal(smtp.messages.at(-1)?.subject, '[Sluice] Test alert from Sluice (notifier "mail")');
    assert.deepEqual(smtp.messages.at(-1)?.to, ["oncall@example.com"]);
  });

  it("exits 1 with the reason when the endpoint refuses the message", async () => {
    const r = await sluice(["alerts", "test", "hook"]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /the test alert through "hook" \(webhook\) failed: the webhook at 127\.0\.0\.1:\d+ answered HTTP 500 \(internal error \(test receiver\)\) \(a temporary problem: alerts would be retried with backoff\)/);
    const j = await sluice(["alerts", "test", "hook", "--json"]);
    assert.equal(j.code, 1);
    assert.equal(json(j).ok, false);
    assert.match(json(j).error, /HTTP 500/);
  });

  it("exits 2 naming the configured notifiers when the name is unknown, and naming the variable when a secret is unset", async () => {
    const unknown = await sluice(["alerts", "test", "slak_ops"]);
    assert.equal(unknown.code, 2, show(unknown));
    assert.match(unknown.stderr, /No notifier "slak_ops" in the config — did you mean "slack_ops"\? Configured notifiers: slack_ops, mail, hook, unset\./);
    const unset = await sluice(["alerts", "test", "unset"]);
    assert.equal(unset.code, 2, show(unset));
    assert.match(unset.stderr, /Notifier "unset" \(slack\) cannot be used: alerts\.notifiers\.unset\.webhookUrlEnv names the environment variable NOT_SET_ANYWHERE, which is not set/);
  });

  it("exits 2 with the key and the fix when a notifier is misconfigured (a Slack notifier without a URL)", async () => {
    const bad = makeProject();
    writeFileSync(join(bad.dir, "sluice.config.json"), JSON.stringify({ alerts: { notifiers: { slack_ops: { kind: "slack" } } } }));
    const r = await runSluice(["alerts", "test", "slack_ops"], sluiceEnv({ home: bad.home }), { cwd: bad.dir });
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /alerts\.notifiers\.slack_ops\.webhookUrl: missing: set webhookUrl \(the Slack incoming webhook URL\) or webhookUrlEnv/);
  });

  it("lists recent alerts with their deliveries (--json, and a table)", async () => {
    // Alerts recorded in the project's database, as a scheduler would.
    const { config } = await loadConfig({ cwd: project.dir, env: { SLUICE_HOME: project.home } });
    const store = await openSluiceStore(config);
    try {
      await enqueueAlert(store, config.alerts, { kind: "task_failed", dedupeKey: "task_failed:1:1", title: "Task failed: etl.load", message: "disk full", dagId: "etl", taskId: "load", runId: "r1", tryNumber: 1 });
      await enqueueAlert(store, config.alerts, { kind: "import_error", dedupeKey: "import_error:x.ts:1", title: "DAG import error: x.ts", message: "SyntaxError", notify: ["nobody"] });
    } finally {
      await store.close();
    }
    const r = await sluice(["alerts", "list", "--json"]);
    assert.equal(r.code, 0, show(r));
    const out = json<{ alerts: any[]; total: number }>(r);
    assert.equal(out.total, 2);
    assert.deepEqual(out.alerts.map((a) => a.kind), ["import_error", "task_failed"]);
    assert.deepEqual(out.alerts[1].deliveries.map((d: any) => [d.notifier, d.state]), [["slack_ops", "pending"]]);
    assert.match(out.alerts[0].deliveries[0].lastError, /notifier "nobody" is not configured/);
    const human = await sluice(["alerts", "list", "--kind", "task_failed"]);
    assert.equal(human.code, 0, show(human));
    assert.match(human.stdout, /Task failed: etl\.load\s+slack_ops:pending/);
    assert.doesNotMatch(human.stdout, /import error/);
    const bad = await sluice(["alerts", "list", "--kind", "nope"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--kind "nope" is not an alert kind; use task_failed, task_retry/);
  });
});
