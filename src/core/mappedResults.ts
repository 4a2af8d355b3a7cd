/**
 * Results as downstream tasks see them: an unmapped task's result, or a
 * mapped task's results as one array in map index order (null where an
 * instance returned nothing or was skipped; [] when it expanded to nothing).
 */
export interface ResultRow {
  task_id: string;
  map_index: number;
  result: string | null;
}

export function collectResults(rows: readonly ResultRow[], taskIds: readonly string[], isMapped: (taskId: string) => boolean): Record<string, unknown> {
  const parse = (json: string | null): unknown => (json != null ? JSON.parse(json) : undefined);
  const out: Record<string, unknown> = {};
  for (const id of taskIds) {
    const mine = rows.filter((r) => r.task_id === id);
    if (isMapped(id)) {
      // The -1 placeholder of a task that expanded to nothing (skipped) is not an element.
      out[id] = mine
        .filter((r) => r.map_index >= 0)
        .sort((a, b) => a.map_index - b.map_index)
        .map((r) => parse(r.result) ?? null);
    } else {
      out[id] = parse(mine.find((r) => r.map_index === -1)?.result ?? null);
    }
  }
  return out;
}
