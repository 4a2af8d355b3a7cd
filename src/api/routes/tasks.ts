import { z } from "zod";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { clearTaskInstances, markTask } from "../../runs/clearTasks.js";
import { dagSpecOf } from "../../store/dagQueries.js";
import type { DagRunRow } from "../../store/runQueries.js";
import type { Store } from "../../store/store.js";
import type { TaskInstanceRow, TaskTryRow } from "../../store/taskQueries.js";
import { notFound } from "../errors.js";
import { errors, iso, MaybeTimestamp, parseJson, queryInt, RunParams, TaskParams } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";
import { findRun } from "./runs.js";

const TaskInstance = z.object({
  taskId: z.string(),
  mapIndex: z.number(),
  state: z.string(),
  tryNumber: z.number().describe("Tries started so far (0: never ran)."),
  maxTries: z.number(),
  pool: z.string(),
  queue: z.string(),
  priorityWeight: z.number(),
  queuedAt: MaybeTimestamp,
  startDate: MaybeTimestamp,
  endDate: MaybeTimestamp,
  durationMs: z.number().nullable(),
  nextTryAt: MaybeTimestamp.describe("When an up_for_retry instance may run again."),
  hostname: z.string().nullable(),
  pid: z.number().nullable(),
  result: z.unknown().describe("JSON result of the latest successful try."),
  error: z.string().nullable(),
});

const Try = z.object({
  tryNumber: z.number(),
  state: z.string(),
  startDate: MaybeTimestamp,
  endDate: MaybeTimestamp,
  durationMs: z.number().nullable(),
  hostname: z.string().nullable(),
  pid: z.number().nullable(),
  error: z.string().nullable(),
});

const LogPage = z.object({
  tryNumber: z.number(),
  lines: z.array(z.object({ id: z.number(), ts: MaybeTimestamp, stream: z.string(), line: z.string() })),
  nextAfter: z.number().describe("Pass as `after` to read the next page (or to poll for new lines)."),
  more: z.boolean().describe("True when more lines exist right now beyond this page."),
});

function tiJson(ti: TaskInstanceRow): z.output<typeof TaskInstance> {
  return {
    taskId: ti.task_id,
    mapIndex: ti.map_index,
    state: ti.state,
    tryNumber: ti.try_number,
    maxTries: ti.max_tries,
    pool: ti.pool,
    queue: ti.queue,
    priorityWeight: ti.priority_weight,
    queuedAt: iso(ti.queued_at),
    startDate: iso(ti.start_date),
    endDate: iso(ti.end_date),
    durationMs: ti.duration_ms === null ? null : Number(ti.duration_ms),
    nextTryAt: iso(ti.next_try_at),
    hostname: ti.hostname,
    pid: ti.pid,
    result: parseJson(ti.result),
    error: ti.error,
  };
}

function tryJson(t: Omit<TaskTryRow, "id" | "ti_id">): z.output<typeof Try> {
  return {
    tryNumber: t.try_number,
    state: t.state,
    startDate: iso(t.start_date),
    endDate: iso(t.end_date),
    durationMs: t.duration_ms === null ? null : Number(t.duration_ms),
    hostname: t.hostname,
    pid: t.pid,
    error: t.error,
  };
}

/**
 * Finished tries are recorded when they end; the try in progress lives only
 * on the task instance, so it is added here so clients see every try.
 */
function allTries(ti: TaskInstanceRow, recorded: TaskTryRow[]): z.output<typeof Try>[] {
  const out = recorded.map(tryJson);
  if (ti.try_number > 0 && !recorded.some((t) => t.try_number === ti.try_number) && (ti.state === "queued" || ti.state === "running")) {
    out.push(tryJson({ ...ti, try_number: ti.try_number, duration_ms: null, error: null }));
  }
  return out;
}

export async function findTask(store: Store, run: DagRunRow, taskId: string, mapIndex = -1): Promise<TaskInstanceRow> {
  const ti = await store.tasks.byKey(run.dag_id, run.run_id, taskId, mapIndex);
  if (ti) return ti;
  if (mapIndex !== -1 && (await store.tasks.byKey(run.dag_id, run.run_id, taskId))) {
    throw notFound(ErrorCode.TaskNotFound, `Task "${taskId}" of run "${run.run_id}" has no map index ${mapIndex}: it is not a mapped task; leave mapIndex out.`);
  }
  const counts = await store.mapped.stateCounts(run.id, taskId);
  const n = Object.values(counts).reduce((a, b) => a + b, 0);
  if (n > 0) {
    throw notFound(
      ErrorCode.TaskNotFound,
      mapIndex === -1
        ? `Task "${taskId}" is mapped (${n} instances): pass mapIndex=0..${n - 1}, or list them with GET .../tasks/${taskId}/instances.`
        : `Task "${taskId}" of run "${run.run_id}" has ${n} mapped instances (map index 0..${n - 1}), not ${mapIndex}.`,
    );
  }
  throw notFound(ErrorCode.TaskNotFound, `Run "${run.run_id}" of DAG "${run.dag_id}" has no task "${taskId}"${mapIndex !== -1 ? ` with map index ${mapIndex}` : ""}.`);
}

/** A task of a run: its unmapped instance, or (for a mapped task) any one of its instances, so the task is known to exist. */
async function findTaskOrMapped(store: Store, run: DagRunRow, taskId: string): Promise<void> {
  if (await store.tasks.byKey(run.dag_id, run.run_id, taskId)) return;
  if (Object.keys(await store.mapped.stateCounts(run.id, taskId)).length > 0) return;
  await findTask(store, run, taskId);
}

export const MapIndexQuery = queryInt(-1, 1_000_000).default(-1).describe("Map index of a mapped task's instance; -1 (the default) for an unmapped task.");

export function taskRoutes(app: ApiApp, { store, onChange, now }: ApiDeps): void {
  app.get(
    "/dags/:dagId/runs/:runId/tasks",
    {
      schema: { tags: ["tasks"], summary: "Task instances of a run", params: RunParams, response: { 200: z.object({ tasks: z.array(TaskInstance) }), ...errors(404) } },
    },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      return { tasks: (await store.tasks.forRun(run.id)).map(tiJson) };
    },
  );

  app.get(
    "/dags/:dagId/runs/:runId/tasks/:taskId",
    {
      schema: {
        tags: ["tasks"],
        summary: "Task instance detail with every try",
        params: TaskParams,
        querystring: z.object({ mapIndex: MapIndexQuery }),
        response: { 200: TaskInstance.extend({ tries: z.array(Try) }), ...errors(404) },
      },
    },
    async (req) => {
      const ti = await findTask(store, await findRun(store, req.params.dagId, req.params.runId), req.params.taskId, req.query.mapIndex);
      return { ...tiJson(ti), tries: allTries(ti, await store.tasks.tries(ti.id)) };
    },
  );

  app.get(
    "/dags/:dagId/runs/:runId/tasks/:taskId/instances",
    {
      schema: {
        tags: ["tasks"],
        summary: "The instances of a mapped task (one per map index) with counts by state; an unmapped task has its one instance",
        params: TaskParams,
        querystring: z.object({
          state: z.string().optional().describe("Only instances in this state."),
          limit: queryInt(1, 10_000).default(1000),
          offset: queryInt(0, 1_000_000).default(0),
        }),
        response: {
          200: z.object({
            taskId: z.string(),
            mapped: z.boolean().describe("Whether the task has mapped instances (map index >= 0)."),
            total: z.number().describe("Instances of the task (all states)."),
            counts: z.record(z.string(), z.number()).describe("Instances by state."),
            instances: z.array(TaskInstance).describe("One page, by map index."),
          }),
          ...errors(400, 404),
        },
      },
    },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      const all = (await store.tasks.forRun(run.id)).filter((t) => t.task_id === req.params.taskId).sort((a, b) => a.map_index - b.map_index);
      if (all.length === 0) await findTask(store, run, req.params.taskId);
      const counts: Record<string, number> = {};
      for (const t of all) counts[t.state] = (counts[t.state] ?? 0) + 1;
      const shown = req.query.state ? all.filter((t) => t.state === req.query.state) : all;
      return {
        taskId: req.params.taskId,
        mapped: all.some((t) => t.map_index >= 0),
        total: all.length,
        counts,
        instances: shown.slice(req.query.offset, req.query.offset + req.query.limit).map(tiJson),
      };
    },
  );

  app.get(
    "/dags/:dagId/runs/:runId/tasks/:taskId/logs",
    {
      schema: {
        tags: ["tasks"],
        summary: "Log lines of one try, paged by line id",
        params: TaskParams,
        querystring: z.object({
          mapIndex: MapIndexQuery,
          try: queryInt(1, 1_000_000).optional().describe("Try number; default: the latest."),
          after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0).describe("Return lines with an id greater than this."),
          limit: queryInt(1, 10_000).default(1000),
        }),
        response: { 200: LogPage, ...errors(400, 404) },
      },
    },
    async (req) => {
      const ti = await findTask(store, await findRun(store, req.params.dagId, req.params.runId), req.params.taskId, req.query.mapIndex);
      const { after, limit } = req.query;
      const tryNumber = req.query.try ?? ti.try_number;
      if (tryNumber > ti.try_number) {
        throw notFound(ErrorCode.TaskNotFound, `Task "${ti.task_id}" has no try ${tryNumber}: it has started ${ti.try_number} ${ti.try_number === 1 ? "try" : "tries"}.`);
      }
      // One extra row tells whether another page exists without a count query.
      const rows = tryNumber === 0 ? [] : await store.logs.read(ti.id, tryNumber, { afterId: after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return {
        tryNumber,
        lines: page.map((l) => ({ id: l.id, ts: iso(l.ts), stream: l.stream, line: l.line })),
        nextAfter: page.length ? page[page.length - 1].id : after,
        more: rows.length > limit,
      };
    },
  );

  app.get(
    "/dags/:dagId/runs/:runId/tasks/:taskId/result",
    {
      schema: {
        tags: ["tasks"],
        summary: "The JSON result of a task instance's successful try (404 until it has one)",
        params: TaskParams,
        querystring: z.object({ mapIndex: MapIndexQuery }),
        response: {
          200: z.object({
            value: z.unknown().describe("What the task returned (null when it returned nothing)."),
            sizeBytes: z.number().describe("Size of the stored JSON text in bytes."),
          }),
          ...errors(400, 404),
        },
      },
    },
    async (req) => {
      const ti = await findTask(store, await findRun(store, req.params.dagId, req.params.runId), req.params.taskId, req.query.mapIndex);
      if (ti.state !== "success") {
        throw notFound(
          ErrorCode.TaskNotFound,
          `Task "${ti.task_id}" has no result yet: it is ${ti.state}. A result is stored when a try succeeds.`,
        );
      }
      return { value: parseJson(ti.result), sizeBytes: ti.result === null ? 0 : Buffer.byteLength(ti.result) };
    },
  );

  app.post(
    "/dags/:dagId/runs/:runId/tasks/:taskId/clear",
    {
      schema: {
        tags: ["tasks"],
        summary: "Clear a task instance (and optionally its downstream or upstream) so it runs again; dryRun lists what would be cleared",
        params: TaskParams,
        querystring: z.object({ mapIndex: queryInt(0, 1_000_000).optional().describe("Clear only this instance of a mapped task (default: every instance).") }),
        body: z
          .strictObject({
            downstream: z.boolean().default(false).describe("Also clear every task downstream of it."),
            upstream: z.boolean().default(false).describe("Also clear every task upstream of it."),
            onlyFailed: z.boolean().default(false).describe("Only failed and upstream_failed instances."),
            dryRun: z.boolean().default(false).describe("Change nothing; answer what would be cleared (for a confirmation dialog)."),
          })
          .nullish(),
        response: {
          200: z.object({
            cleared: z.array(z.object({ taskId: z.string(), mapIndex: z.number(), state: z.string().describe("State before the clear.") })),
            dryRun: z.boolean(),
          }),
          ...errors(400, 404),
        },
      },
    },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      if (req.query.mapIndex === undefined) await findTaskOrMapped(store, run, req.params.taskId);
      else await findTask(store, run, req.params.taskId, req.query.mapIndex);
      const body = req.body ?? { downstream: false, upstream: false, onlyFailed: false, dryRun: false };
      // The run's own version: its tasks and edges are what the run holds, even if the DAG changed since.
      const current = await store.dags.get(run.dag_id);
      const spec = (await store.dags.versionSpec(run.dag_id, run.version_hash)) ?? (current && dagSpecOf(current));
      if (!spec) throw notFound(ErrorCode.DagNotFound, `No DAG "${run.dag_id}".`);
      const cleared = await clearTaskInstances(store, run, spec, {
        taskIds: [req.params.taskId],
        mapIndex: req.query.mapIndex,
        downstream: body.downstream,
        upstream: body.upstream,
        onlyStates: body.onlyFailed ? ["failed", "upstream_failed"] : undefined,
        dryRun: body.dryRun,
        now: now(),
      });
      if (cleared.length > 0 && !body.dryRun) onChange();
      return { cleared, dryRun: body.dryRun };
    },
  );

  app.post(
    "/dags/:dagId/runs/:runId/tasks/:taskId/mark",
    {
      schema: {
        tags: ["tasks"],
        summary: "Mark a finished task instance success or failed (409 while it runs)",
        params: TaskParams,
        querystring: z.object({ mapIndex: MapIndexQuery }),
        body: z.strictObject({ state: z.enum(["success", "failed"]) }),
        response: { 200: TaskInstance, ...errors(400, 404, 409) },
      },
    },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      await findTask(store, run, req.params.taskId, req.query.mapIndex);
      if (!(await markTask(store, run, req.params.taskId, req.body.state, now(), req.query.mapIndex))) {
        throw new SluiceError(ErrorCode.StateConflict, `Task "${req.params.taskId}" changed state while it was being marked; retry.`);
      }
      onChange();
      return tiJson(await findTask(store, run, req.params.taskId, req.query.mapIndex));
    },
  );
}
