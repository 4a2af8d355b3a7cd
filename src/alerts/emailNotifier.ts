/**
 * Email over SMTP with nodemailer: one message with a text and an HTML part
 * to every address of `to`. A fresh connection per message (alerts are rare;
 * a pooled connection would sit open against a server that drops idle ones).
 * nodemailer's own connection, greeting and socket timeouts are set from
 * alerts.timeoutMs; the dispatcher's timer bounds the whole send as well.
 * SMTP 4xx answers and lost connections are retried; 5xx (a rejected
 * recipient or sender) and a refused login are not.
 */
import nodemailer from "nodemailer";
import { coerceError } from "../core/errors.js";
import { excerpt, suppressedNote, type AlertContent } from "./content.js";
import { DeliveryError, networkError, type Notifier, type SendOptions } from "./notifier.js";
import type { EmailNotifierConfig } from "./notifierConfig.js";
import { resolveSecret, type Env } from "./secrets.js";

function html(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export function emailSubject(c: AlertContent): string {
  const tryField = c.fields.find((f) => f.label === "Try");
  return `[Sluice] ${c.title}${tryField ? ` (try ${tryField.value})` : ""}`;
}

export function emailText(c: AlertContent): string {
  const lines = [c.title, "", ...c.fields.map((f) => `${f.label}: ${f.value}`)];
  if (c.error) lines.push("", "Error:", excerpt(c.error, 4_000));
  if (c.link) lines.push("", `${c.link.label}: ${c.link.url}`);
  const note = suppressedNote(c);
  if (note) lines.push("", note);
  lines.push("", "-- ", "Sent by Sluice. Alert settings: alerts in the DAG's code and in the config (docs/alerts.md).");
  return lines.join("\n");
}

export function emailHtml(c: AlertContent): string {
  const rows = c.fields.map((f) => `<tr><th style="text-align:left;padding:2px 12px 2px 0;color:#555">${html(f.label)}</th><td style="padding:2px 0">${html(f.value)}</td></tr>`).join("");
  const note = suppressedNote(c);
  return [
    `<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#111">`,
    `<h2 style="margin:0 0 12px">${html(c.title)}</h2>`,
    rows ? `<table style="border-collapse:collapse;margin-bottom:12px">${rows}</table>` : "",
    c.error ? `<pre style="background:#f5f5f5;padding:10px;border-radius:4px;white-space:pre-wrap;font-size:12px">${html(excerpt(c.error, 4_000))}</pre>` : "",
    c.link ? `<p><a href="${html(c.link.url)}">${html(c.link.label)}</a></p>` : "",
    note ? `<p style="color:#555">${html(note)}</p>` : "",
    `<p style="color:#888;font-size:12px">Sent by Sluice.</p>`,
    `</body></html>`,
  ].join("");
}

export class EmailNotifier implements Notifier {
  readonly kind = "email" as const;

  constructor(
    readonly name: string,
    private readonly config: EmailNotifierConfig,
    private readonly env: Env,
  ) {}

  async send(content: AlertContent, opts: SendOptions): Promise<string> {
    const c = this.config;
    const password = resolveSecret(c.password, c.passwordEnv, this.env, `alerts.notifiers.${this.name}.password`);
    const transport = nodemailer.createTransport({
      host: c.host,
      port: c.port,
      secure: c.secure,
      auth: c.user !== undefined ? { user: c.user, pass: password ?? "" } : undefined,
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
      dnsTimeout: opts.timeoutMs,
    });
    const target = `the SMTP server ${c.host}:${c.port}`;
    try {
      const info = await abortable(
        transport.sendMail({ from: c.from, to: c.to, subject: emailSubject(content), text: emailText(content), html: emailHtml(content) }),
        opts.signal,
      );
      if (info.rejected.length > 0) {
        throw new DeliveryError(`${target} rejected ${info.rejected.map(String).join(", ")} (${info.response}); fix alerts.notifiers.${this.name}.to`, { retryable: false, response: info.response });
      }
      return info.response;
    } catch (err) {
      throw smtpError(err, target, this.name, opts.timeoutMs);
    } finally {
      transport.close();
    }
  }
}

/** Reject when `signal` aborts: nodemailer takes no signal, and its timeouts cover single steps, not the whole send. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

function smtpError(err: unknown, target: string, name: string, timeoutMs: number): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = coerceError(err) as Error & { code?: string; responseCode?: number; response?: string };
  if (e.code === "EAUTH") {
    return new DeliveryError(`${target} refused the login (${e.response ?? e.message}); check alerts.notifiers.${name}.user and password`, { retryable: false, response: e.response, cause: err });
  }
  if (typeof e.responseCode === "number") {
    const temporary = e.responseCode < 500;
    return new DeliveryError(`${target} answered ${e.response ?? e.message}${temporary ? "" : `; check alerts.notifiers.${name}.from and to`}`, {
      retryable: temporary,
      response: e.response,
      cause: err,
    });
  }
  if (e.code === "ETIMEDOUT" || e.name === "TimeoutError") return new DeliveryError(`${target} did not answer within ${timeoutMs} ms (alerts.timeoutMs)`, { retryable: true, cause: err });
  if (e.code === "ECONNECTION" || e.code === "ESOCKET" || e.code === "EDNS") return networkError((err as { cause?: unknown }).cause ?? err, target, timeoutMs);
  return networkError(err, target, timeoutMs);
}
