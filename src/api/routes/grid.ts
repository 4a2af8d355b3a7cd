/**
 * GET /dags/{dagId}/grid: what the UI's grid view draws (runs as columns,
 * tasks as rows, one coloured cell per task instance), in one answer.
 *
 * Built for long histories: two queries whatever the history's length, one
 * page of runs from the dag_run (dag_id, logical_date) index and the task
 * instances of just those runs (five narrow columns, through the task_instance
 * (run_pk, …) unique index), plus a count for the pager. 100 runs of a
 * 50-task DAG is 5,000 small rows.
 */
import { z } from "zod";
import type { DagSpec, TaskSpec } from "../../core/dagSpec.js";
import { ErrorCode } from "../../core/errors.js";
import { dagSpecOf } from "../../store/dagQueries.js";
import type { GridRunRow } from "../../store/runQueries.js";
import type { GridCellRow } from "../../store/taskQueries.js";
import { notFound } from "../errors.js";
import { DagIdParams, errors, iso, MaybeTimestamp, queryInt, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const GridTask = z.object({
  taskId: z.string(),
  kind: z.string(),
  upstream: z.array(z.string()),
  triggerRule: z.string(),
  mapped: z.boolean().describe("True when the task has mapped instances (map index ≥ 0) in the runs of this page."),
});

const Cell = z
  .object({
    state: z.string().describe("The instance's state; for a mapped task, the most telling state of its instances."),
    tryNumber: z.number().describe("Tries started (for a mapped task: the most of any instance)."),
    mapCount: z.number().optional().describe("Mapped tasks only: number of instances."),
    mapStates: z.record(z.string(), z.number()).optional().describe("Mapped tasks only: instances per state."),
  })
  .nullable()
  .describe("Null when the run has no instance of the task (it was created from another DAG version).");

const GridRun = z.object({
  runId: z.string(),
  runType: z.string(),
  state: z.string(),
  logicalDate: Timestamp,
  startDate: MaybeTimestamp,
  endDate: MaybeTimestamp,
  versionHash: z.string(),
  durationMs: z.number().nullable().describe("end - start, once the run has ended."),
  cells: z.array(Cell).describe("One per entry of `tasks`, in the same order."),
});

const Grid = z.object({
  dagId: z.string(),
  totalRuns: z.number(),
  offset: z.number(),
  tasks: z.array(GridTask).describe("The DAG's current tasks in topological order (upstream before downstream)."),
  runs: z.array(GridRun).describe("Newest logical date first."),
});

/**
 * Tasks in topological order; among tasks whose upstream is done, the order of
 * declaration, so the grid's rows read like the DAG file. A cycle cannot be
 * stored (the parser refuses it); if one were, its tasks come last.
 */
export function topologicalTasks(spec: DagSpec): TaskSpec[] {
  const ids = new Set(spec.tasks.map((t) => t.id));
  const placed = new Set<string>();
  const out: TaskSpec[] = [];
  let progress = true;
  while (progress && out.length < spec.tasks.length) {
    progress = false;
    for (const t of spec.tasks) {
      if (placed.has(t.id) || !t.upstream.every((u) => placed.has(u) || !ids.has(u))) continue;
      placed.add(t.id);
      out.push(t);
      progress = true;
    }
  }
  for (const t of spec.tasks) if (!placed.has(t.id)) out.push(t);
  return out;
}

/** For a mapped task's cell: the state that says most about its instances (something running beats something failed beats done). */
const STATE_PRIORITY = ["running", "queued", "up_for_retry", "scheduled", "failed", "upstream_failed", "none", "success", "skipped"];
const rank = (s: string) => {
  const i = STATE_PRIORITY.indexOf(s);
  return i < 0 ? STATE_PRIORITY.length : i;
};

type CellJson = z.output<typeof Cell>;

/** One cell from a task's instances in one run: the unmapped instance, or the aggregate of the mapped ones. */
function cellOf(rows: GridCellRow[] | undefined): CellJson {
  if (!rows || rows.length === 0) return null;
  const mapped = rows.filter((r) => r.map_index >= 0);
  if (mapped.length === 0) return { state: rows[0].state, tryNumber: rows[0].try_number };
  const mapStates: Record<string, number> = {};
  let state = mapped[0].state;
  let tryNumber = 0;
  for (const r of mapped) {
    mapStates[r.state] = (mapStates[r.state] ?? 0) + 1;
    if (rank(r.state) < rank(state)) state = r.state;
    tryNumber = Math.max(tryNumber, r.try_number);
  }
  return { state, tryNumber, mapCount: mapped.length, mapStates };
}

export function buildGridRuns(runs: GridRunRow[], cells: GridCellRow[], tasks: TaskSpec[]): { runs: z.output<typeof GridRun>[]; mappedTasks: Set<string> } {
  // run pk -> task id -> instances
  const byRun = new Map<number, Map<string, GridCellRow[]>>();
  const mappedTasks = new Set<string>();
  for (const c of cells) {
    let tasksOfRun = byRun.get(c.run_pk);
    if (!tasksOfRun) byRun.set(c.run_pk, (tasksOfRun = new Map()));
    const list = tasksOfRun.get(c.task_id);
    if (list) list.push(c);
    else tasksOfRun.set(c.task_id, [c]);
    if (c.map_index >= 0) mappedTasks.add(c.task_id);
  }
  return {
    mappedTasks,
    runs: runs.map((r) => {
      const tasksOfRun = byRun.get(r.id);
      return {
        runId: r.run_id,
        runType: r.run_type,
        state: r.state,
        logicalDate: iso(r.logical_date)!,
        startDate: iso(r.start_date),
        endDate: iso(r.end_date),
        versionHash: r.version_hash,
        durationMs: r.start_date != null && r.end_date != null ? Number(r.end_date) - Number(r.start_date) : null,
        cells: tasks.map((t) => cellOf(tasksOfRun?.get(t.id))),
      };
    }),
  };
}

export function gridRoutes(app: ApiApp, { store }: ApiDeps): void {
  app.get(
    "/dags/:dagId/grid",
    {
      schema: {
        tags: ["runs"],
        summary: "Grid view data: a page of runs (newest first) with one cell per task",
        params: DagIdParams,
        querystring: z.object({
          offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0).describe("Runs to skip (newest first)."),
          limit: queryInt(1, 500).default(100).describe("Runs per page (1–500)."),
        }),
        response: { 200: Grid, ...errors(400, 404) },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      const { offset, limit } = req.query;
      const dag = await store.dags.get(dagId);
      if (!dag) throw notFound(ErrorCode.DagNotFound, `No DAG "${dagId}".`);
      const tasks = topologicalTasks(dagSpecOf(dag));
      const [page, totalRuns] = await Promise.all([store.runs.gridPage(dagId, offset, limit), store.runs.count({ dagId })]);
      const cells = await store.tasks.gridCells(page.map((r) => r.id));
      const { runs, mappedTasks } = buildGridRuns(page, cells, tasks);
      return {
        dagId,
        totalRuns,
        offset,
        tasks: tasks.map((t) => ({ taskId: t.id, kind: t.kind, upstream: t.upstream, triggerRule: t.triggerRule, mapped: mappedTasks.has(t.id) })),
        runs,
      };
    },
  );
}
