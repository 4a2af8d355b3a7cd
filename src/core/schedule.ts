/**
 * Schedules and data intervals, Airflow 2 style: a scheduled run covers a data
 * interval [start, end), its logical date is `start`, and it is created once
 * `end` has passed. Pure logic: every "now" is passed in, so the scheduler,
 * the CLI and the tests all see the same answers for the same inputs.
 */
import { Cron } from "croner";
import { suggestion } from "./didYouMean.js";
import { ErrorCode, SluiceError } from "./errors.js";

export type Schedule =
  | { kind: "cron"; expr: string; timezone: string }
  | { kind: "interval"; everyMs: number }
  | { kind: "manual" };

export interface DataInterval {
  start: Date;
  end: Date;
}

// Expanded here rather than handed to croner so `expr` is always plain cron
// (describeSchedule and the stored DAG row see "0 0 * * *", not "@daily").
const PRESETS: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};
// "@once" is Airflow's "run exactly once". Sluice does not model a one-shot
// automatic run, so it is accepted as manual: nothing runs until triggered.
const MANUAL_WORDS = ["@manual", "@once"];

const ACCEPTED =
  'Accepted: null or "@manual" (trigger by hand only), a preset (@hourly, @daily, @weekly, @monthly, @yearly), ' +
  'a fixed interval like "15m", "1h30m" or "2d", or a 5-field cron expression ("0 2 * * *"; 6 fields = with seconds first).';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
// One or more <integer><unit> parts, optionally space-separated: "1h30m", "1h 30m".
const DURATION_RE = /^(?:\d+\s*(?:ms|s|m|h|d|w)\s*)+$/;
const DURATION_PART_RE = /(\d+)\s*(ms|s|m|h|d|w)/g;
/** Backfills longer than this are almost always a typo in the dates. */
const MAX_INTERVALS = 10_000;

function invalid(message: string, details?: Record<string, unknown>, cause?: unknown): SluiceError {
  return new SluiceError(ErrorCode.ScheduleInvalid, message, { details, cause });
}

export function parseDuration(text: string | number, what = "duration"): number {
  const bad = () =>
    invalid(
      `Invalid ${what} ${JSON.stringify(text)}: expected a positive duration such as "500ms", "30s", "15m", "1h30m", "2d" or "1w" (units ms, s, m, h, d, w), or a positive whole number of milliseconds.`,
      { input: text },
    );
  if (typeof text === "number") {
    if (!Number.isSafeInteger(text) || text <= 0) throw bad();
    return text;
  }
  const trimmed = text.trim().toLowerCase();
  // A bare "500" is rejected on purpose: people mean seconds as often as ms.
  if (!DURATION_RE.test(trimmed)) throw bad();
  let ms = 0;
  for (const [, n, unit] of trimmed.matchAll(DURATION_PART_RE)) ms += Number(n) * UNIT_MS[unit];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw bad();
  return ms;
}

function checkTimezone(timezone: string): void {
  try {
    // Intl throws RangeError on unknown IANA names; croner would only fail
    // later, on the first date computation, with a less direct message.
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch (cause) {
    throw invalid(
      `Unknown timezone ${JSON.stringify(timezone)}: use an IANA name such as "UTC", "Europe/Berlin" or "America/New_York".`,
      { timezone },
      cause,
    );
  }
}

// Croner parses cheaply, but the scheduler asks about the same few schedules
// on every loop; the cache holds no timers (no callback => never scheduled).
const cronCache = new Map<string, Cron>();
function cronFor(expr: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expr}`;
  let cron = cronCache.get(key);
  if (!cron) {
    // "5-or-6-parts": croner would also take a 7th (year) field, which no other
    // cron (Airflow/croniter included) reads the same way. domAndDow false is
    // Vixie cron: "0 0 1 * MON" means the 1st OR Mondays; a "*" in either
    // field leaves only the other as the day filter.
    cron = new Cron(expr, { timezone, mode: "5-or-6-parts", domAndDow: false, paused: true });
    if (cronCache.size > 500) cronCache.clear();
    cronCache.set(key, cron);
  }
  return cron;
}

export function parseSchedule(spec: string | null, timezone = "UTC"): Schedule {
  checkTimezone(timezone);
  if (spec === null) return { kind: "manual" };
  const text = spec.trim().replace(/\s+/g, " ");
  const quoted = JSON.stringify(spec);
  if (text === "") throw invalid(`Empty schedule ${quoted}. ${ACCEPTED}`, { input: spec });
  if (text.startsWith("@")) {
    const word = text.toLowerCase();
    if (MANUAL_WORDS.includes(word)) return { kind: "manual" };
    if (word in PRESETS) return { kind: "cron", expr: PRESETS[word], timezone };
    const hint = word === "@reboot" ? " (there is no reboot to run at: a DAG runs on a schedule or by hand)" : "";
    throw invalid(
      `Unknown schedule preset ${quoted}${hint}${suggestion(word, [...Object.keys(PRESETS), ...MANUAL_WORDS]) || "."} ${ACCEPTED}`,
      { input: spec },
    );
  }
  if (DURATION_RE.test(text.toLowerCase())) return { kind: "interval", everyMs: parseDuration(text, `schedule interval`) };
  const fields = text.split(" ").length;
  if (fields !== 5 && fields !== 6) {
    throw invalid(`Invalid schedule ${quoted}: not a preset, an interval or a cron expression (it has ${fields} field${fields === 1 ? "" : "s"}, cron needs 5 or 6). ${ACCEPTED}`, { input: spec });
  }
  let cron: Cron;
  try {
    cron = cronFor(text, timezone);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.replace(/^CronPattern:\s*/, "") : String(cause);
    throw invalid(`Invalid cron expression ${quoted}: ${reason}. ${ACCEPTED}`, { input: spec }, cause);
  }
  // "0 0 30 2 *" parses but never fires; the scheduler would silently never run it.
  if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) {
    throw invalid(`Cron expression ${quoted} never fires (no date matches it).`, { input: spec });
  }
  return { kind: "cron", expr: text, timezone };
}

/**
 * The boundaries of a schedule: fire times for cron, anchor + k*every for
 * intervals. Data intervals are always [b, after(b)), which is what keeps them
 * contiguous (no gaps, no overlaps) even across DST changes: croner decides
 * the fire times in local time and we only ever chain them.
 */
interface Grid {
  atOrBefore(t: Date): Date | null;
  atOrAfter(t: Date): Date | null;
  after(b: Date): Date | null;
  before(b: Date): Date | null;
}

function gridFor(schedule: Schedule, anchor: Date | undefined): Grid | null {
  if (schedule.kind === "manual") return null;
  if (schedule.kind === "cron") {
    const cron = cronFor(schedule.expr, schedule.timezone);
    // croner's nextRun/previousRuns are strictly after/before their argument;
    // fires fall on whole seconds, so a 1 ms nudge makes them inclusive.
    const after = (t: Date) => cron.nextRun(t);
    const before = (t: Date) => cron.previousRuns(1, t)[0] ?? null;
    return {
      after,
      before,
      atOrBefore: (t) => before(new Date(t.getTime() + 1)),
      atOrAfter: (t) => after(new Date(t.getTime() - 1)),
    };
  }
  // Aligned to the DAG start so "15m" from 10:07 runs 10:07, 10:22, ...; the
  // epoch is only a fallback for manual triggers and backfills without a start.
  const every = schedule.everyMs;
  const base = anchor ? anchor.getTime() : 0;
  const at = (k: number) => new Date(base + k * every);
  return {
    atOrBefore: (t) => at(Math.floor((t.getTime() - base) / every)),
    atOrAfter: (t) => at(Math.ceil((t.getTime() - base) / every)),
    after: (b) => new Date(b.getTime() + every),
    before: (b) => new Date(b.getTime() - every),
  };
}

function intervalFrom(grid: Grid, start: Date | null): DataInterval | null {
  if (!start) return null;
  const end = grid.after(start);
  return end ? { start, end } : null;
}

/** The latest interval with end <= t. */
function latestComplete(grid: Grid, t: Date): DataInterval | null {
  const end = grid.atOrBefore(t);
  const start = end && grid.before(end);
  return start && end ? { start, end } : null;
}

export function nextDataInterval(
  schedule: Schedule,
  opts: { last?: DataInterval; start?: Date; end?: Date; catchup: boolean; now: Date },
): DataInterval | null {
  if (schedule.kind === "manual") return null;
  if (schedule.kind === "interval" && !opts.start) {
    // Without a start there is nothing to align "every 15m" to, and catchup
    // would have to walk from the epoch.
    throw invalid(`An interval schedule (${describeSchedule(schedule)}) needs a start date.`);
  }
  const grid = gridFor(schedule, opts.start)!;
  // Earliest start allowed: after the last run (re-aligned in case the schedule
  // changed since) and not before the DAG start. max() also covers a start date
  // moved later than the last run.
  const floorMs = Math.max(opts.last?.end.getTime() ?? -Infinity, opts.start?.getTime() ?? -Infinity);
  const lower = Number.isFinite(floorMs) ? grid.atOrAfter(new Date(floorMs)) : null;

  let start: Date | null;
  if (opts.catchup && lower) {
    start = lower;
  } else {
    // No catchup (or a cron DAG with no start and no runs yet): only the
    // latest complete interval, unless `lower` is later, in which case nothing
    // allowed is complete yet and we return the upcoming one.
    const latest = latestComplete(grid, opts.now);
    if (!latest) start = lower;
    else start = lower && lower > latest.start ? lower : latest.start;
  }
  if (!start || (opts.end && start > opts.end)) return null;
  return intervalFrom(grid, start);
}

export function manualDataInterval(schedule: Schedule, at: Date, start?: Date): DataInterval {
  const grid = gridFor(schedule, start);
  // A cron that never fired before `at` has no complete interval: fall back to
  // the instant, like a manual-only DAG.
  return (grid && latestComplete(grid, at)) ?? { start: at, end: at };
}

export function intervalsBetween(schedule: Schedule, from: Date, to: Date, start?: Date): DataInterval[] {
  const grid = gridFor(schedule, start);
  if (!grid) {
    throw invalid(
      "This DAG has no schedule (manual only), so there are no data intervals to backfill. Give it a schedule, or trigger runs by hand.",
    );
  }
  if (from > to) {
    throw new SluiceError(ErrorCode.Usage, `Backfill range is empty: from ${from.toISOString()} is after to ${to.toISOString()}.`);
  }
  const out: DataInterval[] = [];
  for (let s = grid.atOrAfter(from); s && s <= to; s = out[out.length - 1].end) {
    if (out.length >= MAX_INTERVALS) {
      throw new SluiceError(
        ErrorCode.Usage,
        `Backfill from ${from.toISOString()} to ${to.toISOString()} covers more than ${MAX_INTERVALS} intervals of ${describeSchedule(schedule)}; split it into smaller ranges.`,
      );
    }
    const interval = intervalFrom(grid, s);
    if (!interval) break;
    out.push(interval);
  }
  return out;
}

const UNIT_WORDS: [number, string][] = [
  [UNIT_MS.w, "week"],
  [UNIT_MS.d, "day"],
  [UNIT_MS.h, "hour"],
  [UNIT_MS.m, "minute"],
  [UNIT_MS.s, "second"],
  [1, "millisecond"],
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function describeMs(ms: number): string {
  const parts: string[] = [];
  for (const [size, word] of UNIT_WORDS) {
    const n = Math.floor(ms / size);
    ms -= n * size;
    if (n > 0) parts.push(`${n} ${word}${n === 1 ? "" : "s"}`);
  }
  // "every hour", not "every 1 hour"; but "every 1 hour 30 minutes".
  return parts.length === 1 && parts[0].startsWith("1 ") ? parts[0].slice(2) : parts.join(" ");
}

export function describeSchedule(schedule: Schedule): string {
  if (schedule.kind === "manual") return "manual only";
  if (schedule.kind === "interval") return `every ${describeMs(schedule.everyMs)}`;
  const { expr, timezone } = schedule;
  const tz = ` (${timezone})`;
  const f = expr.split(" ");
  if (f.length === 5) {
    const [min, hour, dom, mon, dow] = f;
    const num = (s: string, max: number) => /^\d+$/.test(s) && Number(s) <= max;
    const at = () => `${hour.padStart(2, "0")}:${min.padStart(2, "0")}`;
    const dailyOnly = dom === "*" && mon === "*" && dow === "*";
    if (expr === "* * * * *") return `every minute${tz}`;
    const step = /^\*\/(\d+)$/.exec(min);
    if (step && hour === "*" && dailyOnly) return `every ${step[1]} minutes${tz}`;
    if (num(min, 59) && hour === "*" && dailyOnly) return `every hour at minute ${Number(min)}${tz}`;
    if (num(min, 59) && num(hour, 23)) {
      if (dailyOnly) return `every day at ${at()}${tz}`;
      if (dom === "*" && mon === "*" && num(dow, 7)) return `every ${DAYS[Number(dow)]} at ${at()}${tz}`;
      if (num(dom, 31) && mon === "*" && dow === "*") return `every month on day ${dom} at ${at()}${tz}`;
      if (num(dom, 31) && /^\d+$/.test(mon) && Number(mon) >= 1 && Number(mon) <= 12 && dow === "*")
        return `every year on ${MONTHS[Number(mon) - 1]} ${dom} at ${at()}${tz}`;
    }
  }
  return `cron: ${expr}${tz}`;
}
