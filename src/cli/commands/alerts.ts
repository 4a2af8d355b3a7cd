/**
 * `sluice alerts test <notifier>`: send a test message through one configured
 * notifier, now, without the outbox: exit 0 when it was accepted, 1 when the
 * send failed (the error says why), 2 when the notifier is not configured or
 * its config cannot be used.
 * `sluice alerts list`: the latest alerts with their deliveries.
 */
import type { Command } from "commander";
import { testContent, uiBase } from "../../alerts/content.js";
import { ALERT_KINDS, isAlertKind } from "../../alerts/kinds.js";
import { DeliveryError, NotifierConfigError } from "../../alerts/notifier.js";
import { createNotifiers, notifierNamed, sendWithTimeout } from "../../alerts/notifiers.js";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { ALERT_STATES } from "../../store/alertQueries.js";
import { globals, resolveConfig, withStore } from "../context.js";
import { iso, print, table } from "../format.js";

async function testNotifier(name: string, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const config = await resolveConfig(g);
  const notifier = notifierNamed(createNotifiers(config.alerts.notifiers, process.env), name);
  const t0 = performance.now();
  try {
    const response = await sendWithTimeout(notifier, testContent(name, uiBase(config.api), Date.now()), config.alerts.timeoutMs);
    const ms = Math.round(performance.now() - t0);
    print(!!g.json, { notifier: name, kind: notifier.kind, ok: true, response, ms }, () => `Sent a test alert through "${name}" (${notifier.kind}) in ${ms} ms: ${response}`);
  } catch (err) {
    if (err instanceof NotifierConfigError) throw new SluiceError(ErrorCode.ConfigInvalid, `Notifier "${name}" (${notifier.kind}) cannot be used: ${err.message}`, { cause: err });
    const message = err instanceof DeliveryError ? err.message : (err as Error)?.message ?? String(err);
    const retry = err instanceof DeliveryError && err.retryable ? " (a temporary problem: alerts would be retried with backoff)" : "";
    if (g.json) print(true, { notifier: name, kind: notifier.kind, ok: false, error: message }, () => "");
    else process.stderr.write(`sluice: the test alert through "${name}" (${notifier.kind}) failed: ${message}${retry}\n`);
    process.exitCode = 1;
  }
}

interface ListOptions {
  dag?: string;
  kind?: string;
  state?: string;
  limit: string;
}

async function listAlerts(opts: ListOptions, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const kinds = opts.kind?.split(",").filter(Boolean);
  for (const k of kinds ?? []) if (!isAlertKind(k)) throw new SluiceError(ErrorCode.Usage, `--kind "${k}" is not an alert kind; use ${ALERT_KINDS.join(", ")}.`);
  const states = opts.state?.split(",").filter(Boolean);
  for (const s of states ?? []) if (!(ALERT_STATES as readonly string[]).includes(s)) throw new SluiceError(ErrorCode.Usage, `--state "${s}" is not an alert state; use ${ALERT_STATES.join(", ")}.`);
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new SluiceError(ErrorCode.Usage, `--limit "${opts.limit}" must be a whole number from 1 to 1000.`);
  await withStore(g, async (store) => {
    const { rows, total } = await store.alerts.list({ dagId: opts.dag, kinds, states, limit, offset: 0 });
    const deliveries = await store.alerts.deliveriesOf(rows.map((r) => r.id));
    const of = (id: number) => deliveries.filter((d) => d.alert_id === id);
    const data = rows.map((a) => ({
      id: a.id,
      createdAt: new Date(a.created_at).toISOString(),
      kind: a.kind,
      state: a.state,
      title: a.title,
      dagId: a.dag_id,
      taskId: a.task_id,
      runId: a.run_id,
      tryNumber: a.try_number,
      suppressedCount: a.suppressed_count,
      message: a.message,
      deliveries: of(a.id).map((d) => ({ notifier: d.notifier, state: d.state, attempts: d.attempts, lastError: d.last_error, deliveredAt: d.delivered_at === null ? null : new Date(d.delivered_at).toISOString() })),
    }));
    print(!!g.json, { alerts: data, total }, () => {
      const t = table(
        rows.map((a) => ({
          time: iso(a.created_at),
          kind: a.kind,
          state: a.state,
          title: a.title,
          deliveries: of(a.id)
            .map((d) => `${d.notifier}:${d.state}${d.attempts > 1 ? `(${d.attempts} attempts)` : ""}`)
            .join(" "),
          suppressed: a.suppressed_count || "",
        })),
      );
      const failed = deliveries.filter((d) => d.state === "failed" && d.last_error);
      const errors = failed.length ? `\n\nFailed deliveries:\n${failed.map((d) => `  #${d.alert_id} ${d.notifier}: ${d.last_error}`).join("\n")}` : "";
      return `${t}${total > rows.length ? `\n(${rows.length} of ${total}; --limit for more)` : ""}${errors}`;
    });
  });
}

export function registerAlerts(program: Command): void {
  const alerts = program
    .command("alerts")
    .description("Failure alerts: send a test through a notifier, list recent alerts")
    .addHelpText("after", "\nExample:\n  $ sluice alerts test slack_ops");
  alerts
    .command("test <notifier>")
    .description("Send a test message through a configured notifier (alerts.notifiers); exit 0 if it was accepted, 1 if not")
    .addHelpText("after", "\nExample:\n  $ SLACK_OPS_URL=https://hooks.slack.com/services/… sluice alerts test slack_ops")
    .action((name: string, _o: unknown, cmd: Command) => testNotifier(name, cmd));
  alerts
    .command("list")
    .description("List recent alerts, newest first, with their deliveries per notifier")
    .option("--dag <dagId>", "only this DAG's alerts")
    .option("--kind <kinds>", `only these kinds, comma-separated (${ALERT_KINDS.join(", ")})`)
    .option("--state <states>", `only these states, comma-separated (${ALERT_STATES.join(", ")})`)
    .option("--limit <n>", "at most this many", "20")
    .addHelpText("after", "\nExample:\n  $ sluice alerts list --dag etl --state failed --json")
    .action((opts: ListOptions, cmd: Command) => listAlerts(opts, cmd));
}
