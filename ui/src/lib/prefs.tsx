/**
 * Viewer preferences kept in localStorage: time zone (local or UTC) and
 * colour theme (follow the system, or forced light/dark).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { load, save } from "./storage";
import { formatTime, type TimeZoneMode } from "./time";

export type ThemeMode = "system" | "light" | "dark";

interface Prefs {
  tz: TimeZoneMode;
  setTz: (tz: TimeZoneMode) => void;
  theme: ThemeMode;
  /** The theme actually shown (system resolved). */
  resolvedTheme: "light" | "dark";
  setTheme: (t: ThemeMode) => void;
  fmt: (v: string | number | Date | null | undefined, kind?: "full" | "short" | "date" | "time") => string;
}

const PrefsContext = createContext<Prefs | null>(null);
const TZ_KEY = "sluice.tz";
const THEME_KEY = "sluice.theme";

function systemDark(): boolean {
  return typeof window !== "undefined" && window.matchMedia?.("(prefers-color-scheme: dark)").matches === true;
}

export function PrefsProvider({ children }: { children: ReactNode }) {
  const [tz, setTzState] = useState<TimeZoneMode>(() => (load(TZ_KEY) === "utc" ? "utc" : "local"));
  const [theme, setThemeState] = useState<ThemeMode>(() => {
    const t = load(THEME_KEY);
    return t === "light" || t === "dark" ? t : "system";
  });
  const [sysDark, setSysDark] = useState(systemDark);

  useEffect(() => {
    const mq = window.matchMedia?.("(prefers-color-scheme: dark)");
    if (!mq) return;
    const on = () => setSysDark(mq.matches);
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, []);

  const resolvedTheme = theme === "system" ? (sysDark ? "dark" : "light") : theme;
  useEffect(() => {
    document.documentElement.dataset.theme = resolvedTheme;
    document.documentElement.style.colorScheme = resolvedTheme;
  }, [resolvedTheme]);

  const setTz = useCallback((v: TimeZoneMode) => {
    setTzState(v);
    save(TZ_KEY, v);
  }, []);
  const setTheme = useCallback((v: ThemeMode) => {
    setThemeState(v);
    save(THEME_KEY, v === "system" ? null : v);
  }, []);
  const fmt = useCallback<Prefs["fmt"]>((v, kind) => formatTime(v, tz, kind), [tz]);

  const value = useMemo(() => ({ tz, setTz, theme, resolvedTheme, setTheme, fmt }), [tz, setTz, theme, resolvedTheme, setTheme, fmt]);
  return <PrefsContext.Provider value={value}>{children}</PrefsContext.Provider>;
}

export function usePrefs(): Prefs {
  const p = useContext(PrefsContext);
  if (!p) throw new Error("usePrefs outside PrefsProvider");
  return p;
}
