/**
 * The DAG list: search ("/" focuses it), tag and paused filters, pagination,
 * and per DAG its schedule, next run, latest run states, pause switch and
 * trigger button. Filters live in the URL so a filtered list can be shared.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { api } from "../../api/client";
import { keys } from "../../api/keys";
import type { DagList } from "../../api/types";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { ImportErrorsBanner } from "../../components/ImportErrorsBanner";
import { Pagination } from "../../components/Pagination";
import { TriggerDialog } from "../../components/TriggerDialog";
import { DagRow } from "./DagRow";

const PAGE = 25;

function useSlashToFocus(ref: React.RefObject<HTMLInputElement | null>) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, [contenteditable=true], dialog")) return;
      e.preventDefault();
      ref.current?.focus();
      ref.current?.select();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [ref]);
}

export function DagListPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const tag = params.get("tag");
  const paused = params.get("paused");
  const offset = Number(params.get("offset") ?? 0) || 0;
  const order = params.get("order") === "desc" ? "desc" : "asc";
  const [text, setText] = useState(q);
  const [triggering, setTriggering] = useState<string | null>(null);
  const search = useRef<HTMLInputElement>(null);
  useSlashToFocus(search);

  const update = useCallback(
    (changes: Record<string, string | null>) =>
      setParams(
        (old) => {
          const next = new URLSearchParams(old);
          for (const [k, v] of Object.entries(changes)) if (v === null || v === "") next.delete(k);
          else next.set(k, v);
          if (!("offset" in changes)) next.delete("offset");
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );

  // Search as you type, without a request per keystroke.
  useEffect(() => {
    if (text === q) return;
    const t = setTimeout(() => update({ q: text }), 250);
    return () => clearTimeout(t);
  }, [text, q, update]);

  const query = { q: q || undefined, tag: tag ?? undefined, paused: paused ?? undefined, order, limit: PAGE, offset };
  const list = useQuery({
    queryKey: keys.dagList(query),
    queryFn: () => api<DagList>("/dags", { query }),
    placeholderData: keepPreviousData,
  });
  const onTag = useCallback((t: string) => update({ tag: tag === t ? null : t }), [tag, update]);
  const onTrigger = useCallback((id: string) => setTriggering(id), []);
  const filtered = !!(q || tag || paused);

  return (
    <main className="page">
      <div className="page-header">
        <div className="page-title">
          <h1>DAGs</h1>
          <p className="muted">Every pipeline Sluice knows, its schedule and how its latest runs went.</p>
        </div>
      </div>
      <ImportErrorsBanner initiallyOpen={params.get("importErrors") === "1"} />
      <div className="toolbar">
        <label className="search" style={{ width: 340 }}>
          <span className="sr-only">Search DAGs</span>
          <Icon name="search" />
          <input
            ref={search}
            className="input"
            type="search"
            placeholder="Search id, description, owner"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                setText("");
                update({ q: null });
              }
            }}
          />
          {!text && <kbd aria-hidden="true">/</kbd>}
        </label>
        <div className="segmented" role="group" aria-label="Show">
          {[
            ["", "All"],
            ["false", "Active"],
            ["true", "Paused"],
          ].map(([v, label]) => (
            <button key={label} type="button" className={`segmented-btn ${(paused ?? "") === v ? "active" : ""}`} aria-pressed={(paused ?? "") === v} onClick={() => update({ paused: v || null })}>
              {label}
            </button>
          ))}
        </div>
        {tag && (
          <button type="button" className="chip chip-active" onClick={() => update({ tag: null })} aria-label={`Clear tag filter ${tag}`}>
            <Icon name="filter" size={12} /> tag: {tag} <Icon name="close" size={12} />
          </button>
        )}
        {filtered && (
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() => {
              setText("");
              setParams({}, { replace: true });
            }}
          >
            Clear filters
          </button>
        )}
        <div className="toolbar-spacer" />
        {list.data && <Pagination offset={offset} limit={PAGE} total={list.data.total} label="DAGs" onChange={(o) => update({ offset: String(o) })} />}
      </div>
      <div className="card">
        <ErrorBanner error={list.error} title="Could not load the DAGs" onRetry={() => void list.refetch()} />
        {list.isPending ? (
          <SkeletonRows rows={8} cols={7} />
        ) : list.data && list.data.dags.length === 0 ? (
          filtered ? (
            <EmptyState title="No DAG matches these filters" icon="search">
              Try another search, or clear the filters.
            </EmptyState>
          ) : (
            <EmptyState title="No DAGs yet" icon="layers">
              Put a DAG file (<code>dags/*.ts</code>) in the DAG folder; Sluice imports it on its next scan. <code>npx sluice init</code> scaffolds a project with one.
            </EmptyState>
          )
        ) : list.data ? (
          <div className="table-wrap">
            <table className="table dag-table" aria-busy={list.isFetching}>
              <thead>
                <tr>
                  <th scope="col">
                    <span className="sr-only">Paused</span>
                  </th>
                  <th scope="col" aria-sort={order === "asc" ? "ascending" : "descending"}>
                    <button type="button" className="th-sort" onClick={() => update({ order: order === "asc" ? "desc" : null })}>
                      DAG <Icon name={order === "asc" ? "arrowUp" : "arrowDown"} size={12} />
                      <span className="sr-only">, sorted {order === "asc" ? "A to Z" : "Z to A"}; click to reverse</span>
                    </button>
                  </th>
                  <th scope="col">Owner</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Schedule</th>
                  <th scope="col">Next run</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Recent runs</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.dags.map((d) => (
                  <DagRow key={d.dagId} dag={d} activeTag={tag} onTag={onTag} onTrigger={onTrigger} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
      {triggering && <TriggerDialog dagId={triggering} open onClose={() => setTriggering(null)} />}
    </main>
  );
}
