/**
 * The config of alert notifiers (`alerts.notifiers` in the config file): a
 * map from a name DAG code uses (`alerts: { notify: ["slack_ops"] }`) to a
 * Slack incoming webhook, an SMTP server, or a generic HTTP webhook.
 *
 * Pure (zod only) so src/config/config.ts can embed it. The map is a record,
 * which the generic config error formatter cannot see into, so every problem
 * is reported here as a custom issue whose message names the fix.
 *
 * Secrets (the Slack URL, the SMTP password, the webhook's signing secret)
 * are given directly or by the name of an environment variable
 * (`webhookUrlEnv: "SLACK_OPS_URL"`), read by the process that sends
 * (alerts/secrets.ts). Their key names are ones `sluice config show` masks.
 */
import { z } from "zod";
import { suggestion } from "../core/didYouMean.js";

/** Notifier names: what DAG code writes in `notify`, and a key in URLs and logs. */
export const NOTIFIER_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;
export const NOTIFIER_KINDS = ["slack", "email", "webhook"] as const;
export type NotifierKind = (typeof NOTIFIER_KINDS)[number];

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL like "https://hooks.slack.com/services/…"' });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected the name of an environment variable, like SLACK_OPS_URL");

const SlackSchema = z.strictObject({
  kind: z.literal("slack"),
  /** The incoming webhook's URL (it is the credential: keep it out of version control, prefer webhookUrlEnv). */
  webhookUrl: httpUrl.optional(),
  webhookUrlEnv: envName.optional(),
});

const EmailSchema = z.strictObject({
  kind: z.literal("email"),
  host: z.string().min(1),
  port: z.int().min(1).max(65535).default(587),
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  user: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  passwordEnv: envName.optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1, "list at least one address to send to"),
});

const WebhookSchema = z.strictObject({
  kind: z.literal("webhook"),
  url: httpUrl,
  /** HMAC-SHA256 key: the body's signature goes in X-Sluice-Signature-256. */
  secret: z.string().min(1).optional(),
  secretEnv: envName.optional(),
});

export type SlackNotifierConfig = z.output<typeof SlackSchema>;
export type EmailNotifierConfig = z.output<typeof EmailSchema>;
export type WebhookNotifierConfig = z.output<typeof WebhookSchema>;
export type NotifierConfig = SlackNotifierConfig | EmailNotifierConfig | WebhookNotifierConfig;

const SCHEMAS: Record<NotifierKind, z.ZodType<NotifierConfig>> = { slack: SlackSchema, email: EmailSchema, webhook: WebhookSchema };
const KEYS: Record<NotifierKind, string[]> = {
  slack: Object.keys(SlackSchema.shape),
  email: Object.keys(EmailSchema.shape),
  webhook: Object.keys(WebhookSchema.shape),
};
const EXAMPLE = '{ "slack_ops": { "kind": "slack", "webhookUrlEnv": "SLACK_OPS_URL" } }';

type Issue = { path: (string | number)[]; message: string };

/** Rules across fields: a secret given twice, or a Slack notifier with no URL. */
function crossChecks(n: NotifierConfig): Issue[] {
  const out: Issue[] = [];
  const both = (a: string, b: string) => out.push({ path: [a], message: `set ${a} or ${b}, not both` });
  if (n.kind === "slack") {
    if (n.webhookUrl !== undefined && n.webhookUrlEnv !== undefined) both("webhookUrl", "webhookUrlEnv");
    if (n.webhookUrl === undefined && n.webhookUrlEnv === undefined) {
      out.push({ path: ["webhookUrl"], message: "missing: set webhookUrl (the Slack incoming webhook URL) or webhookUrlEnv (the environment variable holding it)" });
    }
  } else if (n.kind === "email") {
    if (n.password !== undefined && n.passwordEnv !== undefined) both("password", "passwordEnv");
    if ((n.password !== undefined || n.passwordEnv !== undefined) && n.user === undefined) out.push({ path: ["user"], message: "missing: a password needs the user it belongs to" });
  } else if (n.secret !== undefined && n.secretEnv !== undefined) {
    both("secret", "secretEnv");
  }
  return out;
}

/** zod's issue, reworded where a user could not act on it as is. */
function wording(issue: z.core.$ZodIssue, kind: NotifierKind): Issue[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => ({ path: [...issue.path.map(String), k], message: `unknown key (${kind === "email" ? "an" : "a"} ${kind} notifier takes ${KEYS[kind].join(", ")})${suggestion(k, KEYS[kind])}` }));
  }
  if (issue.code === "invalid_type" && issue.input === undefined) return [{ path: issue.path.map(String), message: `missing: a ${kind} notifier needs it` }];
  return [{ path: issue.path.map(String), message: issue.message }];
}

/** Check one notifier's raw config: the parsed value, or the problems (paths relative to the notifier). */
export function parseNotifier(raw: unknown): { ok: true; value: NotifierConfig } | { ok: false; issues: Issue[] } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { ok: false, issues: [{ path: [], message: 'expected an object like { "kind": "slack", "webhookUrlEnv": "SLACK_OPS_URL" }' }] };
  const kind = (raw as { kind?: unknown }).kind;
  if (!NOTIFIER_KINDS.includes(kind as NotifierKind)) {
    const given = kind === undefined ? "it is missing" : `got ${JSON.stringify(kind)}${typeof kind === "string" ? suggestion(kind, NOTIFIER_KINDS) : ""}`;
    return { ok: false, issues: [{ path: ["kind"], message: `kind must be one of ${NOTIFIER_KINDS.map((k) => `"${k}"`).join(", ")}; ${given}` }] };
  }
  const r = SCHEMAS[kind as NotifierKind].safeParse(raw);
  if (!r.success) return { ok: false, issues: r.error.issues.flatMap((i) => wording(i, kind as NotifierKind)) };
  const cross = crossChecks(r.data);
  return cross.length ? { ok: false, issues: cross } : { ok: true, value: r.data };
}

/** `alerts.notifiers`: name -> notifier. */
export const notifiersField = z
  .unknown()
  .transform((raw, ctx): Record<string, NotifierConfig> => {
    if (raw === undefined) return {};
    // From SLUICE_ALERTS__NOTIFIERS: JSON text.
    if (typeof raw === "string" && raw.trim().startsWith("{")) {
      try {
        raw = JSON.parse(raw) as unknown;
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `not valid JSON (${(err as Error).message}); expected an object of named notifiers, like ${EXAMPLE}` });
        return z.NEVER;
      }
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      ctx.addIssue({ code: "custom", message: `expected an object of named notifiers, like ${EXAMPLE} (set it in the config file)` });
      return z.NEVER;
    }
    const out: Record<string, NotifierConfig> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (!NOTIFIER_NAME_RE.test(name)) {
        ctx.addIssue({ code: "custom", path: [name], message: 'a notifier name is 1-100 letters, digits, "_", "-" or "." (DAG code refers to it in alerts.notify)' });
        continue;
      }
      const r = parseNotifier(value);
      if (r.ok) out[name] = r.value;
      else for (const i of r.issues) ctx.addIssue({ code: "custom", path: [name, ...i.path], message: i.message });
    }
    return out;
  });

/** "slack_ops, oncall" or a hint that there are none. */
export function configuredList(names: Iterable<string>): string {
  const list = [...names];
  return list.length ? list.join(", ") : "none (add them under alerts.notifiers in the config)";
}

/**
 * The alerts section's own cross-check: every name in `default` must be a
 * configured notifier (else the alerts meant for it would silently go nowhere).
 */
export function checkAlertDefaults<T extends { default: readonly string[]; notifiers: Record<string, NotifierConfig> }>(a: T, ctx: z.core.$RefinementCtx<T>): void {
  const names = Object.keys(a.notifiers);
  a.default.forEach((name, i) => {
    if (Object.hasOwn(a.notifiers, name)) return;
    ctx.addIssue({
      code: "custom",
      path: ["default", i],
      message: `"${name}" is not a configured notifier${suggestion(name, names)} (configured: ${configuredList(names)})`,
    });
  });
}
