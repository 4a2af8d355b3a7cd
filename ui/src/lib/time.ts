/**
 * Every timestamp the UI shows goes through these formatters, so switching
 * between the viewer's time zone and UTC changes all of them at once.
 */
export type TimeZoneMode = "local" | "utc";

const cache = new Map<string, Intl.DateTimeFormat>();
function formatter(mode: TimeZoneMode, kind: "full" | "short" | "date" | "time"): Intl.DateTimeFormat {
  const key = `${mode}:${kind}`;
  let f = cache.get(key);
  if (!f) {
    const base: Intl.DateTimeFormatOptions = { hourCycle: "h23", timeZone: mode === "utc" ? "UTC" : undefined };
    const opts: Intl.DateTimeFormatOptions =
      kind === "full"
        ? { ...base, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }
        : kind === "short"
          ? { ...base, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
          : kind === "date"
            ? { ...base, year: "numeric", month: "2-digit", day: "2-digit" }
            : { ...base, hour: "2-digit", minute: "2-digit", second: "2-digit" };
    f = new Intl.DateTimeFormat("en-CA", opts);
    cache.set(key, f);
  }
  return f;
}

const toDate = (v: string | number | Date) => (v instanceof Date ? v : new Date(v));

/** "2026-03-01 14:05:09" (+ " UTC" in UTC mode): sortable, unambiguous. */
export function formatTime(v: string | number | Date | null | undefined, mode: TimeZoneMode, kind: "full" | "short" | "date" | "time" = "full"): string {
  if (v === null || v === undefined) return "—";
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return "—";
  const s = formatter(mode, kind).format(d).replace(",", "");
  return mode === "utc" && kind !== "date" ? `${s} UTC` : s;
}

export function zoneLabel(mode: TimeZoneMode): string {
  if (mode === "utc") return "UTC";
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? "Local";
  } catch {
    return "Local";
  }
}

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
/** "3 minutes ago", "in 2 hours". */
export function formatRelative(v: string | number | Date, now = Date.now()): string {
  const diff = toDate(v).getTime() - now;
  const abs = Math.abs(diff);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["year", 365 * 86_400_000],
    ["month", 30 * 86_400_000],
    ["week", 7 * 86_400_000],
    ["day", 86_400_000],
    ["hour", 3_600_000],
    ["minute", 60_000],
    ["second", 1000],
  ];
  for (const [unit, ms] of units) if (abs >= ms || unit === "second") return rtf.format(Math.round(diff / ms), unit);
  return "";
}

/** "1h 02m", "3m 07s", "840 ms". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Duration between two timestamps; a missing end means "still going" (now). */
export function spanMs(start: string | null | undefined, end: string | null | undefined, now = Date.now()): number | null {
  if (!start) return null;
  const s = Date.parse(start);
  const e = end ? Date.parse(end) : now;
  return Number.isFinite(s) && Number.isFinite(e) ? Math.max(0, e - s) : null;
}
