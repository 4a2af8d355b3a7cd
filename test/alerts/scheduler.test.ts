/**
 * Alerts through the real system, on SQLite and PostgreSQL: createSluice
 * (the scheduler, its local executor running real task processes, the DAG
 * parser) over real DAG files, with the alert monitor and dispatcher it
 * starts, delivering to a webhook and a Slack-like endpoint on 127.0.0.1 and
 * a real SMTP server.
 *
 * - a task that fails, is retried and fails again: "up for retry", then
 *   "failed", then "run failed", each to the DAG's notifiers;
 * - a run's success is alerted only when the DAG opts in;
 * - a run still running past its deadline is alerted while it runs;
 * - a DAG file that does not import, and one that names an unknown notifier,
 *   are import errors and alerts;
 * - `alerts: false` on a DAG silences it, a task's own notify list wins;
 * - a flapping task is rate-limited and the surplus recorded as suppressed;
 * - while every notifier is down (refusing, hanging, answering 500) the
 *   scheduler keeps running runs to the end; deliveries are retried with
 *   backoff and recorded, and go out once the notifier is back.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import { triggerRun } from "../../src/runs/createRun.js";
import type { AlertRow } from "../../src/store/alertQueries.js";
import type { Store } from "../../src/store/store.js";
import { waitFor } from "../e2e/helpers.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { HttpReceiver, refusedUrl, SmtpReceiver } from "./receivers.js";

const WEBHOOK_SECRET = "e2e-webhook-signing-secret";
const SMTP_LOGIN = { user: "sluice@example.com", password: "smtp-e2e-password" };

const header = 'import { dag } from "sluice";\n';
const failing = (message: string) => `async () => { throw new Error(${JSON.stringify(message)}); }`;

function dagFiles(marker: string): Record<string, string> {
  return {
    "always_fails.ts": `${header}export default dag({ id: "always_fails", schedule: null, retries: 1, retryDelay: 0, alerts: { notify: ["hook", "slack", "mail"] } }, (d) => {
  const extract = d.task("extract", async () => 1);
  d.task("load", ${failing("warehouse refused the load: disk full on node-7")}, { upstream: [extract] });
});
`,
    "ok_loud.ts": `${header}export default dag({ id: "ok_loud", schedule: null, alerts: { onSuccess: true } }, (d) => { d.task("work", async () => "done"); });\n`,
    "ok_quiet.ts": `${header}export default dag({ id: "ok_quiet", schedule: null }, (d) => { d.task("work", async () => "done"); });\n`,
    "slow.ts": `${header}import { existsSync } from "node:fs";
export default dag({ id: "slow", schedule: null, alerts: { deadline: "1s" } }, (d) => {
  // Runs until the test has seen the deadline alert, so the alert is known to come while the run is running.
  d.task("wait_for_signal", async () => { while (!existsSync(${JSON.stringify(marker)})) await new Promise((r) => setTimeout(r, 50)); return "done"; });
});
`,
    "broken.ts": `${header}export default dag({ id: "broken", schedule: null }, (d) => { d.task("a", async () => 1, { upstream: ["no_such_task"] }); });\n`,
    "typo.ts": `${header}export default dag({ id: "typo", schedule: null, alerts: { notify: ["slak"] } }, (d) => { d.task("a", async () => 1); });\n`,
    "muted.ts": `${header}export default dag({ id: "muted", schedule: null, alerts: false }, (d) => {
  d.task("quiet", ${failing("nobody hears this")});
  d.task("paged", ${failing("the pager hears this")}, { alerts: { notify: ["slack"] } });
});
`,
    "flappy.ts": `${header}export default dag({ id: "flappy", schedule: null }, (d) => { d.task("call_api", ${failing("HTTP 503 from upstream")}); });\n`,
  };
}

async function baseConfig(root: string, dialect: (typeof DIALECTS)[number], label: string, files: Record<string, string>): Promise<SluiceConfig> {
  const dags = join(root, `dags-${label}`);
  mkdirSync(dags, { recursive: true });
  writeFileSync(join(dags, "package.json"), JSON.stringify({ type: "module" }));
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dags, name), source);
  const config = defaultConfig();
  config.home = join(root, `home-${label}`);
  config.dagsFolder = dags;
  config.db.url = targetUrl(await freshTarget(dialect, label));
  config.executor.slots = 2;
  config.scheduler.loopIntervalMs = 100;
  config.api.publicUrl = "https://sluice.example.com/";
  config.alerts = { ...config.alerts, pollIntervalMs: 100, timeoutMs: 1_000, retry: { maxAttempts: 1_000, initialDelayMs: 50, maxDelayMs: 200 } };
  return config;
}

async function alertsOf(store: Store, f: { dagId?: string; kinds?: string[] } = {}): Promise<AlertRow[]> {
  return (await store.alerts.list({ ...f, limit: 1000, offset: 0 })).rows.reverse();
}

/** Wait until the monitor has polled after this moment: whatever was visible then has been looked at. */
async function monitorPassed(store: Store): Promise<void> {
  const t = Date.now();
  await waitFor("the alert monitor to poll again", async () => ((await store.alerts.cursor("monitor")) ?? 0) > t, { timeoutMs: 20_000 });
}

async function runToEnd(sluice: Sluice, dagId: string, runId: string): Promise<string> {
  const run = await triggerRun(sluice.store, dagId, { runId });
  sluice.scheduler.wake();
  return waitFor(`run ${dagId}/${runId} to finish`, async () => {
    const r = await sluice.store.runs.byPk(run.id);
    return r && (r.state === "success" || r.state === "failed") ? r.state : undefined;
  }, { timeoutMs: 60_000 });
}

for (const dialect of DIALECTS) {
  describe(`alerts from the real scheduler on ${dialect}`, () => {
    let root: string;
    let http: HttpReceiver;
    let smtp: SmtpReceiver;
    let sluice: Sluice | undefined;
    let marker: string;

    before(async () => {
      root = mkdtempSync(join(tmpdir(), "sluice-alerts-e2e-"));
      marker = join(root, "deadline-seen");
      http = await HttpReceiver.start();
      smtp = await SmtpReceiver.start(SMTP_LOGIN);
      const config = await baseConfig(root, dialect, `alerts_e2e_${dialect}`, dagFiles(marker));
      config.alerts.default = ["hook"];
      config.alerts.notifiers = {
        hook: { kind: "webhook", url: http.url("/hook"), secret: WEBHOOK_SECRET },
        slack: { kind: "slack", webhookUrl: http.url("/slack/T0/B0/token") },
        mail: { kind: "email", host: "127.0.0.1", port: smtp.port, secure: false, user: SMTP_LOGIN.user, password: SMTP_LOGIN.password, from: "sluice@example.com", to: ["oncall@example.com"] },
      };
      config.alerts.rateLimit = { windowMs: 3_600_000, max: 2 };
      sluice = await createSluice(config, pino({ level: "silent" }));
      await sluice.start();
    });
    after(async () => {
      await sluice?.stop(5_000);
      await http?.close();
      await smtp?.close();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it("a DAG file that does not import is an import error alert, to alerts.default", async () => {
      const store = sluice!.store;
      const alert = await waitFor("the import error alert of broken.ts", async () => (await alertsOf(store, { kinds: ["import_error"] })).find((a) => a.title.includes("broken.ts")));
      assert.match(alert.message, /task "a" depends on "no_such_task", which does not exist/);
      const req = await waitFor("the webhook to get it", () => http.to("/hook").find((r) => r.json.kind === "import_error" && r.json.fields.File === "broken.ts"));
      assert.equal(req.json.url, "https://sluice.example.com/?importErrors=1");
    });

    it("a DAG naming an unknown notifier is an import error that names the configured notifiers", async () => {
      const store = sluice!.store;
      const err = await waitFor("typo.ts's import error", async () => (await store.dags.importErrors()).find((e) => e.path === "typo.ts"));
      assert.match(err.message, /DAG "typo" \(typo\.ts\): alerts\.notify names "slak", which is not a configured notifier — did you mean "slack"\? Configured notifiers: hook, slack, mail/);
      const alert = await waitFor("its alert", async () => (await alertsOf(store, { kinds: ["import_error"] })).find((a) => a.title.includes("typo.ts")));
      assert.match(alert.message, /"slak"/);
    });

    it("a task that fails, is retried and fails again: up for retry, then failed, then run failed, to the DAG's notifiers", async () => {
      const store = sluice!.store;
      assert.equal(await runToEnd(sluice!, "always_fails", "r1"), "failed");
      const alerts = await waitFor("three alerts", async () => {
        const list = await alertsOf(store, { dagId: "always_fails" });
        return list.length >= 3 ? list : undefined;
      });
      // (Sorted: the monitor may record the run's failure in the same poll as the task's, or first when they commit between its reads.)
      assert.deepEqual(
        alerts.map((a) => [a.kind, a.task_id, a.try_number]).sort(),
        [
          ["run_failed", null, null],
          ["task_failed", "load", 2],
          ["task_retry", "load", 1],
        ],
      );
      assert.ok(alerts.findIndex((a) => a.kind === "task_retry") < alerts.findIndex((a) => a.kind === "task_failed"), "the retry is recorded before the final failure");
      for (const a of alerts.filter((x) => x.task_id === "load")) assert.match(a.message, /warehouse refused the load: disk full on node-7/);
      await waitFor("every delivery to go out", async () => (await store.alerts.deliveriesOf(alerts.map((a) => a.id))).every((d) => d.state === "delivered"));
      const deliveries = await store.alerts.deliveriesOf(alerts.map((a) => a.id));
      assert.deepEqual([...new Set(deliveries.map((d) => d.notifier))].sort(), ["hook", "mail", "slack"]);

      // The webhook: signed, and the signature verifies over the bytes received. (Deliveries go out in parallel: found by kind.)
      const hooked = new Map(http.to("/hook").filter((r) => r.json.dagId === "always_fails").map((r) => [r.json.kind as string, r]));
      assert.deepEqual([...hooked.keys()].sort(), ["run_failed", "task_failed", "task_retry"]);
      for (const r of hooked.values()) assert.equal(r.headers["x-sluice-signature-256"], `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(r.raw).digest("hex")}`);
      assert.equal(hooked.get("task_failed")!.json.url, "https://sluice.example.com/dags/always_fails/grid?run=r1&task=load");
      assert.deepEqual(hooked.get("run_failed")!.json.details.failedTasks, ["load"]);

      // Slack: readable, with the try and the link.
      const slack = http.to("/slack/T0/B0/token").map((r) => JSON.stringify(r.json));
      assert.equal(slack.length, 3);
      const retry = slack.find((m) => m.includes("Task up for retry: always_fails.load"));
      assert.ok(retry?.includes("*Try*\\n1 of 2"), retry);
      const final = slack.find((m) => m.includes("Task failed: always_fails.load"));
      assert.ok(final?.includes("*Try*\\n2 of 2") && final.includes("disk full on node-7"), final);
      assert.ok(final!.includes("<https://sluice.example.com/dags/always_fails/grid?run=r1&task=load|View the task's logs>"), final);

      // Email through the real SMTP server.
      const mail = smtp.messages.find((m) => m.subject === "[Sluice] Task failed: always_fails.load (try 2 of 2)");
      assert.ok(mail, `subjects: ${smtp.messages.map((m) => m.subject).join(" | ")}`);
      assert.match(mail.text, /DAG: always_fails/);
      assert.match(mail.text, /Task: load/);
      assert.match(mail.text, /Run: r1/);
      assert.match(mail.text, /disk full on node-7/);
      assert.ok(mail.text.includes("View the task's logs: https://sluice.example.com/dags/always_fails/grid?run=r1&task=load"), mail.text);
      assert.match(mail.html, /disk full on node-7/);
      assert.ok(smtp.messages.some((m) => m.subject === "[Sluice] Task up for retry: always_fails.load (try 1 of 2)"));
      assert.ok(smtp.messages.some((m) => m.subject === "[Sluice] DAG run failed: always_fails (r1)"));
    });

    it("a run's success is alerted only when the DAG opts in", async () => {
      const store = sluice!.store;
      assert.equal(await runToEnd(sluice!, "ok_loud", "ok1"), "success");
      assert.equal(await runToEnd(sluice!, "ok_quiet", "ok1"), "success");
      const loud = await waitFor("ok_loud's success alert", async () => (await alertsOf(store, { dagId: "ok_loud" }))[0]);
      assert.equal(loud.kind, "run_succeeded");
      assert.equal(loud.title, "DAG run succeeded: ok_loud (ok1)");
      await monitorPassed(store);
      assert.deepEqual(await alertsOf(store, { dagId: "ok_quiet" }), [], "no alert for a DAG that did not opt in");
    });

    it("a run still running past its deadline is alerted while it runs", async () => {
      const store = sluice!.store;
      const run = await triggerRun(store, "slow", { runId: "late" });
      sluice!.scheduler.wake();
      const alert = await waitFor("the deadline alert", async () => (await alertsOf(store, { dagId: "slow", kinds: ["deadline_missed"] }))[0], { timeoutMs: 30_000 });
      const details = JSON.parse(alert.details) as { runState: string; finishedAt: number | null; rule: string; deadlineAt: number };
      assert.equal(details.finishedAt, null, "seen while the run had not finished");
      assert.equal(details.rule, "1 s after the run was queued");
      assert.equal(details.deadlineAt, Number(run.queued_at) + 1_000);
      assert.equal((await store.runs.byPk(run.id))?.state, "running", "the run is still running: its task waits for the test");
      writeFileSync(marker, "seen");
      await waitFor("the run to finish", async () => (await store.runs.byPk(run.id))?.state === "success", { timeoutMs: 30_000 });
      await monitorPassed(store);
      assert.equal((await alertsOf(store, { dagId: "slow" })).length, 1, "one deadline alert per run");
    });

    it("alerts: false silences a DAG; a task's own notify list still pages", async () => {
      const store = sluice!.store;
      assert.equal(await runToEnd(sluice!, "muted", "m1"), "failed");
      const paged = await waitFor("the paged task's alert", async () => (await alertsOf(store, { dagId: "muted" })).find((a) => a.task_id === "paged"));
      await monitorPassed(store);
      const all = await alertsOf(store, { dagId: "muted" });
      assert.deepEqual(all.map((a) => [a.kind, a.task_id]), [["task_failed", "paged"]], "nothing for the quiet task or the run");
      assert.deepEqual((await store.alerts.deliveriesOf([paged.id])).map((d) => d.notifier), ["slack"]);
    });

    it("a flapping task is rate-limited: two alerts sent, the rest recorded as suppressed", async () => {
      const store = sluice!.store;
      for (let i = 1; i <= 5; i++) assert.equal(await runToEnd(sluice!, "flappy", `f${i}`), "failed");
      await monitorPassed(store);
      const failures = await alertsOf(store, { dagId: "flappy", kinds: ["task_failed"] });
      assert.equal(failures.length, 5, "every failure is recorded");
      assert.deepEqual(failures.map((a) => a.state === "suppressed"), [false, false, true, true, true]);
      const runFailures = await alertsOf(store, { dagId: "flappy", kinds: ["run_failed"] });
      assert.deepEqual(runFailures.map((a) => a.state === "suppressed"), [false, false, true, true, true], "run failures are their own group");
      await waitFor("the two sent to reach the webhook", () => http.to("/hook").filter((r) => r.json.dagId === "flappy" && r.json.kind === "task_failed").length === 2);
      await monitorPassed(store);
      assert.equal(http.to("/hook").filter((r) => r.json.dagId === "flappy" && r.json.kind === "task_failed").length, 2, "and no more");
    });
  });

  describe(`a notifier that is down does not hold up the scheduler on ${dialect}`, () => {
    let root: string;
    let http: HttpReceiver;
    let hanging: HttpReceiver;
    let sluice: Sluice | undefined;

    before(async () => {
      root = mkdtempSync(join(tmpdir(), "sluice-alerts-down-"));
      http = await HttpReceiver.start();
      const config = await baseConfig(root, dialect, `alerts_down_${dialect}`, {
        "failing.ts": `${header}export default dag({ id: "failing", schedule: null }, (d) => { d.task("step", ${failing("step failed")}); });\n`,
      });
      hanging = await HttpReceiver.start();
      hanging.mode = "hang";
      config.alerts.default = ["refused", "hanging", "broken"];
      config.alerts.notifiers = {
        refused: { kind: "webhook", url: await refusedUrl() },
        hanging: { kind: "slack", webhookUrl: hanging.url("/slack") },
        broken: { kind: "webhook", url: http.url("/broken") },
      };
      config.alerts.timeoutMs = 300;
      http.mode = "error500";
      sluice = await createSluice(config, pino({ level: "silent" }));
      await sluice.start();
    });
    after(async () => {
      await sluice?.stop(5_000);
      await http?.close();
      await hanging?.close();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it("runs finish while every notifier refuses, hangs or answers 500; attempts are retried with backoff and recorded", async () => {
      const store = sluice!.store;
      const states: string[] = [];
      for (let i = 1; i <= 6; i++) states.push(await runToEnd(sluice!, "failing", `down${i}`));
      assert.deepEqual(states, Array(6).fill("failed"), "every run ran to its end");
      const first = await waitFor("two recorded attempts of each of the first failure's deliveries", async () => {
        const [a] = await alertsOf(store, { dagId: "failing", kinds: ["task_failed"] });
        if (!a) return undefined;
        const ds = await store.alerts.deliveriesOf([a.id]);
        const recorded = await store.alerts.attemptsOf(ds.map((d) => d.id));
        return ds.length === 3 && ds.every((d) => recorded.filter((t) => t.delivery_id === d.id).length >= 2) ? { a, ds } : undefined;
      }, { timeoutMs: 30_000 });
      // While the notifiers were down nothing was delivered, and the runs above finished regardless.
      assert.ok(first.ds.every((d) => d.state !== "delivered"));
      const byName = Object.fromEntries(first.ds.map((d) => [d.notifier, d]));
      const attempts = await store.alerts.attemptsOf([byName.refused.id, byName.hanging.id, byName.broken.id]);
      const errorsOf = (id: number) => attempts.filter((t) => t.delivery_id === id).map((t) => t.error ?? "");
      assert.match(errorsOf(byName.refused.id)[0], /the connection was refused/);
      assert.match(errorsOf(byName.hanging.id)[0], /did not (answer|finish) within 300 ms/);
      assert.match(errorsOf(byName.broken.id)[0], /answered HTTP 500/);
      for (const d of first.ds) {
        const mine = attempts.filter((t) => t.delivery_id === d.id);
        assert.ok(mine.length >= 2 && mine.every((t) => t.ok === 0), `${d.notifier}: ${mine.length} failed attempts recorded`);
        // Exponential backoff: each wait at least the configured initial delay.
        for (let i = 1; i < mine.length; i++) assert.ok(mine[i].started_at - mine[i - 1].started_at >= 50, `${d.notifier} attempts ${i} and ${i + 1}`);
      }

      // The 500 server recovers: the next retry of its deliveries goes through.
      http.mode = "ok";
      await waitFor("the recovered notifier's deliveries", async () => {
        const ds = await store.alerts.deliveriesOf((await alertsOf(store, { dagId: "failing", kinds: ["task_failed"] })).map((a) => a.id));
        return ds.filter((d) => d.notifier === "broken").every((d) => d.state === "delivered");
      }, { timeoutMs: 30_000 });
      assert.ok(http.to("/broken").some((r) => r.json.kind === "task_failed"));
    });
  });
}
