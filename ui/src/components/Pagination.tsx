/** "1–25 of 312" with previous/next buttons. */
import { Icon } from "./Icon";

export function Pagination({ offset, limit, total, onChange, label = "items" }: { offset: number; limit: number; total: number; onChange: (offset: number) => void; label?: string }) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label="Pagination">
      <span className="muted">
        {from}–{to} of {total} {label}
      </span>
      <button type="button" className="icon-btn" aria-label="Previous page" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>
        <Icon name="chevronLeft" />
      </button>
      <button type="button" className="icon-btn" aria-label="Next page" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
        <Icon name="chevronRight" />
      </button>
    </nav>
  );
}
