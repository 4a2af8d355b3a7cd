/** Loading, empty and error states, so every screen says what is going on. */
import type { ReactNode } from "react";
import { errorMessage } from "../api/client";
import { Icon } from "./Icon";

export function ErrorBanner({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert">
      <Icon name="alert" />
      <div className="banner-body">
        {title && <strong>{title}</strong>}
        <span>{errorMessage(error)}</span>
      </div>
      {onRetry && (
        <button type="button" className="btn btn-sm" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, icon = "info", heading }: { title: string; children?: ReactNode; icon?: Parameters<typeof Icon>[0]["name"]; heading?: "h1" | "h2" }) {
  const Title = heading ?? "p";
  return (
    <div className="empty">
      <Icon name={icon} size={28} />
      <Title className="empty-title">{title}</Title>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

export function Skeleton({ width, height = 14, className }: { width?: number | string; height?: number | string; className?: string }) {
  return <span className={`skeleton ${className ?? ""}`} style={{ width, height }} aria-hidden="true" />;
}

/** Rows of skeleton bars standing in for a table while it loads. */
export function SkeletonRows({ rows = 6, cols = 5 }: { rows?: number; cols?: number }) {
  return (
    <div className="skeleton-rows" role="status" aria-label="Loading">
      {Array.from({ length: rows }, (_, r) => (
        <div className="skeleton-row" key={r}>
          {Array.from({ length: cols }, (_, c) => (
            <Skeleton key={c} width={`${c === 0 ? 22 : 100 / cols - 4}%`} />
          ))}
        </div>
      ))}
    </div>
  );
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}

/**
 * A list from a query in its three states: `loading` until the first answer,
 * `empty` when it has no items, else the items as `children` renders them
 * (nothing while the query has failed: its ErrorBanner says why).
 */
export function ListBody<T>({ pending, items, loading, empty, children }: { pending: boolean; items: T[] | undefined; loading: ReactNode; empty: ReactNode; children: (items: T[]) => ReactNode }) {
  if (pending) return loading;
  if (!items) return null;
  return items.length === 0 ? empty : children(items);
}
