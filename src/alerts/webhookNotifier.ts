/**
 * A generic HTTP webhook: one POST of JSON. With a secret, the raw body is
 * signed with HMAC-SHA256 and the signature sent as
 * `X-Sluice-Signature-256: sha256=<hex>` (GitHub's scheme), so the receiver
 * can check the message came from Sluice: compute the same HMAC over the
 * bytes it received and compare in constant time. X-Sluice-Delivery lets it
 * drop a repeat (a retry after an answer that got lost).
 */
import { createHmac } from "node:crypto";
import type { AlertContent } from "./content.js";
import { hostOf, httpError, networkError, type Notifier, type SendOptions } from "./notifier.js";
import type { WebhookNotifierConfig } from "./notifierConfig.js";
import { resolveSecret, type Env } from "./secrets.js";

export const SIGNATURE_HEADER = "X-Sluice-Signature-256";

/** The JSON body: the alert's facts, its rendered fields, the error and the link. */
export function webhookBody(c: AlertContent): Record<string, unknown> {
  return {
    id: c.id,
    kind: c.kind,
    title: c.title,
    dagId: c.facts.dagId,
    taskId: c.facts.taskId,
    runId: c.facts.runId,
    mapIndex: c.facts.mapIndex,
    tryNumber: c.facts.tryNumber,
    error: c.error,
    url: c.link?.url ?? null,
    fields: Object.fromEntries(c.fields.map((f) => [f.label, f.value])),
    details: c.facts.details,
    suppressedCount: c.suppressedCount,
    createdAt: new Date(c.createdAt).toISOString(),
  };
}

/** "sha256=<hex>" of the body under the secret. */
export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export class WebhookNotifier implements Notifier {
  readonly kind = "webhook" as const;

  constructor(
    readonly name: string,
    private readonly config: WebhookNotifierConfig,
    private readonly env: Env,
  ) {}

  async send(content: AlertContent, opts: SendOptions): Promise<string> {
    const secret = resolveSecret(this.config.secret, this.config.secretEnv, this.env, `alerts.notifiers.${this.name}.secret`);
    const body = JSON.stringify(webhookBody(content));
    const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "Sluice-Alerts", "x-sluice-event": content.kind };
    if (opts.deliveryId !== undefined) headers["x-sluice-delivery"] = String(opts.deliveryId);
    if (secret !== undefined) headers[SIGNATURE_HEADER.toLowerCase()] = signature(secret, body);
    const target = `the webhook at ${hostOf(this.config.url)}`;
    let res: Response;
    try {
      res = await fetch(this.config.url, { method: "POST", headers, body, signal: opts.signal });
    } catch (err) {
      throw networkError(err, target, opts.timeoutMs);
    }
    const text = await res.text().catch(() => "");
    if (!res.ok) throw httpError(res.status, text, target);
    return `HTTP ${res.status}`;
  }
}
