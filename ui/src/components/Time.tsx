/**
 * A timestamp, formatted in the chosen time zone. Relative mode shows
 * "5 minutes ago" with the exact time on hover; the machine-readable value
 * is in <time dateTime>.
 */
import { useEffect, useState } from "react";
import { usePrefs } from "../lib/prefs";
import { formatRelative } from "../lib/time";

/** Re-render every `ms` so relative times stay true. One interval per mounted component is cheap at this size. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function Time({ value, relative = false, kind = "full" }: { value: string | null | undefined; relative?: boolean; kind?: "full" | "short" | "date" | "time" }) {
  const { fmt } = usePrefs();
  const now = useNow(relative ? 30_000 : 3_600_000);
  if (!value) return <span className="muted">—</span>;
  const exact = fmt(value, "full");
  return (
    <time dateTime={value} title={exact} className="time">
      {relative ? formatRelative(value, now) : fmt(value, kind)}
    </time>
  );
}
