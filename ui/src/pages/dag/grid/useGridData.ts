/**
 * Pages of the grid endpoint, fetched as the grid scrolls. Columns are runs
 * oldest → newest (column 0 is the oldest run), so a new run appends a column
 * and existing column indices never move; the endpoint pages newest-first
 * by offset, so column c is offset (totalRuns - 1 - c).
 *
 * Each page remembers the totalRuns it was fetched with: right after a new
 * run, pages fetched before it still place their runs correctly until they
 * are refetched.
 */
import { useQueries, useQuery } from "@tanstack/react-query";
import { useCallback, useMemo } from "react";
import { api, seg } from "../../../api/client";
import { keys } from "../../../api/keys";
import type { Grid, GridRun } from "../../../api/types";

export const GRID_PAGE = 200;
const PREFETCH = GRID_PAGE / 2;

function fetchPage(dagId: string, page: number) {
  return api<Grid>(`/dags/${seg(dagId)}/grid`, { query: { offset: page * GRID_PAGE, limit: GRID_PAGE } });
}

/** Stable (module-level) so react-query keeps the combined result's identity while nothing changed. */
function combinePages(results: { data?: Grid; isFetching: boolean; error: unknown }[]) {
  return { data: results.map((r) => r.data), fetching: results.some((r) => r.isFetching), error: results.find((r) => r.error)?.error ?? null };
}

export interface GridData {
  first: ReturnType<typeof useQuery<Grid>>;
  total: number;
  tasks: Grid["tasks"];
  runAt: (col: number) => GridRun | undefined;
  /** Column of a run id among loaded pages, or -1. */
  colOf: (runId: string) => number;
  fetching: boolean;
  error: unknown;
}

export function useGridData(dagId: string, visible: { start: number; end: number } | null): GridData {
  const first = useQuery({ queryKey: keys.gridPage(dagId, 0, GRID_PAGE), queryFn: () => fetchPage(dagId, 0) });
  const total = first.data?.totalRuns ?? 0;

  const start = visible?.start ?? -1;
  const end = visible?.end ?? -1;
  const pages = useMemo(() => {
    if (start < 0 || total === 0) return [] as number[];
    // Half a page of margin on each side: the next page is usually loaded before it scrolls into view.
    const hi = Math.min(total - 1, total - 1 - start + PREFETCH);
    const lo = Math.max(0, total - 1 - end - PREFETCH);
    const out: number[] = [];
    for (let p = Math.floor(lo / GRID_PAGE); p <= Math.floor(hi / GRID_PAGE); p++) if (p !== 0) out.push(p);
    return out;
  }, [start, end, total]);

  const more = useQueries({
    queries: pages.map((p) => ({
      queryKey: keys.gridPage(dagId, p, GRID_PAGE),
      queryFn: () => fetchPage(dagId, p),
      staleTime: 60_000,
    })),
    combine: combinePages,
  });

  const byPage = useMemo(() => {
    const m = new Map<number, Grid>();
    if (first.data) m.set(0, first.data);
    more.data.forEach((d, i) => d && m.set(pages[i], d));
    return m;
  }, [first.data, pages, more.data]);

  const runAt = useCallback(
    (col: number) => {
      const offset = total - 1 - col;
      if (offset < 0) return undefined;
      const p = Math.floor(offset / GRID_PAGE);
      for (const cand of [p, p - 1, p + 1]) {
        const g = byPage.get(cand);
        if (!g) continue;
        const i = g.totalRuns - 1 - col - cand * GRID_PAGE;
        if (i >= 0 && i < g.runs.length) return g.runs[i];
      }
      return undefined;
    },
    [byPage, total],
  );

  const colOf = useCallback(
    (runId: string) => {
      for (const [p, g] of byPage) {
        const i = g.runs.findIndex((r) => r.runId === runId);
        if (i >= 0) return g.totalRuns - 1 - (p * GRID_PAGE + i);
      }
      return -1;
    },
    [byPage],
  );

  return {
    first,
    total,
    tasks: first.data?.tasks ?? [],
    runAt,
    colOf,
    fetching: first.isFetching || more.fetching,
    error: first.error ?? more.error,
  };
}
