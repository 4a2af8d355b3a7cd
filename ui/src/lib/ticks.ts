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
