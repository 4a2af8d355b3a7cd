/**
 * Slack through an incoming webhook (https://api.slack.com/messaging/webhooks):
 * one POST of Block Kit JSON. `text` is the fallback shown in notifications;
 * the blocks carry the title, the fields, the error excerpt in a code block
 * and the link to the task's logs. Slack answers 200 "ok"; 404/410 mean the
 * webhook was removed (no retry), 429 and 5xx are retried.
 */
import { excerpt, suppressedNote, type AlertContent } from "./content.js";
import { hostOf, httpError, networkError, type Notifier, type SendOptions } from "./notifier.js";
import type { SlackNotifierConfig } from "./notifierConfig.js";
import { resolveSecret, type Env } from "./secrets.js";

/** Slack's mrkdwn: only &, < and > are special (they would start a link or an entity). */
function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const ICON: Record<AlertContent["kind"], string> = {
  task_failed: ":red_circle:",
  task_retry: ":large_orange_circle:",
  run_failed: ":red_circle:",
  run_succeeded: ":large_green_circle:",
  deadline_missed: ":alarm_clock:",
  import_error: ":warning:",
  git_sync_failed: ":warning:",
  test: ":white_check_mark:",
};

/** The webhook's JSON body. Limits: header text 150 characters, a section 3,000, ten fields. */
export function slackPayload(c: AlertContent): Record<string, unknown> {
  const blocks: Record<string, unknown>[] = [{ type: "header", text: { type: "plain_text", text: c.title.slice(0, 150), emoji: true } }];
  if (c.fields.length) {
    blocks.push({ type: "section", fields: c.fields.slice(0, 10).map((f) => ({ type: "mrkdwn", text: `*${esc(f.label)}*\n${esc(f.value).slice(0, 1900)}` })) });
  }
  // Three backticks inside the excerpt would end the code block early.
  if (c.error) blocks.push({ type: "section", text: { type: "mrkdwn", text: `\`\`\`${esc(excerpt(c.error, 2_500)).replace(/```/g, "ˋˋˋ")}\`\`\`` } });
  if (c.link) blocks.push({ type: "section", text: { type: "mrkdwn", text: `<${c.link.url}|${esc(c.link.label)}>` } });
  const note = suppressedNote(c);
  if (note) blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: esc(note) }] });
  const summary = c.fields.map((f) => `${f.label}: ${f.value}`).join(" · ");
  return { text: `${ICON[c.kind]} ${esc(c.title)}${summary ? ` — ${esc(summary)}` : ""}`, blocks };
}

export class SlackNotifier implements Notifier {
  readonly kind = "slack" as const;

  constructor(
    readonly name: string,
    private readonly config: SlackNotifierConfig,
    private readonly env: Env,
  ) {}

  async send(content: AlertContent, opts: SendOptions): Promise<string> {
    const url = resolveSecret(this.config.webhookUrl, this.config.webhookUrlEnv, this.env, `alerts.notifiers.${this.name}.webhookUrl`)!;
    const target = `Slack (${hostOf(url)})`;
    let res: Response;
    try {
      res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "user-agent": "Sluice-Alerts" }, body: JSON.stringify(slackPayload(content)), signal: opts.signal });
    } catch (err) {
      throw networkError(err, target, opts.timeoutMs);
    }
    const body = await res.text().catch(() => "");
    if (!res.ok) throw httpError(res.status, body, target);
    return `HTTP ${res.status}${body ? ` ${body.slice(0, 100)}` : ""}`;
  }
}
