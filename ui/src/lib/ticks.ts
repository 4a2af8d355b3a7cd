/** "Nice" time-axis ticks for a span: steps of 10 ms … 1/2/5/10/15/30 s, minutes, hours or days. */
const STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => Math.round(s * 1000));

export function timeTicks(span: number, maxTicks = 8): number {
  for (const s of STEPS) if (span / s <= maxTicks) return s;
  return STEPS[STEPS.length - 1];
}

/** Label of an offset from the start: "0s", "1m 30s", "2h". */
export function offsetLabel(ms: number): string {
  if (ms === 0) return "0";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000 && ms % 1000 !== 0) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
}

const S = 1000;
const M = 60 * S;
const HR = 60 * M;
/**
 * Steps of a duration axis: 1/2/5 × 10^n of a unit, stopping before a step
 * would make odd labels in that unit (50 s ticks read "1m 40s", 50 min ticks
 * "1h 40m"), where the next unit takes over.
 */
const DURATION_STEPS = [
  ...[1, 2, 5, 10, 20, 50, 100, 200, 500],
  ...[1, 2, 5, 10, 20].map((n) => n * S),
  ...[1, 2, 5, 10, 20].map((n) => n * M),
  ...[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].map((n) => n * HR),
];

export interface DurationAxis {
  /** The axis' top value: a whole number of steps, at least `max`. */
  top: number;
  ticks: number[];
}

/** A duration axis from 0 covering `max` ms with at most `maxIntervals` nice steps: ticks 0, 20m, 40m, 1h — never 44m 20s. */
export function durationAxis(max: number, maxIntervals = 5): DurationAxis {
  const span = Math.max(1, max);
  const step = DURATION_STEPS.find((s) => span / s <= maxIntervals) ?? Math.ceil(span / maxIntervals / HR) * HR;
  const n = Math.max(1, Math.ceil(span / step - 1e-9));
  return { top: n * step, ticks: Array.from({ length: n + 1 }, (_, i) => i * step) };
}

/** A count axis from 0 covering `max` with 1/2/5 × 10^n steps: 0, 2, 4, 6 — or 0, 200, 400. At least 1 at the top. */
export function countAxis(max: number, maxIntervals = 4): { top: number; ticks: number[] } {
  const span = Math.max(1, max);
  let step = 1;
  for (let p = 1; ; p *= 10) {
    const s = [1, 2, 5].map((m) => m * p).find((c) => span / c <= maxIntervals);
    if (s !== undefined) {
      step = s;
      break;
    }
  }
  const n = Math.max(1, Math.ceil(span / step - 1e-9));
  return { top: n * step, ticks: Array.from({ length: n + 1 }, (_, i) => i * step) };
}
