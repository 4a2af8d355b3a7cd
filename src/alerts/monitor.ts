/**
 * The alert monitor: every alerts.pollIntervalMs it reads from the store
 * what happened since its watermark and turns it into alerts (enqueue.ts):
 * - tries that failed (task_try): a final failure, or a retry to come;
 * - instances that are failed now (the final failures without a try, e.g. a
 *   mapped task whose list could not expand);
 * - runs that finished: failed, or succeeded when the DAG opted in, and runs
 *   that finished after their deadline;
 * - runs still going past their deadline;
 * - DAG files that fail to import, and DAGs that name unknown notifiers.
 *
 * It reads the store, not the scheduler's events, so it sees every failure
 * whoever recorded it: a task process, a queue worker, a pod through the
 * task API, a scheduler reaping a zombie. It runs in its own loop beside the
 * scheduler's; nothing in the scheduler waits for it.
 *
 * Late commits: a row is stamped before its transaction commits, so a poll
 * can miss a row stamped just before it. Each poll therefore looks back
 * OVERLAP_MS before its watermark; whatever it sees twice has the same
 * dedupe key and is recorded once (an in-memory set skips most re-inserts).
 * The watermark is stored (alert_cursor), so a restart continues where the
 * last poll ended, looking back at most MAX_CATCH_UP_MS.
 */
import type { Logger } from "pino";
import type { DagSpec } from "../core/dagSpec.js";
import { coerceError } from "../core/errors.js";
import type { FailedTryRow } from "../store/alertQueries.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";
import { deadlineOf, type Deadline } from "./deadline.js";
import { enqueueAlert, shortHash, type AlertEvent, type AlertsSettings } from "./enqueue.js";
import { KIND_LABELS } from "./kinds.js";
import { NotifierNameCheck } from "./notifierCheck.js";
import { runRoute, taskRoute } from "./routing.js";

/** How far each poll looks back before its watermark (late commits, clock skew between machines). */
export const OVERLAP_MS = 60_000;
/** After a restart, failures older than this are not alerted any more. */
export const MAX_CATCH_UP_MS = 24 * 3_600_000;
/** Rows read per source and poll; a longer backlog is read over the next polls. */
const PAGE = 1_000;
const CURSOR = "monitor";
const PRUNE_EVERY_MS = 3_600_000;

/** Run notes written by a person ending a run (runs/cancelRun.ts, runs/markRun.ts): no alert for what they did on purpose. */
const MANUAL_END = /^(Cancelled|Marked (failed|success)) by .+\.$/;

export interface AlertMonitorOptions {
  store: Store;
  settings: AlertsSettings;
  log: Logger;
  /** Called after a poll that recorded alerts (the in-process dispatcher's wake). */
  onEnqueued?: () => void;
  now?: () => number;
}

export class AlertMonitor {
  private watermark = 0;
  private stopped = true;
  private loopDone: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private lastPrune = 0;
  /** Dedupe keys recorded (or found recorded) recently, with when: most re-seen events skip the insert. */
  private readonly seen = new Map<string, number>();
  private readonly specs = new Map<string, DagSpec | undefined>();
  private readonly names: NotifierNameCheck;

  constructor(private readonly o: AlertMonitorOptions) {
    this.names = new NotifierNameCheck(o.store, Object.keys(o.settings.notifiers), o.log);
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  async start(): Promise<void> {
    const now = this.now();
    const stored = await this.o.store.alerts.cursor(CURSOR);
    // First start ever: from now (history before alerts were set up is not alerted).
    this.watermark = stored === undefined ? now : Math.max(stored, now - MAX_CATCH_UP_MS);
    this.stopped = false;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wakeUp?.();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.poll();
      } catch (err) {
        // A database hiccup must not end alerting: log and try again next interval.
        this.o.log.error({ err }, "alert monitor poll failed");
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, this.o.settings.pollIntervalMs);
      });
    }
  }

  /** One look at the store. Returns how many alerts it recorded. Public for tests, which drive it with their clock. */
  async poll(): Promise<number> {
    const now = this.now();
    const since = this.watermark - OVERLAP_MS;
    // The next watermark: now, or where a source's page ended when it had more.
    let next = now;
    let created = 0;
    const count = (c: boolean) => (created += c ? 1 : 0);

    const tries = await this.o.store.alerts.failedTriesSince(since, PAGE);
    if (tries.length === PAGE) next = Math.min(next, tries[tries.length - 1].end_date);
    for (const t of tries) count(await this.taskFailure(t, now));
    const failed = await this.o.store.alerts.failedInstancesSince(since, PAGE);
    if (failed.length === PAGE) next = Math.min(next, failed[failed.length - 1].end_date);
    for (const t of failed) count(await this.taskFailure(t, now));

    const runs = await this.o.store.alerts.finishedRunsSince(since, PAGE);
    if (runs.length === PAGE) next = Math.min(next, Number(runs[runs.length - 1].updated_at));
    for (const r of runs) for (const c of await this.finishedRun(r, now)) count(c);
    for (const r of await this.o.store.runs.inStates(["queued", "running"])) count(await this.deadline(r, now));

    await this.names.run(now, OVERLAP_MS);
    for (const e of await this.o.store.dags.importErrors()) count(await this.importError(e, now));

    this.watermark = Math.max(this.watermark, next);
    await this.o.store.alerts.advanceCursor(CURSOR, this.watermark);
    this.forget(now);
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      const n = await this.o.store.alerts.prune(now - this.o.settings.retentionDays * 86_400_000);
      if (n > 0) this.o.log.info({ deleted: n }, "old alerts deleted (alerts.retentionDays)");
    }
    if (created > 0) {
      try {
        this.o.onEnqueued?.();
      } catch (err) {
        this.o.log.warn({ err: coerceError(err) }, "alert onEnqueued listener failed");
      }
    }
    return created;
  }

  /** Record `event` unless seen; whether a new alert was recorded. */
  private async record(event: AlertEvent, now: number): Promise<boolean> {
    if (this.seen.has(event.dedupeKey)) return false;
    const created = await enqueueAlert(this.o.store, this.o.settings, event, now);
    this.seen.set(event.dedupeKey, now);
    if (created) this.o.log.info({ kind: event.kind, dagId: event.dagId, taskId: event.taskId, runId: event.runId, suppressed: created.suppressed }, "alert recorded");
    return created !== undefined;
  }

  /** Keys older than the look-back can no longer be seen again by a poll (import errors are re-checked, cheaply). */
  private forget(now: number): void {
    for (const [k, t] of this.seen) if (now - t > 2 * OVERLAP_MS) this.seen.delete(k);
    if (this.specs.size > 500) this.specs.clear();
  }

  private async spec(dagId: string, versionHash: string): Promise<DagSpec | undefined> {
    const key = `${dagId}\u0000${versionHash}`;
    if (!this.specs.has(key)) this.specs.set(key, await this.o.store.dags.versionSpec(dagId, versionHash));
    return this.specs.get(key);
  }

  private async taskFailure(t: FailedTryRow, now: number): Promise<boolean> {
    // The attempts a person stopped by cancelling or marking the run carry the run's note as their error.
    if (t.run_note !== null && MANUAL_END.test(t.run_note) && t.error === t.run_note) return false;
    const retried = t.ti_try > t.try_number || (t.ti_try === t.try_number && ["up_for_retry", "scheduled", "queued"].includes(t.ti_state));
    // Failed and then marked success (or skipped) by hand: the person knows.
    if (!retried && (t.ti_state === "success" || t.ti_state === "skipped")) return false;
    const kind = retried ? "task_retry" : "task_failed";
    const spec = await this.spec(t.dag_id, t.version_hash);
    const route = taskRoute(spec, t.task_id, retried ? "retry" : "failure", this.o.settings.default);
    if (!route.send) return false;
    const mapped = t.map_index >= 0 ? `[${t.map_index}]` : "";
    return this.record(
      {
        kind,
        // One alert per failed try, whichever way it is classified first.
        dedupeKey: `task_failed:${t.ti_id}:${t.try_number}`,
        title: `${KIND_LABELS[kind]}: ${t.dag_id}.${t.task_id}${mapped}`,
        message: t.error ?? "(no error message was recorded)",
        dagId: t.dag_id,
        taskId: t.task_id,
        runId: t.run_id,
        runPk: t.run_pk,
        mapIndex: t.map_index,
        tryNumber: t.try_number,
        details: { maxTries: t.max_tries, nextTryAt: retried && t.ti_try === t.try_number ? t.next_try_at : null, failedAt: t.end_date },
        notify: route.notify,
      },
      now,
    );
  }

  private async finishedRun(r: DagRunRow, now: number): Promise<boolean[]> {
    const out: boolean[] = [];
    const spec = await this.spec(r.dag_id, r.version_hash);
    const end = Number(r.end_date ?? r.updated_at);
    const durationMs = r.start_date !== null ? end - Number(r.start_date) : null;
    const manual = r.note !== null && MANUAL_END.test(r.note);
    if (!manual) {
      const event = r.state === "failed" ? "failure" : "success";
      const route = runRoute(spec, event, this.o.settings.default);
      if (route.send) {
        const kind = r.state === "failed" ? "run_failed" : "run_succeeded";
        const failed = r.state === "failed" ? await this.o.store.alerts.failedTasksOf(r.id) : [];
        const failedTasks = failed.map((t) => (t.map_index >= 0 ? `${t.task_id}[${t.map_index}]` : t.task_id));
        // The first failed task's error, or the run's note (a timeout says so there).
        const firstError = r.state === "failed" ? (failed.find((t) => t.error)?.error ?? r.note ?? "") : "";
        out.push(
          await this.record(
            {
              kind,
              // With the end date: a run cleared and failing again is a new failure.
              dedupeKey: `${kind}:${r.id}:${end}`,
              rateKey: `${kind}:${r.dag_id}:`,
              title: `${KIND_LABELS[kind]}: ${r.dag_id} (${r.run_id})`,
              message: firstError,
              dagId: r.dag_id,
              runId: r.run_id,
              runPk: r.id,
              details: { durationMs, failedTasks: [...new Set(failedTasks)], note: r.note },
              notify: route.notify,
            },
            now,
          ),
        );
      }
    }
    // Finished, but after its deadline (maybe between two polls): the deadline was still missed.
    const dl = spec && deadlineOf({ queued_at: Number(r.queued_at) }, spec.alerts, spec.timezone);
    if (dl && end > dl.at) out.push(await this.deadlineAlert(r, spec, dl, now, end));
    return out;
  }

  private async deadline(r: DagRunRow, now: number): Promise<boolean> {
    const spec = await this.spec(r.dag_id, r.version_hash);
    const dl = spec && deadlineOf({ queued_at: Number(r.queued_at) }, spec.alerts, spec.timezone);
    if (!dl || now <= dl.at) return false;
    return this.deadlineAlert(r, spec, dl, now, null);
  }

  private async deadlineAlert(r: DagRunRow, spec: DagSpec | undefined, dl: Deadline, now: number, finishedAt: number | null): Promise<boolean> {
    const route = runRoute(spec, "deadline", this.o.settings.default);
    if (!route.send) return false;
    return this.record(
      {
        kind: "deadline_missed",
        dedupeKey: `deadline:${r.id}`,
        rateKey: `deadline_missed:${r.dag_id}:`,
        title: `${KIND_LABELS.deadline_missed}: ${r.dag_id} (${r.run_id}) not finished by ${new Date(dl.at).toISOString().replace(".000Z", "Z")}`,
        message: "",
        dagId: r.dag_id,
        runId: r.run_id,
        runPk: r.id,
        details: { deadlineAt: dl.at, rule: dl.rule, runState: r.state, finishedAt },
        notify: route.notify,
      },
      now,
    );
  }

  private async importError(e: { path: string; message: string }, now: number): Promise<boolean> {
    const dedupeKey = `import_error:${e.path}:${shortHash(e.message)}`;
    if (this.seen.has(dedupeKey)) return false;
    // To the notifiers the file's DAGs name (the configured ones), else alerts.default.
    const file = (await this.o.store.dags.files()).find((f) => f.path === e.path);
    const dagIds = file ? (JSON.parse(file.dag_ids) as string[]) : [];
    const named = new Set<string>();
    for (const id of dagIds) {
      const row = await this.o.store.dags.get(id);
      const alerts = row ? (JSON.parse(row.spec) as DagSpec).alerts : undefined;
      if (alerts) for (const n of alerts.notify ?? []) if (Object.hasOwn(this.o.settings.notifiers, n)) named.add(n);
    }
    return this.record(
      {
        kind: "import_error",
        dedupeKey,
        rateKey: `import_error:${e.path}`,
        title: `${KIND_LABELS.import_error}: ${e.path}`,
        message: e.message,
        details: { path: e.path, dagIds },
        notify: named.size ? [...named] : undefined,
      },
      now,
    );
  }
}
