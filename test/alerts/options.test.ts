/**
 * The settings side of alerts, without a database: the `alerts` options of
 * dag() and of tasks (what they store, what they refuse and how they say
 * so), the config's notifiers as loadConfig reads them from a file and the
 * environment (errors name the key and the fix; secrets are masked by
 * `config show`), who hears about which event (routing), and deadlines by
 * duration and by time of day in the DAG's timezone.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { deadlineOf } from "../../src/alerts/deadline.js";
import { unknownNotifierProblems } from "../../src/alerts/notifierCheck.js";
import { runRoute, taskRoute } from "../../src/alerts/routing.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { describeConfig, loadConfig } from "../../src/config/loadConfig.js";
import { dag, type DagOptions } from "../../src/sdk/dag.js";

const noop = async () => undefined;

function importError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.DagInvalid);
    return err.message;
  }
  assert.fail("expected dag() to throw");
}

const etl = (alerts: unknown, taskAlerts?: unknown) =>
  dag({ id: "etl", alerts } as DagOptions, (d) => {
    const a = d.task("extract", noop);
    d.task("load", noop, { upstream: [a], ...(taskAlerts === undefined ? {} : { alerts: taskAlerts as false }) });
  }).toSpec("etl.ts");

describe("the alerts option of dag() and tasks", () => {
  it("stores what is given, and nothing when it is not (so existing DAGs keep their version)", () => {
    const spec = etl({ notify: ["slack_ops", "oncall", "slack_ops"], onSuccess: true, onRetry: false, deadline: "2h" }, { notify: ["pager"], onRetry: true });
    assert.deepEqual(spec.alerts, { notify: ["slack_ops", "oncall"], onSuccess: true, onRetry: false, deadlineMs: 7_200_000 });
    assert.deepEqual(spec.tasks.find((t) => t.id === "load")?.alerts, { notify: ["pager"], onRetry: true });
    assert.equal(spec.tasks.find((t) => t.id === "extract")?.alerts, undefined, "the DAG's alerts are not copied into each task");
    assert.deepEqual(etl({ deadline: { at: "06:30" } }).alerts, { deadlineAt: "06:30" });
    assert.equal(etl(false).alerts, false);
    assert.equal(etl(undefined, false).tasks.find((t) => t.id === "load")?.alerts, false);
    const plain = etl(undefined);
    assert.ok(!("alerts" in plain));
    assert.ok(plain.tasks.every((t) => !("alerts" in t)));
    assert.notEqual(dagVersionHash(etl({ notify: ["a"] })), dagVersionHash(plain), "alert settings are part of the version");
  });

  it("refuses bad values with the DAG, the key and the fix", () => {
    assert.match(importError(() => etl({ notfy: ["x"] })), /DAG "etl".*alerts: unknown key "notfy" \(it takes notify, onFailure, onRetry, onSuccess, deadline\) — did you mean "notify"\?/);
    assert.match(importError(() => etl({ notify: "slack_ops" })), /alerts\.notify must be a list of notifier names, like \["slack_ops"\]/);
    assert.match(importError(() => etl({ notify: ["has space"] })), /alerts\.notify: "has space" is not a notifier name/);
    assert.match(importError(() => etl({ onSuccess: "yes" })), /alerts\.onSuccess must be true or false, got "yes"/);
    assert.match(importError(() => etl({ deadline: "soon" })), /Invalid alerts\.deadline "soon": expected a positive duration.*Or give a time of day: \{ at: "06:00" \}/);
    assert.match(importError(() => etl({ deadline: { at: "6am" } })), /alerts\.deadline\.at "6am" is not a time of day; write it as "HH:MM"/);
    assert.match(importError(() => etl({ deadline: { at: "24:00" } })), /is not a time of day/);
    assert.match(importError(() => etl(true)), /alerts must be false or an object like/);
    assert.match(importError(() => etl(undefined, { onSuccess: true })), /task "load": alerts: unknown key "onSuccess" \(it takes notify, onFailure, onRetry\): onSuccess is a DAG option, set it in dag\(\{ alerts \}\)\./);
  });

  it("a name that is not configured is reported with the configured ones (the scheduler's check)", () => {
    const spec = etl({ notify: ["slak_ops"] }, { notify: ["pager"] });
    assert.deepEqual(unknownNotifierProblems(spec, ["slack_ops", "pager"]), [
      'DAG "etl" (etl.ts): alerts.notify names "slak_ops", which is not a configured notifier — did you mean "slack_ops"? Configured notifiers: slack_ops, pager (config alerts.notifiers).',
    ]);
    assert.match(unknownNotifierProblems(spec, [])[1], /task "load": alerts\.notify names "pager", which is not a configured notifier\. Configured notifiers: none \(add them under alerts\.notifiers in the config\)/);
    assert.deepEqual(unknownNotifierProblems(spec, ["slak_ops", "pager"]), []);
  });
});

describe("routing: who hears about what", () => {
  const defaults = ["default_ops"];
  it("failures and retries go to the task's notifiers, else the DAG's, else alerts.default", () => {
    const spec = etl({ notify: ["team"] }, { notify: ["pager"] });
    assert.deepEqual(taskRoute(spec, "load", "failure", defaults), { send: true, notify: ["pager"] });
    assert.deepEqual(taskRoute(spec, "extract", "retry", defaults), { send: true, notify: ["team"] });
    assert.deepEqual(taskRoute(etl(undefined), "extract", "failure", defaults), { send: true, notify: defaults });
    assert.deepEqual(taskRoute(undefined, "gone", "failure", defaults), { send: true, notify: defaults }, "a version that is gone: the defaults");
  });
  it("turning events off: onRetry/onFailure, alerts: false on the DAG (unless a task says otherwise) or on a task", () => {
    assert.equal(taskRoute(etl({ onRetry: false }), "load", "retry", defaults).send, false);
    assert.equal(taskRoute(etl({ onRetry: false }, { onRetry: true }), "load", "retry", defaults).send, true);
    assert.equal(taskRoute(etl(false), "extract", "failure", defaults).send, false);
    assert.deepEqual(taskRoute(etl(false, { notify: ["pager"] }), "load", "failure", defaults), { send: true, notify: ["pager"] });
    assert.equal(taskRoute(etl({ notify: ["team"] }, false), "load", "failure", defaults).send, false);
    assert.equal(runRoute(etl(false), "failure", defaults).send, false);
  });
  it("run success only when opted in; a deadline alert only when a deadline is set", () => {
    assert.equal(runRoute(etl(undefined), "success", defaults).send, false);
    assert.deepEqual(runRoute(etl({ onSuccess: true, notify: ["team"] }), "success", defaults), { send: true, notify: ["team"] });
    assert.deepEqual(runRoute(etl(undefined), "failure", defaults), { send: true, notify: defaults });
    assert.equal(runRoute(etl({ onFailure: false }), "failure", defaults).send, false);
    assert.equal(runRoute(etl(undefined), "deadline", defaults).send, false);
    assert.equal(runRoute(etl({ deadline: "1h" }), "deadline", defaults).send, true);
  });
});

describe("deadlines", () => {
  const queued = Date.parse("2026-03-28T22:30:00Z");
  it("a duration after the run was queued", () => {
    assert.deepEqual(deadlineOf({ queued_at: queued }, { deadlineMs: 5_400_000 }, "UTC"), { at: queued + 5_400_000, rule: "1 h 30 min after the run was queued" });
  });
  it("a time of day in the DAG's timezone: the first one after the run was queued, across a DST change", () => {
    // 22:30 UTC on 28 March is 23:30 in Berlin (CET); 06:00 the next morning is after the switch to CEST (UTC+2).
    assert.deepEqual(deadlineOf({ queued_at: queued }, { deadlineAt: "06:00" }, "Europe/Berlin"), { at: Date.parse("2026-03-29T04:00:00Z"), rule: "06:00 Europe/Berlin" });
    // Queued at 05:00 Berlin: the same day's 06:00.
    assert.equal(deadlineOf({ queued_at: Date.parse("2026-03-30T03:00:00Z") }, { deadlineAt: "06:00" }, "Europe/Berlin")?.at, Date.parse("2026-03-30T04:00:00Z"));
    assert.equal(deadlineOf({ queued_at: queued }, { deadlineAt: "06:00" }, "America/New_York")?.at, Date.parse("2026-03-29T10:00:00Z"));
  });
  it("both: whichever comes first; none without a deadline", () => {
    assert.equal(deadlineOf({ queued_at: queued }, { deadlineMs: 3_600_000, deadlineAt: "06:00" }, "UTC")?.at, queued + 3_600_000);
    assert.equal(deadlineOf({ queued_at: queued }, { deadlineMs: 86_400_000, deadlineAt: "06:00" }, "UTC")?.at, Date.parse("2026-03-29T06:00:00Z"));
    assert.equal(deadlineOf({ queued_at: queued }, { notify: ["x"] }, "UTC"), undefined);
    assert.equal(deadlineOf({ queued_at: queued }, false, "UTC"), undefined);
  });
});

describe("alerts in the config", () => {
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  async function load(file: unknown, env: Record<string, string> = {}) {
    const cwd = await mkdtemp(path.join(os.tmpdir(), "sluice-alerts-config-"));
    dirs.push(cwd);
    await writeFile(path.join(cwd, "sluice.config.json"), JSON.stringify(file));
    return loadConfig({ cwd, env });
  }
  async function problems(file: unknown, env: Record<string, string> = {}): Promise<string> {
    try {
      await load(file, env);
    } catch (err) {
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, ErrorCode.ConfigInvalid);
      return err.message;
    }
    assert.fail("expected the config to be refused");
  }

  it("reads notifiers with their defaults; secrets by value or by environment variable name", async () => {
    const { config } = await load({
      api: { publicUrl: "https://sluice.example.com" },
      alerts: {
        default: ["slack_ops"],
        notifiers: {
          slack_ops: { kind: "slack", webhookUrlEnv: "SLACK_OPS_URL" },
          oncall: { kind: "email", host: "smtp.example.com", user: "sluice", passwordEnv: "SMTP_PASSWORD", from: "sluice@example.com", to: ["oncall@example.com"] },
          audit: { kind: "webhook", url: "https://audit.example.com/hook", secret: "hmac-secret" },
        },
        rateLimit: { max: 3 },
      },
    });
    assert.equal(config.api.publicUrl, "https://sluice.example.com");
    assert.deepEqual(config.alerts.notifiers.oncall, { kind: "email", host: "smtp.example.com", port: 587, secure: false, user: "sluice", passwordEnv: "SMTP_PASSWORD", from: "sluice@example.com", to: ["oncall@example.com"] });
    assert.deepEqual(config.alerts.rateLimit, { windowMs: 3_600_000, max: 3 });
    assert.equal(config.alerts.retry.maxAttempts, 6);
    assert.equal(config.alerts.enabled, true);
  });

  it("reports each problem at its key, with the fix", async () => {
    const msg = await problems({
      alerts: {
        default: ["slak_ops"],
        notifiers: {
          slack_ops: { kind: "slack" },
          both: { kind: "slack", webhookUrl: "https://hooks.slack.com/services/x", webhookUrlEnv: "X" },
          mail: { kind: "email", host: "smtp", from: "a@b.c", to: [], pasword: "x" },
          hook: { kind: "webhok", url: "https://x" },
          "bad name": { kind: "webhook", url: "ftp://x" },
        },
      },
    });
    assert.match(msg, /alerts\.notifiers\.slack_ops\.webhookUrl: missing: set webhookUrl \(the Slack incoming webhook URL\) or webhookUrlEnv/);
    assert.match(msg, /alerts\.notifiers\.both\.webhookUrl: set webhookUrl or webhookUrlEnv, not both/);
    assert.match(msg, /alerts\.notifiers\.mail\.pasword: unknown key \(an email notifier takes kind, host, port, secure, user, password, passwordEnv, from, to\) — did you mean "password"\?/);
    assert.match(msg, /alerts\.notifiers\.mail\.to: list at least one address/);
    assert.match(msg, /alerts\.notifiers\.hook\.kind: kind must be one of "slack", "email", "webhook"; got "webhok" — did you mean "webhook"\?/);
    assert.match(msg, /alerts\.notifiers\.bad name: a notifier name is 1-100 letters/);
    // Checked once the notifiers themselves are valid.
    const defaults = await problems({ alerts: { default: ["slak_ops"], notifiers: { slack_ops: { kind: "slack", webhookUrlEnv: "SLACK_URL" } } } });
    assert.match(defaults, /alerts\.default\.0: "slak_ops" is not a configured notifier — did you mean "slack_ops"\? \(configured: slack_ops\)/);
    const url = await problems({ alerts: { notifiers: { w: { kind: "webhook", url: "ftp://example.com" } } } });
    assert.match(url, /alerts\.notifiers\.w\.url: expected an http\(s\) URL/);
  });

  it("takes notifiers as JSON and the default list from the environment", async () => {
    const { config } = await load({}, { SLUICE_ALERTS__NOTIFIERS: JSON.stringify({ ops: { kind: "webhook", url: "https://ops.example.com/hook" } }), SLUICE_ALERTS__DEFAULT: "ops" });
    assert.deepEqual(config.alerts.default, ["ops"]);
    assert.equal(config.alerts.notifiers.ops.kind, "webhook");
    assert.match(await problems({}, { SLUICE_ALERTS__NOTIFIERS: "{nope" }), /alerts\.notifiers: not valid JSON/);
  });

  it("`config show` masks the Slack URL, passwords and signing secrets", async () => {
    const { config } = await load({
      alerts: {
        notifiers: {
          slack_ops: { kind: "slack", webhookUrl: "https://hooks.slack.com/services/T000/B000/SECRETTOKEN" },
          mail: { kind: "email", host: "smtp.example.com", user: "u", password: "smtp-pass-123", from: "a@b.c", to: ["x@y.z"] },
          audit: { kind: "webhook", url: "https://audit.example.com/hook", secret: "hmac-secret-456" },
        },
      },
    });
    const shown = JSON.stringify(describeConfig(config));
    for (const secret of ["SECRETTOKEN", "smtp-pass-123", "hmac-secret-456"]) assert.ok(!shown.includes(secret), `${secret} is shown`);
    assert.ok(shown.includes("https://audit.example.com/hook"), "a webhook URL is no secret");
  });
});
