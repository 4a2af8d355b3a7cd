/**
 * One admin section: a card with its heading, the "New …" button (after a
 * pager where the list is paged), the list's load error, and the list in its
 * loading / empty / loaded states. Dialogs go in as children.
 */
import type { ReactNode } from "react";
import { ErrorBanner, ListBody, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";

interface AdminSectionProps<T> {
  title: string;
  newLabel: string;
  onNew: () => void;
  pager?: ReactNode;
  query: { isPending: boolean; error: unknown; refetch: () => unknown };
  items: T[] | undefined;
  /** Columns of the skeleton shown while the list loads. */
  skeletonCols: number;
  empty: ReactNode;
  table: (items: T[]) => ReactNode;
  children?: ReactNode;
}

export function AdminSection<T>({ title, newLabel, onNew, pager, query, items, skeletonCols, empty, table, children }: AdminSectionProps<T>) {
  return (
    <section className="card">
      <div className="card-head">
        <h2>{title}</h2>
        <div className="btn-group">
          {pager}
          <button type="button" className="btn btn-primary btn-sm" onClick={onNew}>
            <Icon name="plus" /> {newLabel}
          </button>
        </div>
      </div>
      <ErrorBanner error={query.error} onRetry={() => void query.refetch()} />
      <ListBody pending={query.isPending} items={items} loading={<SkeletonRows rows={3} cols={skeletonCols} />} empty={empty}>
        {table}
      </ListBody>
      {children}
    </section>
  );
}
