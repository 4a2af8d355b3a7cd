/**
 * The alert dispatcher: its own loop that claims due deliveries from the
 * outbox (AlertQueries.claimDue: SKIP LOCKED on PostgreSQL, so several
 * schedulers' dispatchers never take one delivery twice), sends up to
 * CONCURRENCY at once, each bounded by alerts.timeoutMs, and records every
 * attempt. A failure that may pass (a server down, a timeout, 5xx, 429) is
 * tried again after an exponential backoff (alerts.retry), up to
 * maxAttempts; one that cannot (a revoked webhook, a refused login, an
 * unset secret) fails the delivery at once. The scheduler never waits for
 * any of this: a notifier that hangs holds a dispatcher slot for at most
 * timeoutMs and nothing else.
 *
 * A dispatcher that dies mid-send leaves its deliveries "sending"; after
 * STALE_AFTER (well past any timeout) another claims them again. That send
 * may have reached the other side, so a receiver can see a repeat: webhooks
 * carry X-Sluice-Delivery to let it drop one.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import { coerceError } from "../core/errors.js";
import type { AlertDeliveryRow } from "../store/alertQueries.js";
import type { Store } from "../store/store.js";
import { alertContent } from "./content.js";
import type { AlertsSettings } from "./enqueue.js";
import { DeliveryError, type Notifier } from "./notifier.js";
import { configuredList } from "./notifierConfig.js";
import { sendWithTimeout } from "./notifiers.js";

/** Deliveries sent at once (and claimed per round). */
const CONCURRENCY = 4;

export interface AlertDispatcherOptions {
  store: Store;
  settings: AlertsSettings;
  notifiers: ReadonlyMap<string, Notifier>;
  /** Base URL of the web UI, for links (content.ts uiBase). */
  uiBase: string;
  log: Logger;
  now?: () => number;
  /** Who claims, for the record (default host:pid). */
  claimant?: string;
}

/** Wait before attempt `attempts + 1`, after `attempts` failed ones: initial × 2^(attempts-1), capped. */
export function backoffMs(attempts: number, retry: AlertsSettings["retry"]): number {
  return Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, attempts - 1));
}

export class AlertDispatcher {
  private stopped = true;
  private loopDone: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private readonly claimant: string;
  private readonly staleAfterMs: number;

  constructor(private readonly o: AlertDispatcherOptions) {
    this.claimant = o.claimant ?? `${hostname()}:${process.pid}`;
    this.staleAfterMs = 2 * o.settings.timeoutMs + 30_000;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loopDone = this.loop();
  }

  /** Stop claiming; sends under way finish (each is bounded by alerts.timeoutMs). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loopDone;
  }

  /** Something was enqueued: look now instead of at the next interval. */
  wake(): void {
    this.woken = true;
    clearTimeout(this.timer);
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let sent = 0;
      try {
        sent = await this.runOnce();
      } catch (err) {
        this.o.log.error({ err }, "alert dispatcher round failed");
      }
      if (this.stopped) break;
      // A full round: more may be due right away.
      if (sent === CONCURRENCY || this.woken) continue;
      let waitMs = this.o.settings.pollIntervalMs;
      try {
        const due = await this.o.store.alerts.nextDueAt();
        if (due !== null) waitMs = Math.max(0, Math.min(waitMs, due - this.now()));
      } catch {
        // The next round reports it.
      }
      if (waitMs > 0 && !this.woken) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
          this.timer = setTimeout(resolve, waitMs);
        });
      }
    }
  }

  /** Claim what is due and send it; the number of deliveries attempted. Public for tests. */
  async runOnce(): Promise<number> {
    const now = this.now();
    const claimed = await this.o.store.alerts.claimDue({ now, limit: CONCURRENCY, claimant: this.claimant, staleBefore: now - this.staleAfterMs });
    await Promise.all(claimed.map((d) => this.deliver(d)));
    return claimed.length;
  }

  private async deliver(d: AlertDeliveryRow): Promise<void> {
    const { store, settings, log } = this.o;
    const startedAt = this.now();
    const t0 = performance.now();
    let response: string | null = null;
    let failure: DeliveryError | undefined;
    try {
      const alert = await store.alerts.get(d.alert_id);
      if (!alert) return; // deleted (retention) while it waited
      const notifier = this.o.notifiers.get(d.notifier);
      if (!notifier) {
        throw new DeliveryError(`notifier "${d.notifier}" is not configured any more (configured: ${configuredList(this.o.notifiers.keys())})`, { retryable: false });
      }
      response = await sendWithTimeout(notifier, alertContent(alert, this.o.uiBase), settings.timeoutMs, d.id);
    } catch (err) {
      failure = err instanceof DeliveryError ? err : new DeliveryError(coerceError(err).message, { retryable: true, cause: err });
      response = failure.response ?? null;
    }
    const durationMs = Math.round(performance.now() - t0);
    const now = this.now();
    const retry = failure !== undefined && failure.retryable && d.attempts < settings.retry.maxAttempts;
    const next = failure === undefined ? "delivered" : retry ? "pending" : "failed";
    const nextAttemptAt = retry ? now + backoffMs(d.attempts, settings.retry) : null;
    let error: string | null = null;
    if (failure) {
      const tail = retry
        ? ` (attempt ${d.attempts} of ${settings.retry.maxAttempts}; next at ${new Date(nextAttemptAt!).toISOString()})`
        : failure.retryable
          ? ` (attempt ${d.attempts} of ${settings.retry.maxAttempts}: giving up; raise alerts.retry.maxAttempts to try longer)`
          : ` (not retried: it would fail the same way)`;
      error = `${failure.message}${tail}`;
    }
    try {
      const written = await store.alerts.recordAttempt(
        { delivery_id: d.id, attempt: d.attempts, started_at: startedAt, duration_ms: durationMs, ok: failure ? 0 : 1, error, response },
        { state: next, nextAttemptAt, now },
      );
      if (!written) log.warn({ delivery: d.id, notifier: d.notifier }, "another dispatcher took over this delivery while it was being sent; its outcome stands");
      else if (failure) log.warn({ delivery: d.id, notifier: d.notifier, attempt: d.attempts, retry }, `alert delivery failed: ${error}`);
    } catch (err) {
      // It stays "sending" and is claimed again once stale.
      log.error({ err, delivery: d.id }, "could not record an alert delivery's outcome");
    }
  }
}
