/**
 * The frame around every screen: top bar (navigation, import-error badge,
 * scheduler warning, live status, time zone, theme, user menu) and the
 * single live-event subscription that keeps all screens current.
 */
import type { ReactNode } from "react";
import { Link, NavLink, useNavigate } from "react-router";
import { useAuth } from "../api/auth";
import { useLiveEvents, type LiveStatus } from "../api/events";
import { useImportErrors } from "../api/hooks";
import { usePrefs, type ThemeMode } from "../lib/prefs";
import { zoneLabel } from "../lib/time";
import { Icon } from "./Icon";
import { Logo } from "./Logo";
import { Menu } from "./Menu";
import { SchedulerWarning } from "./SchedulerWarning";

const LIVE_TEXT: Record<LiveStatus, string> = {
  live: "Live: screens update as runs change",
  connecting: "Connecting to live updates…",
  offline: "Live updates disconnected; retrying",
};

const NEXT_THEME: Record<ThemeMode, ThemeMode> = { system: "dark", dark: "light", light: "system" };
const THEME_TEXT: Record<ThemeMode, string> = { system: "Theme: follows the system", dark: "Theme: dark", light: "Theme: light" };

export function Shell({ children }: { children: ReactNode }) {
  const { me, can, logout } = useAuth();
  const live = useLiveEvents(!!me);
  const { tz, setTz, theme, setTheme } = usePrefs();
  const importErrors = useImportErrors();
  const errorCount = importErrors.data?.importErrors.length ?? 0;
  const navigate = useNavigate();

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Sluice home">
          <Logo size={24} />
          <span className="brand-name">Sluice</span>
        </Link>
        <nav className="topnav" aria-label="Main">
          <NavLink to="/" end className={({ isActive }) => `topnav-link ${isActive ? "active" : ""}`}>
            DAGs
          </NavLink>
          <NavLink to="/datasets" className={({ isActive }) => `topnav-link ${isActive ? "active" : ""}`}>
            Datasets
          </NavLink>
          <NavLink to="/spark" className={({ isActive }) => `topnav-link ${isActive ? "active" : ""}`}>
            Spark
          </NavLink>
          <NavLink to="/autoscaler" className={({ isActive }) => `topnav-link ${isActive ? "active" : ""}`}>
            Autoscaler
          </NavLink>
          <NavLink to="/alerts" className={({ isActive }) => `topnav-link ${isActive ? "active" : ""}`}>
            Alerts
          </NavLink>
          {can("admin") && (
            <NavLink to="/admin" className={({ isActive }) => `topnav-link ${isActive ? "active" : ""}`}>
              Admin
            </NavLink>
          )}
        </nav>
        <div className="topbar-right">
          {errorCount > 0 && (
            <Link to="/?importErrors=1" className="badge-error" title="DAG files that failed to import" data-testid="import-error-badge">
              <Icon name="alert" size={14} />
              {errorCount} import {errorCount === 1 ? "error" : "errors"}
            </Link>
          )}
          <SchedulerWarning enabled={!!me} />
          <span className={`live live-${live}`} title={LIVE_TEXT[live]} role="status" aria-label={LIVE_TEXT[live]}>
            <span className="live-dot" aria-hidden="true" />
            <span className="live-text">{live === "live" ? "Live" : live === "connecting" ? "Connecting" : "Offline"}</span>
          </span>
          <button
            type="button"
            className="btn btn-ghost btn-sm tz-toggle"
            onClick={() => setTz(tz === "utc" ? "local" : "utc")}
            aria-label={`Times shown in ${tz === "utc" ? "UTC" : `local time (${zoneLabel("local")})`}; switch to ${tz === "utc" ? "local time" : "UTC"}`}
            title="Switch between local time and UTC"
          >
            <Icon name="globe" />
            <span>{tz === "utc" ? "UTC" : zoneLabel("local")}</span>
          </button>
          <button type="button" className="icon-btn" onClick={() => setTheme(NEXT_THEME[theme])} aria-label={`${THEME_TEXT[theme]}; change`} title={THEME_TEXT[theme]}>
            <Icon name={theme === "system" ? "monitor" : theme === "dark" ? "moon" : "sun"} />
          </button>
          <Menu
            label="account menu"
            button={
              <span className="user-button">
                <span className="avatar" aria-hidden="true">
                  {me?.user.username.slice(0, 1).toUpperCase()}
                </span>
                <span className="user-name">{me?.user.username}</span>
                <Icon name="chevronDown" size={14} />
              </span>
            }
            header={
              <>
                <strong>{me?.user.username}</strong>
                <span className="muted">Role: {me?.user.role}</span>
              </>
            }
            items={[
              ...(can("admin") ? [{ label: "Admin", onSelect: () => navigate("/admin") }] : []),
              { label: "API docs", onSelect: () => window.open("/api/v1/docs", "_blank", "noopener") },
              { label: "Sign out", onSelect: () => void logout().then(() => navigate("/")) },
            ]}
          />
        </div>
      </header>
      <div id="main" className="main" tabIndex={-1}>
        {children}
      </div>
    </div>
  );
}
