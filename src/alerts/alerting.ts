/**
 * Alerting in a scheduler process: the monitor that records alerts and the
 * dispatcher that sends them, each in its own loop (createSluice starts them
 * after the scheduler and stops them before the store closes). Every
 * scheduler process runs both; the outbox makes that safe (one alert per
 * event, one sender per delivery).
 */
import type { Logger } from "pino";
import type { SluiceConfig } from "../config/config.js";
import type { Store } from "../store/store.js";
import { uiBase } from "./content.js";
import { AlertDispatcher } from "./dispatcher.js";
import { AlertMonitor } from "./monitor.js";
import { createNotifiers } from "./notifiers.js";
import type { Env } from "./secrets.js";

export interface Alerting {
  monitor: AlertMonitor;
  dispatcher: AlertDispatcher;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAlerting(o: { store: Store; config: Pick<SluiceConfig, "alerts" | "api">; log: Logger; env: Env; now?: () => number }): Alerting {
  const settings = o.config.alerts;
  const dispatcher = new AlertDispatcher({
    store: o.store,
    settings,
    notifiers: createNotifiers(settings.notifiers, o.env),
    uiBase: uiBase(o.config.api),
    log: o.log.child({ part: "alert-dispatcher" }),
    now: o.now,
  });
  const monitor = new AlertMonitor({ store: o.store, settings, log: o.log.child({ part: "alert-monitor" }), onEnqueued: () => dispatcher.wake(), now: o.now });
  let started = false;
  return {
    monitor,
    dispatcher,
    async start() {
      if (!settings.enabled || started) return;
      started = true;
      await monitor.start();
      dispatcher.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      await monitor.stop();
      await dispatcher.stop();
    },
  };
}
