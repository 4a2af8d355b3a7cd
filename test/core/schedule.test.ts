import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import {
  describeSchedule,
  intervalsBetween,
  manualDataInterval,
  nextDataInterval,
  parseDuration,
  parseSchedule,
  type DataInterval,
  type Schedule,
} from "../../src/core/schedule.js";

const d = (iso: string) => new Date(iso);
const iv = (start: string, end: string): DataInterval => ({ start: d(start), end: d(end) });
const iso = (i: DataInterval | null) => (i ? [i.start.toISOString(), i.end.toISOString()] : null);
const HOUR = 3_600_000;

function throwsInvalid(fn: () => unknown, ...patterns: RegExp[]): SluiceError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SluiceError, `expected a SluiceError, got ${String(caught)}`);
  assert.equal(caught.code, ErrorCode.ScheduleInvalid);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

/** Every consecutive pair shares a boundary: no gaps, no overlaps. */
function assertContiguous(list: DataInterval[]): void {
  for (let i = 0; i < list.length; i++) {
    assert.ok(list[i].start < list[i].end, `interval ${i} is empty or reversed`);
    if (i > 0) assert.equal(list[i].start.getTime(), list[i - 1].end.getTime(), `gap/overlap before interval ${i}`);
  }
}

/** Local wall-clock "HH:MM" in a timezone. */
function localTime(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
}

describe("parseDuration", () => {
  it("reads units, combinations and plain milliseconds", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("15m"), 15 * 60_000);
    assert.equal(parseDuration("1h30m"), 90 * 60_000);
    assert.equal(parseDuration("1h 30m"), 90 * 60_000);
    assert.equal(parseDuration("2d"), 2 * 24 * HOUR);
    assert.equal(parseDuration("1w"), 7 * 24 * HOUR);
    assert.equal(parseDuration(" 2H "), 2 * HOUR);
    assert.equal(parseDuration(1234), 1234);
  });

  it("rejects garbage, zero, negatives, bare numbers and fractions, naming the bad text", () => {
    for (const bad of ["", "abc", "0m", "0ms", "-5m", "5", "1.5h", "15 minutes", "m", "1y"]) {
      throwsInvalid(() => parseDuration(bad), new RegExp(JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    }
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) throwsInvalid(() => parseDuration(bad));
    throwsInvalid(() => parseDuration("soon", "retry delay"), /Invalid retry delay "soon"/, /"15m"/);
  });
});

describe("parseSchedule", () => {
  it("treats null, @manual and @once as manual", () => {
    assert.deepEqual(parseSchedule(null), { kind: "manual" });
    assert.deepEqual(parseSchedule("@manual"), { kind: "manual" });
    assert.deepEqual(parseSchedule("@once"), { kind: "manual" });
  });

  it("expands presets to cron in the given timezone (UTC by default)", () => {
    assert.deepEqual(parseSchedule("@hourly"), { kind: "cron", expr: "0 * * * *", timezone: "UTC" });
    assert.deepEqual(parseSchedule("@daily", "Europe/Berlin"), { kind: "cron", expr: "0 0 * * *", timezone: "Europe/Berlin" });
    assert.equal((parseSchedule("@midnight") as { expr: string }).expr, "0 0 * * *");
    assert.equal((parseSchedule("@weekly") as { expr: string }).expr, "0 0 * * 0");
    assert.equal((parseSchedule("@monthly") as { expr: string }).expr, "0 0 1 * *");
    assert.equal((parseSchedule("@yearly") as { expr: string }).expr, "0 0 1 1 *");
    assert.equal((parseSchedule("@annually") as { expr: string }).expr, "0 0 1 1 *");
  });

  it("reads durations as intervals and everything else as cron", () => {
    assert.deepEqual(parseSchedule("15m"), { kind: "interval", everyMs: 15 * 60_000 });
    assert.deepEqual(parseSchedule("1h30m"), { kind: "interval", everyMs: 90 * 60_000 });
    assert.deepEqual(parseSchedule("  0   2 * * *  "), { kind: "cron", expr: "0 2 * * *", timezone: "UTC" });
    assert.deepEqual(parseSchedule("*/15 * * * * *"), { kind: "cron", expr: "*/15 * * * * *", timezone: "UTC" });
  });

  it("rejects bad input with SCHEDULE_INVALID and a helpful message", () => {
    throwsInvalid(() => parseSchedule("61 * * * *"), /"61 \* \* \* \*"/, /minute/, /Accepted:/);
    const typo = throwsInvalid(() => parseSchedule("@dayly"), /"@dayly"/, /did you mean "@daily"\?/);
    assert.equal(typo.code, "SCHEDULE_INVALID");
    throwsInvalid(() => parseSchedule("every day"), /"every day"/, /cron needs 5 or 6/, /"15m"/);
    throwsInvalid(() => parseSchedule("0m"), /"0m"/, /positive/);
    throwsInvalid(() => parseSchedule(""), /Empty schedule/);
    throwsInvalid(() => parseSchedule("0 0 0 1 1 * 2030"), /7 fields/);
    throwsInvalid(() => parseSchedule("0 0 30 2 *"), /never fires/);
    throwsInvalid(() => parseSchedule("@reboot"), /reboot/);
  });

  it("rejects unknown timezones, even for schedules that do not use them", () => {
    throwsInvalid(() => parseSchedule("@daily", "Mars/Olympus_Mons"), /Unknown timezone "Mars\/Olympus_Mons"/, /Europe\/Berlin/);
    throwsInvalid(() => parseSchedule(null, "Europe/Berln"), /Unknown timezone/);
  });
});

describe("cron schedules", () => {
  const daily2 = parseSchedule("0 2 * * *");

  it("daily in UTC: catchup walks from the aligned start, one interval after another", () => {
    const opts = { start: d("2026-01-01T00:00:00Z"), catchup: true, now: d("2026-01-04T12:00:00Z") };
    const first = nextDataInterval(daily2, opts);
    assert.deepEqual(iso(first), ["2026-01-01T02:00:00.000Z", "2026-01-02T02:00:00.000Z"]);
    const second = nextDataInterval(daily2, { ...opts, last: first! });
    assert.deepEqual(iso(second), ["2026-01-02T02:00:00.000Z", "2026-01-03T02:00:00.000Z"]);
  });

  it("uses Vixie OR semantics for day-of-month and day-of-week", () => {
    // 2026-03-01 is a Sunday: the 1st OR any Monday.
    const s = parseSchedule("0 12 1 * MON");
    const starts = intervalsBetween(s, d("2026-03-01T00:00:00Z"), d("2026-04-01T23:59:00Z")).map((i) => i.start.toISOString().slice(0, 10));
    assert.deepEqual(starts, ["2026-03-01", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30", "2026-04-01"]);
    // With day-of-month "*" only the weekday filters.
    const mondays = intervalsBetween(parseSchedule("0 12 * * MON"), d("2026-03-01T00:00:00Z"), d("2026-03-10T00:00:00Z"));
    assert.deepEqual(mondays.map((i) => i.start.toISOString().slice(0, 10)), ["2026-03-02", "2026-03-09"]);
  });

  it("6-field cron has second precision", () => {
    const s = parseSchedule("*/15 * * * * *");
    const got = nextDataInterval(s, { start: d("2026-01-01T00:00:07Z"), catchup: true, now: d("2026-01-01T00:01:00Z") });
    assert.deepEqual(iso(got), ["2026-01-01T00:00:15.000Z", "2026-01-01T00:00:30.000Z"]);
    const list = intervalsBetween(s, d("2026-01-01T00:00:00Z"), d("2026-01-01T00:01:00Z"));
    assert.equal(list.length, 5);
    assertContiguous(list);
  });

  it("Europe/Berlin spring forward 2026-03-29: 02:30 does not exist, the run moves to 03:00 CEST", () => {
    const s = parseSchedule("30 2 * * *", "Europe/Berlin");
    const list = intervalsBetween(s, d("2026-03-27T00:00:00Z"), d("2026-03-30T12:00:00Z"));
    assert.deepEqual(
      list.map((i) => i.start.toISOString()),
      ["2026-03-27T01:30:00.000Z", "2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"],
    );
    assert.deepEqual(list.map((i) => localTime(i.start, "Europe/Berlin")), ["02:30", "02:30", "03:00", "02:30"]);
    assertContiguous(list);
    // The intervals either side of the shifted run are 23.5 h long (the day lost an hour).
    assert.equal(list[1].end.getTime() - list[1].start.getTime(), 23.5 * HOUR);
    assert.equal(list[2].end.getTime() - list[2].start.getTime(), 23.5 * HOUR);
  });

  it("Europe/Berlin fall back 2026-10-25: a repeated 02:30 runs once, the day's interval is 25 h", () => {
    const s = parseSchedule("30 2 * * *", "Europe/Berlin");
    const list = intervalsBetween(s, d("2026-10-24T00:00:00Z"), d("2026-10-26T12:00:00Z"));
    assert.deepEqual(
      list.map((i) => i.start.toISOString()),
      ["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"],
    );
    assertContiguous(list);
    assert.equal(list[1].end.getTime() - list[1].start.getTime(), 25 * HOUR);
    assert.ok(list.every((i) => localTime(i.start, "Europe/Berlin") === "02:30"));
  });

  it("hourly in Europe/Berlin: 25 intervals on the fall-back day, 23 on the spring-forward day", () => {
    const s = parseSchedule("@hourly", "Europe/Berlin");
    // Local day 2026-10-25 runs from 00:00 CEST (22:00Z) to 00:00 CET next day (23:00Z).
    const fall = intervalsBetween(s, d("2026-10-24T22:00:00Z"), d("2026-10-25T22:00:00Z"));
    assert.equal(fall.length, 25);
    assertContiguous(fall);
    assert.equal(fall[24].end.toISOString(), "2026-10-25T23:00:00.000Z");
    assert.ok(fall.every((i) => i.end.getTime() - i.start.getTime() === HOUR));
    const local = fall.map((i) => localTime(i.start, "Europe/Berlin"));
    assert.deepEqual(local.slice(0, 5), ["00:00", "01:00", "02:00", "02:00", "03:00"]);

    // Local day 2026-03-29 runs from 23:00Z to 22:00Z: 02:00 local never happens.
    const spring = intervalsBetween(s, d("2026-03-28T23:00:00Z"), d("2026-03-29T21:00:00Z"));
    assert.equal(spring.length, 23);
    assertContiguous(spring);
    assert.ok(!spring.some((i) => localTime(i.start, "Europe/Berlin") === "02:00"));
    assert.ok(spring.every((i) => i.end.getTime() - i.start.getTime() === HOUR));
  });

  it("catchup across the DST change walks the same contiguous intervals as a backfill", () => {
    const s = parseSchedule("30 2 * * *", "Europe/Berlin");
    const walked: DataInterval[] = [];
    const opts = { start: d("2026-03-25T00:00:00Z"), catchup: true, now: d("2026-04-02T00:00:00Z") };
    for (let next = nextDataInterval(s, opts); next && next.end <= opts.now; next = nextDataInterval(s, { ...opts, last: next })) {
      walked.push(next);
    }
    assert.equal(walked.length, 7);
    assertContiguous(walked);
    assert.deepEqual(walked.map(iso), intervalsBetween(s, opts.start, d("2026-03-31T12:00:00Z")).map(iso));
  });

  it("without a start date, begins from the latest complete interval", () => {
    for (const catchup of [true, false]) {
      const got = nextDataInterval(daily2, { catchup, now: d("2026-05-10T12:00:00Z") });
      assert.deepEqual(iso(got), ["2026-05-09T02:00:00.000Z", "2026-05-10T02:00:00.000Z"]);
    }
  });

  it("a `now` exactly on a boundary counts that interval as complete", () => {
    const got = nextDataInterval(daily2, { catchup: false, start: d("2026-01-01T00:00:00Z"), now: d("2026-05-10T02:00:00Z") });
    assert.deepEqual(iso(got), ["2026-05-09T02:00:00.000Z", "2026-05-10T02:00:00.000Z"]);
  });
});

describe("interval schedules", () => {
  const every15 = parseSchedule("15m");
  const start = d("2026-01-01T10:07:00Z");

  it("aligns to the DAG start and catchup walks every interval in order", () => {
    const now = d("2026-01-01T11:10:00Z");
    const walked: DataInterval[] = [];
    for (let next = nextDataInterval(every15, { start, catchup: true, now }); next && next.end <= now; ) {
      walked.push(next);
      next = nextDataInterval(every15, { start, catchup: true, now, last: next });
    }
    assert.deepEqual(
      walked.map((i) => i.start.toISOString().slice(11, 16)),
      ["10:07", "10:22", "10:37", "10:52"],
    );
    assertContiguous(walked);
    // The one after the walk is not complete yet: the caller waits for its end.
    const pending = nextDataInterval(every15, { start, catchup: true, now, last: walked[3] });
    assert.deepEqual(iso(pending), ["2026-01-01T11:07:00.000Z", "2026-01-01T11:22:00.000Z"]);
    assert.ok(pending!.end > now);
  });

  it("catchup false gives only the latest complete interval", () => {
    const now = d("2026-01-03T09:00:00Z");
    const got = nextDataInterval(every15, { start, catchup: false, now });
    assert.deepEqual(iso(got), ["2026-01-03T08:37:00.000Z", "2026-01-03T08:52:00.000Z"]);
    // An old last run does not cause a catch up.
    const withOldLast = nextDataInterval(every15, { start, catchup: false, now, last: iv("2026-01-01T10:07:00Z", "2026-01-01T10:22:00Z") });
    assert.deepEqual(iso(withOldLast), iso(got));
    // Never at or before the last run: once the latest exists, the next one is upcoming.
    const after = nextDataInterval(every15, { start, catchup: false, now, last: got! });
    assert.deepEqual(iso(after), ["2026-01-03T08:52:00.000Z", "2026-01-03T09:07:00.000Z"]);
  });

  it("catchup false before any interval is complete gives the upcoming first one", () => {
    const got = nextDataInterval(every15, { start, catchup: false, now: d("2026-01-01T10:10:00Z") });
    assert.deepEqual(iso(got), ["2026-01-01T10:07:00.000Z", "2026-01-01T10:22:00.000Z"]);
    const future = nextDataInterval(every15, { start, catchup: false, now: d("2025-12-01T00:00:00Z") });
    assert.deepEqual(iso(future), ["2026-01-01T10:07:00.000Z", "2026-01-01T10:22:00.000Z"]);
  });

  it("needs a start date to schedule", () => {
    throwsInvalid(() => nextDataInterval(every15, { catchup: true, now: start }), /start date/);
  });
});

describe("end date and manual schedules", () => {
  it("stops once the next interval starts after the end date", () => {
    const s = parseSchedule("@daily");
    const opts = { start: d("2026-01-01T00:00:00Z"), end: d("2026-01-03T00:00:00Z"), catchup: true, now: d("2026-02-01T00:00:00Z") };
    // An interval starting exactly at `end` is still scheduled; the next is not.
    const atEnd = nextDataInterval(s, { ...opts, last: iv("2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z") });
    assert.deepEqual(iso(atEnd), ["2026-01-03T00:00:00.000Z", "2026-01-04T00:00:00.000Z"]);
    assert.equal(nextDataInterval(s, { ...opts, last: atEnd! }), null);
    // Without catchup the latest interval (January 31st) is past the end too.
    assert.equal(nextDataInterval(s, { ...opts, catchup: false }), null);
  });

  it("manual schedules never produce scheduled intervals", () => {
    const manual: Schedule = parseSchedule(null);
    assert.equal(nextDataInterval(manual, { start: d("2026-01-01T00:00:00Z"), catchup: true, now: d("2026-06-01T00:00:00Z") }), null);
    assert.equal(nextDataInterval(manual, { catchup: false, now: d("2026-06-01T00:00:00Z") }), null);
  });
});

describe("manualDataInterval", () => {
  const at = d("2026-05-10T12:34:56Z");

  it("is the instant for manual schedules", () => {
    assert.deepEqual(iso(manualDataInterval(parseSchedule("@manual"), at)), [at.toISOString(), at.toISOString()]);
  });

  it("is the latest complete cron interval ending at or before the trigger time", () => {
    assert.deepEqual(iso(manualDataInterval(parseSchedule("0 2 * * *"), at)), ["2026-05-09T02:00:00.000Z", "2026-05-10T02:00:00.000Z"]);
    const onBoundary = manualDataInterval(parseSchedule("0 2 * * *"), d("2026-05-10T02:00:00Z"));
    assert.deepEqual(iso(onBoundary), ["2026-05-09T02:00:00.000Z", "2026-05-10T02:00:00.000Z"]);
    assert.deepEqual(
      iso(manualDataInterval(parseSchedule("@daily", "Europe/Berlin"), at)),
      ["2026-05-08T22:00:00.000Z", "2026-05-09T22:00:00.000Z"],
    );
  });

  it("aligns interval schedules to the start date (or the epoch without one)", () => {
    const s = parseSchedule("1h");
    assert.deepEqual(iso(manualDataInterval(s, at, d("2026-01-01T00:20:00Z"))), ["2026-05-10T11:20:00.000Z", "2026-05-10T12:20:00.000Z"]);
    assert.deepEqual(iso(manualDataInterval(s, at)), ["2026-05-10T11:00:00.000Z", "2026-05-10T12:00:00.000Z"]);
  });
});

describe("intervalsBetween", () => {
  it("includes intervals starting exactly on both bounds", () => {
    const list = intervalsBetween(parseSchedule("@daily"), d("2026-01-01T00:00:00Z"), d("2026-01-05T00:00:00Z"));
    assert.deepEqual(list.map((i) => i.start.toISOString().slice(0, 10)), ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]);
    assert.equal(list[4].end.toISOString(), "2026-01-06T00:00:00.000Z");
    assertContiguous(list);
  });

  it("aligns interval schedules to the start date", () => {
    const list = intervalsBetween(parseSchedule("15m"), d("2026-01-01T10:00:00Z"), d("2026-01-01T10:37:00Z"), d("2026-01-01T10:07:00Z"));
    assert.deepEqual(list.map((i) => i.start.toISOString().slice(11, 16)), ["10:07", "10:22", "10:37"]);
  });

  it("refuses manual schedules, reversed ranges and huge backfills", () => {
    throwsInvalid(() => intervalsBetween(parseSchedule(null), d("2026-01-01T00:00:00Z"), d("2026-01-02T00:00:00Z")), /no schedule/);
    assert.throws(
      () => intervalsBetween(parseSchedule("@daily"), d("2026-01-02T00:00:00Z"), d("2026-01-01T00:00:00Z")),
      (e: unknown) => e instanceof SluiceError && e.code === ErrorCode.Usage && /after/.test(e.message),
    );
    assert.throws(
      () => intervalsBetween(parseSchedule("1m"), d("2026-01-01T00:00:00Z"), d("2026-02-01T00:00:00Z"), d("2026-01-01T00:00:00Z")),
      (e: unknown) => e instanceof SluiceError && /more than 10000 intervals/.test(e.message),
    );
    // Exactly at the cap is fine.
    assert.equal(intervalsBetween(parseSchedule("1m"), d("2026-01-01T00:00:00Z"), d("2026-01-07T22:39:00Z"), d("2026-01-01T00:00:00Z")).length, 10_000);
  });
});

describe("describeSchedule", () => {
  it("uses plain words where it can", () => {
    assert.equal(describeSchedule(parseSchedule("0 2 * * *", "Europe/Berlin")), "every day at 02:00 (Europe/Berlin)");
    assert.equal(describeSchedule(parseSchedule("@hourly")), "every hour at minute 0 (UTC)");
    assert.equal(describeSchedule(parseSchedule("*/5 * * * *")), "every 5 minutes (UTC)");
    assert.equal(describeSchedule(parseSchedule("30 6 * * 1")), "every Monday at 06:30 (UTC)");
    assert.equal(describeSchedule(parseSchedule("@monthly")), "every month on day 1 at 00:00 (UTC)");
    assert.equal(describeSchedule(parseSchedule("@yearly")), "every year on Jan 1 at 00:00 (UTC)");
    assert.equal(describeSchedule(parseSchedule("15m")), "every 15 minutes");
    assert.equal(describeSchedule(parseSchedule("1h")), "every hour");
    assert.equal(describeSchedule(parseSchedule("1h30m")), "every 1 hour 30 minutes");
    assert.equal(describeSchedule(parseSchedule(null)), "manual only");
  });

  it("falls back to the expression for complex cron", () => {
    assert.equal(describeSchedule(parseSchedule("0 9-17 * * 1-5", "America/New_York")), "cron: 0 9-17 * * 1-5 (America/New_York)");
    assert.equal(describeSchedule(parseSchedule("*/15 * * * * *")), "cron: */15 * * * * * (UTC)");
  });
});
