/** Tasks in topological order (upstream first), ties in declaration order, as the grid endpoint orders them. */
export function topoOrder<T extends { taskId: string; upstream: string[] }>(tasks: T[]): T[] {
  const ids = new Set(tasks.map((t) => t.taskId));
  const placed = new Set<string>();
  const out: T[] = [];
  let progress = true;
  while (progress && out.length < tasks.length) {
    progress = false;
    for (const t of tasks) {
      if (placed.has(t.taskId) || !t.upstream.every((u) => placed.has(u) || !ids.has(u))) continue;
      placed.add(t.taskId);
      out.push(t);
      progress = true;
    }
  }
  for (const t of tasks) if (!placed.has(t.taskId)) out.push(t);
  return out;
}
