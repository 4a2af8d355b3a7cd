/**
 * A notifier sends one alert's content somewhere (Slack, SMTP, an HTTP
 * endpoint). A failure is a DeliveryError that says whether trying again can
 * help (a server down or answering 5xx: yes; a revoked webhook or a wrong
 * password: no) and what to do about it.
 */
import { coerceError } from "../core/errors.js";
import type { AlertContent } from "./content.js";
import type { NotifierKind } from "./notifierConfig.js";

export interface SendOptions {
  /** Aborted when the attempt's time (alerts.timeoutMs) is up. */
  signal: AbortSignal;
  timeoutMs: number;
  /** The delivery being sent (webhooks put it in a header so a receiver can drop a repeat). */
  deliveryId?: number;
}

export interface Notifier {
  readonly name: string;
  readonly kind: NotifierKind;
  /** Resolves with what the other side answered ("HTTP 200", "250 Ok"); throws a DeliveryError. */
  send(content: AlertContent, opts: SendOptions): Promise<string>;
}

/** A failed send. `retryable`: whether a later attempt may succeed. */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  /** What the other side answered, when it answered. */
  readonly response?: string;

  constructor(message: string, opts: { retryable: boolean; response?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "DeliveryError";
    this.retryable = opts.retryable;
    this.response = opts.response;
  }
}

/** A notifier whose config cannot be used (an unset environment variable): no retry will fix it. */
export class NotifierConfigError extends DeliveryError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = "NotifierConfigError";
  }
}

const NET_CODES: Record<string, string> = {
  ECONNREFUSED: "the connection was refused (is the service up, and the host and port right?)",
  ECONNRESET: "the connection was reset",
  ENOTFOUND: "the host name does not resolve (a typo in the URL or host?)",
  EAI_AGAIN: "the host name could not be resolved right now (DNS)",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  UND_ERR_CONNECT_TIMEOUT: "the connection timed out",
  UND_ERR_SOCKET: "the connection broke",
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate could not be verified",
};

/** The first error code in an error's cause chain (fetch hides the socket error under cause). */
function codeOf(err: unknown): string | undefined {
  for (let e: any = err, i = 0; e && i < 5; e = e.cause, i++) if (typeof e.code === "string") return e.code;
  return undefined;
}

/** A thrown fetch/socket error as a DeliveryError naming the target and the likely fix. */
export function networkError(err: unknown, target: string, timeoutMs: number): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = coerceError(err);
  if (e.name === "TimeoutError" || e.name === "AbortError") {
    return new DeliveryError(`${target} did not answer within ${timeoutMs} ms (alerts.timeoutMs)`, { retryable: true, cause: err });
  }
  const code = codeOf(err);
  const why = code ? (NET_CODES[code] ?? `${code}: ${e.message}`) : e.message;
  const certificate = code !== undefined && /CERT/.test(code);
  return new DeliveryError(`could not reach ${target}: ${why}`, { retryable: !certificate, cause: err });
}

/**
 * An HTTP answer that is not 2xx. 408, 429 and 5xx are worth another try;
 * other 4xx mean the request itself is refused (a wrong or revoked URL).
 */
export function httpError(status: number, body: string, target: string): DeliveryError {
  const text = body.trim().slice(0, 300);
  const retryable = status === 408 || status === 429 || status >= 500;
  const hint =
    status === 404 || status === 410
      ? " — the URL is wrong or the webhook was removed; fix it in alerts.notifiers"
      : status === 401 || status === 403
        ? " — the endpoint refused the credentials"
        : retryable
          ? ""
          : " — the endpoint refused the request";
  return new DeliveryError(`${target} answered HTTP ${status}${text ? ` (${text})` : ""}${hint}`, { retryable, response: `HTTP ${status}` });
}

/** The host (and port) of a URL, for messages: never the path, which may hold a token (Slack's does). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the URL";
  }
}
