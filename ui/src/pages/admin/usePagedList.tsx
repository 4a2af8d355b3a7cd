/**
 * A paged admin list (variables, connections): one page of PAGE items, the
 * previous page kept on screen while the next loads, and the pager that
 * turns the pages.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client";
import { keys } from "../../api/keys";
import { Pagination } from "../../components/Pagination";

const PAGE = 50;

export function usePagedList<T>(section: "variables" | "connections") {
  const [offset, setOffset] = useState(0);
  const query = useQuery({
    queryKey: [...keys.admin(section), offset],
    queryFn: () => api<{ [K in typeof section]?: T[] } & { total: number }>(`/${section}`, { query: { limit: PAGE, offset } }),
    placeholderData: keepPreviousData,
  });
  const pager = query.data && <Pagination offset={offset} limit={PAGE} total={query.data.total} onChange={setOffset} label={section} />;
  return { query, items: query.data?.[section], pager };
}
