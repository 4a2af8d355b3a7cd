/** The configured notifiers by name, and one send bounded by alerts.timeoutMs. */
import { suggestion } from "../core/didYouMean.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import type { AlertContent } from "./content.js";
import { EmailNotifier } from "./emailNotifier.js";
import { DeliveryError, type Notifier } from "./notifier.js";
import { configuredList, type NotifierConfig } from "./notifierConfig.js";
import type { Env } from "./secrets.js";
import { SlackNotifier } from "./slackNotifier.js";
import { WebhookNotifier } from "./webhookNotifier.js";

export function createNotifier(name: string, config: NotifierConfig, env: Env): Notifier {
  switch (config.kind) {
    case "slack":
      return new SlackNotifier(name, config, env);
    case "email":
      return new EmailNotifier(name, config, env);
    case "webhook":
      return new WebhookNotifier(name, config, env);
  }
}

/** Every configured notifier. Secrets are read at send time, so building them cannot fail. */
export function createNotifiers(configs: Record<string, NotifierConfig>, env: Env): Map<string, Notifier> {
  return new Map(Object.entries(configs).map(([name, c]) => [name, createNotifier(name, c, env)]));
}

/** The notifier called `name`, or a usage error listing the configured ones. */
export function notifierNamed(notifiers: ReadonlyMap<string, Notifier>, name: string): Notifier {
  const n = notifiers.get(name);
  if (n) return n;
  throw new SluiceError(ErrorCode.Usage, `No notifier "${name}" in the config${suggestion(name, notifiers.keys()) || "."} Configured notifiers: ${configuredList(notifiers.keys())}.`);
}

/**
 * Send with a deadline: the notifier's request is aborted after `timeoutMs`,
 * and the promise settles then even if the notifier ignores the signal, so a
 * hung server never holds a dispatcher slot longer than that.
 */
export async function sendWithTimeout(notifier: Notifier, content: AlertContent, timeoutMs: number, deliveryId?: number): Promise<string> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeliveryError(`${notifier.kind} notifier "${notifier.name}" did not finish within ${timeoutMs} ms (alerts.timeoutMs)`, { retryable: true });
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([notifier.send(content, { signal: controller.signal, timeoutMs, deliveryId }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
