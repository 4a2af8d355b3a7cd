/**
 * URLs of screens other screens link to: a task instance on its DAG page
 * (the grid with the task panel open: ?run=…&task=…[&mapIndex=…]) and the
 * Spark page (?conn=…[&app=…][&driver=…]).
 */

/** The DAG page's task panel for one task instance; mapIndex only for a mapped instance (>= 0). */
export function taskInstanceHref(t: { dagId: string; runId: string; taskId: string; mapIndex?: number }): string {
  const q = new URLSearchParams({ run: t.runId, task: t.taskId });
  if (t.mapIndex !== undefined && t.mapIndex >= 0) q.set("mapIndex", String(t.mapIndex));
  return `/dags/${encodeURIComponent(t.dagId)}/grid?${q.toString()}`;
}

/** The Spark page, on one connection, with an application and a driver highlighted when given. */
export function sparkHref(opts: { conn?: string | null; app?: string | null; driver?: string | null } = {}): string {
  const q = new URLSearchParams();
  if (opts.conn) q.set("conn", opts.conn);
  if (opts.app) q.set("app", opts.app);
  if (opts.driver) q.set("driver", opts.driver);
  const s = q.toString();
  return s ? `/spark?${s}` : "/spark";
}
