import { z } from "zod";
import { ErrorCode } from "../../core/errors.js";
import { RUN_STATES, type RunState } from "../../core/states.js";
import { cancelRun } from "../../runs/cancelRun.js";
import { clearTasks } from "../../runs/clearTasks.js";
import { rerunOnLatest } from "../../runs/rerunOnLatest.js";
import { triggerRun } from "../../runs/createRun.js";
import { deleteHistory, deleteRun } from "../../runs/deleteHistory.js";
import { markRun } from "../../runs/markRun.js";
import { dagSpecOf } from "../../store/dagQueries.js";
import type { DagRunRow } from "../../store/runQueries.js";
import type { Store } from "../../store/store.js";
import { notFound } from "../errors.js";
import { DagIdParams, errors, iso, MaybeTimestamp, Page, parseJson, queryBool, queryInt, RunParams, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const Run = z.object({
  dagId: z.string(),
  runId: z.string(),
  runType: z.string().describe('"scheduled", "manual", "backfill" or "dataset_triggered".'),
  state: z.string().describe('"queued", "running", "success" or "failed".'),
  logicalDate: Timestamp,
  dataIntervalStart: Timestamp,
  dataIntervalEnd: Timestamp,
  versionHash: z.string().describe("DAG version the run was created with (see /dags/{dagId}/structure?version=)."),
  bundleVersion: z.string().nullable().describe("Git commit every task of the run runs against (null: the local DAG folder). Fixed at creation; clear with onLatest moves it."),
  conf: z.unknown(),
  params: z.unknown().describe("Resolved params: the DAG's defaults overlaid with conf."),
  queuedAt: Timestamp,
  startDate: MaybeTimestamp,
  endDate: MaybeTimestamp,
  note: z.string().nullable(),
});
/** How many consumed events a run detail lists (a mapped producer can record thousands for one run). */
const CONSUMED_EVENTS_SHOWN = 100;
const RunDetail = Run.extend({
  taskStates: z.record(z.string(), z.number()).describe("Number of task instances per state."),
  consumedDatasetEvents: z
    .object({
      total: z.number(),
      events: z
        .array(z.object({ id: z.number(), uri: z.string(), dagId: z.string(), runId: z.string(), taskId: z.string(), mapIndex: z.number(), createdAt: Timestamp }))
        .describe(`The newest ${CONSUMED_EVENTS_SHOWN}, newest first: which producing task's success (dagId, runId, taskId) updated which dataset.`),
    })
    .nullable()
    .describe("A dataset-triggered run: the dataset events that triggered it. null for other runs."),
});

export function runJson(r: DagRunRow): z.output<typeof Run> {
  return {
    dagId: r.dag_id,
    runId: r.run_id,
    runType: r.run_type,
    state: r.state,
    logicalDate: iso(r.logical_date)!,
    dataIntervalStart: iso(r.interval_start)!,
    dataIntervalEnd: iso(r.interval_end)!,
    versionHash: r.version_hash,
    bundleVersion: r.bundle_version ?? null,
    conf: parseJson(r.conf),
    params: parseJson(r.params),
    queuedAt: iso(r.queued_at)!,
    startDate: iso(r.start_date),
    endDate: iso(r.end_date),
    note: r.note,
  };
}

/** The run, or a 404 naming what was missing (the DAG or the run). */
export async function findRun(store: Store, dagId: string, runId: string): Promise<DagRunRow> {
  const run = await store.runs.get(dagId, runId);
  if (run) return run;
  if (!(await store.dags.get(dagId))) throw notFound(ErrorCode.DagNotFound, `No DAG "${dagId}".`);
  throw notFound(ErrorCode.RunNotFound, `DAG "${dagId}" has no run "${runId}". GET /api/v1/dags/${dagId}/runs lists its runs.`);
}

// Run ids appear in URLs and log lines: printable, no slashes or spaces.
// "durations" would be shadowed by GET /dags/{dagId}/runs/durations.
const RunId = z
  .string()
  .regex(/^[A-Za-z0-9_.:+@-]{1,250}$/, "use 1–250 letters, digits or _ . : + @ -")
  .refine((id) => id !== "durations", '"durations" is reserved (GET /dags/{dagId}/runs/durations); choose another run id');

/** A task instance a cancel or mark changed, with its new state. */
const ForcedInstance = z.object({ taskId: z.string(), mapIndex: z.number(), state: z.string() });

/** Who did it, for run notes ("Cancelled by ana."). */
function actor(req: { auth: { user: { username: string } } | null }): string {
  return req.auth?.user.username ?? "an API client (api.auth is off)";
}
const StateList = z
  .string()
  .transform((s) => s.split(",").filter(Boolean))
  .pipe(z.array(z.enum(RUN_STATES as [RunState, ...RunState[]])))
  .describe(`Comma-separated run states: ${RUN_STATES.join(", ")}.`);

export function runRoutes(app: ApiApp, { store, onChange, now }: ApiDeps): void {
  app.post(
    "/dags/:dagId/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "Trigger a run (conf is validated against the DAG's params schema)",
        params: DagIdParams,
        // nullish: fastify hands a POST without a body to the validator as null; that means "all defaults".
        body: z
          .strictObject({
            conf: z.record(z.string(), z.unknown()).optional().describe("Params for this run; merged over the DAG's defaults."),
            runId: RunId.optional().describe('Default: "manual__<logical date>".'),
            logicalDate: Timestamp.optional().describe("Default: now."),
          })
          .nullish(),
        response: { 201: Run, ...errors(400, 404, 409) },
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const run = await triggerRun(store, req.params.dagId, {
        conf: body.conf,
        runId: body.runId,
        logicalDate: body.logicalDate === undefined ? undefined : new Date(body.logicalDate),
      });
      onChange();
      return reply.code(201).send(runJson(run));
    },
  );

  app.get(
    "/dags/:dagId/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "List a DAG's runs, newest logical date first",
        params: DagIdParams,
        querystring: z.object({
          state: StateList.optional(),
          from: Timestamp.optional().describe("Logical date at or after."),
          to: Timestamp.optional().describe("Logical date at or before."),
          ...Page,
        }),
        response: { 200: z.object({ runs: z.array(Run), total: z.number(), limit: z.number(), offset: z.number() }), ...errors(400, 404) },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      if (!(await store.dags.get(dagId))) throw notFound(ErrorCode.DagNotFound, `No DAG "${dagId}".`);
      const q = req.query;
      const filter = {
        dagId,
        states: q.state,
        logicalFrom: q.from === undefined ? undefined : Date.parse(q.from),
        logicalTo: q.to === undefined ? undefined : Date.parse(q.to),
      };
      const [rows, total] = await Promise.all([store.runs.list({ ...filter, limit: q.limit, offset: q.offset }), store.runs.count(filter)]);
      return { runs: rows.map(runJson), total, limit: q.limit, offset: q.offset };
    },
  );

  app.get(
    "/dags/:dagId/runs/:runId",
    { schema: { tags: ["runs"], summary: "Run detail", params: RunParams, response: { 200: RunDetail, ...errors(404) } } },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      let consumed = null;
      if (run.run_type === "dataset_triggered") {
        const { total, rows } = await store.datasetTriggers.eventsOfRun(run.id, CONSUMED_EVENTS_SHOWN);
        const events = rows.map((e) => ({ id: Number(e.id), uri: e.uri, dagId: e.dag_id, runId: e.run_id, taskId: e.task_id, mapIndex: e.map_index, createdAt: iso(e.created_at)! }));
        consumed = { total, events };
      }
      return { ...runJson(run), taskStates: await store.tasks.stateCounts(run.id), consumedDatasetEvents: consumed };
    },
  );

  app.post(
    "/dags/:dagId/runs/:runId/clear",
    {
      schema: {
        tags: ["runs"],
        summary: "Clear task instances so they run again (whole run, failed only, or some tasks with their downstream)",
        params: RunParams,
        body: z
          .strictObject({
            onlyFailed: z.boolean().default(false).describe("Only failed and upstream_failed instances."),
            taskIds: z.array(z.string().min(1)).min(1).optional().describe("Default: every task."),
            downstream: z.boolean().default(false).describe("Also clear everything downstream of taskIds."),
            dryRun: z.boolean().default(false).describe("Change nothing; answer what would be cleared."),
            onLatest: z
              .boolean()
              .default(false)
              .describe(
                "Rerun on latest: first move the run to the DAG's current version and git commit, so the cleared tasks run the newest code " +
                  "(a run otherwise keeps the commit it was created on). 409 while tasks of the run are queued or running, or when the latest version has other tasks.",
              ),
          })
          .nullish(),
        response: {
          200: z.object({
            cleared: z.array(z.string()).describe("Task ids that were cleared (with dryRun: would be)."),
            dryRun: z.boolean(),
            versionHash: z.string().describe("The run's DAG version after the clear (with onLatest: the current one)."),
            bundleVersion: z.string().nullable().describe("The git commit the run's tasks run against (null: local DAG folder)."),
            moved: z.boolean().describe("onLatest moved (with dryRun: would move) the run to another version or commit."),
          }),
          ...errors(400, 404, 409),
        },
      },
    },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      const body = req.body ?? { onlyFailed: false, downstream: false, dryRun: false, onLatest: false };
      const opts = {
        taskIds: body.taskIds,
        downstream: body.downstream,
        onlyStates: body.onlyFailed ? (["failed", "upstream_failed"] as const).slice() : undefined,
        dryRun: body.dryRun,
      };
      if (body.onLatest) {
        const r = await rerunOnLatest(store, run, opts);
        const cleared = [...new Set(r.cleared.map((c) => c.taskId))];
        if ((cleared.length > 0 || r.moved) && !body.dryRun) onChange();
        return { cleared, dryRun: body.dryRun, versionHash: r.versionHash, bundleVersion: r.bundleVersion, moved: r.moved };
      }
      // The run's own version: its task list is what the run holds, even if the DAG changed since.
      const current = await store.dags.get(run.dag_id);
      const spec = (await store.dags.versionSpec(run.dag_id, run.version_hash)) ?? (current && dagSpecOf(current));
      if (!spec) throw notFound(ErrorCode.DagNotFound, `No DAG "${run.dag_id}".`);
      const cleared = await clearTasks(store, run, spec, opts);
      if (cleared.length > 0 && !body.dryRun) onChange();
      return { cleared, dryRun: body.dryRun, versionHash: run.version_hash, bundleVersion: run.bundle_version ?? null, moved: false };
    },
  );

  app.post(
    "/dags/:dagId/runs/:runId/cancel",
    {
      schema: {
        tags: ["runs"],
        summary: "Cancel a queued or running run: it fails, running attempts stop, tasks not started are skipped (409 once finished)",
        params: RunParams,
        response: { 200: z.object({ run: Run, stopped: z.array(ForcedInstance).describe("Task instances the cancel ended, with their new state.") }), ...errors(404, 409) },
      },
    },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      const r = await cancelRun(store, run, { by: actor(req), now: now() });
      onChange();
      return { run: runJson(r.run), stopped: r.stopped };
    },
  );

  app.post(
    "/dags/:dagId/runs/:runId/mark",
    {
      schema: {
        tags: ["runs"],
        summary: "Mark a whole run success (every task success) or failed (unfinished tasks end as in a cancel)",
        params: RunParams,
        body: z.strictObject({ state: z.enum(["success", "failed"]) }),
        response: { 200: z.object({ run: Run, changed: z.array(ForcedInstance).describe("Task instances whose state the mark changed.") }), ...errors(400, 404) },
      },
    },
    async (req) => {
      const run = await findRun(store, req.params.dagId, req.params.runId);
      const r = await markRun(store, run, req.body.state, { by: actor(req), now: now() });
      onChange();
      return { run: runJson(r.run), changed: r.changed };
    },
  );

  app.delete(
    "/dags/:dagId/runs/:runId",
    {
      schema: {
        tags: ["runs"],
        summary: "Delete a finished run with its task instances, tries and logs (409 while it is queued or running)",
        params: RunParams,
        response: { 204: z.null(), ...errors(404, 409) },
      },
    },
    async (req, reply) => {
      await deleteRun(store, await findRun(store, req.params.dagId, req.params.runId));
      onChange();
      return reply.code(204).send(null);
    },
  );

  app.delete(
    "/dags/:dagId/runs",
    {
      schema: {
        tags: ["runs"],
        summary: "Delete a DAG's whole run history (409 while runs are active, unless force=true cancels them first)",
        params: DagIdParams,
        querystring: z.object({ force: queryBool.default(false).describe("Cancel queued and running runs first, then delete them too.") }),
        response: {
          200: z.object({
            deleted: z.number().describe("Runs deleted, each with its task instances, tries and logs."),
            cancelled: z.array(z.string()).describe("Run ids that were active and were cancelled first."),
          }),
          ...errors(400, 404, 409),
        },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      if (!(await store.dags.get(dagId))) throw notFound(ErrorCode.DagNotFound, `No DAG "${dagId}".`);
      const r = await deleteHistory(store, dagId, { force: req.query.force, by: actor(req), now: now() });
      onChange();
      return r;
    },
  );

  app.get(
    "/dags/:dagId/runs/durations",
    {
      schema: {
        tags: ["runs"],
        summary: "Timings of the newest runs, newest first (run-duration chart)",
        params: DagIdParams,
        querystring: z.object({ limit: queryInt(1, 1000).default(200).describe("Runs (1–1000).") }),
        response: {
          200: z.object({
            runs: z.array(
              z.object({ runId: z.string(), logicalDate: Timestamp, state: z.string(), queuedAt: Timestamp, startDate: MaybeTimestamp, endDate: MaybeTimestamp }),
            ),
          }),
          ...errors(400, 404),
        },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      if (!(await store.dags.get(dagId))) throw notFound(ErrorCode.DagNotFound, `No DAG "${dagId}".`);
      const rows = await store.runs.timings(dagId, req.query.limit);
      return {
        runs: rows.map((r) => ({
          runId: r.run_id,
          logicalDate: iso(r.logical_date)!,
          state: r.state,
          queuedAt: iso(r.queued_at)!,
          startDate: iso(r.start_date),
          endDate: iso(r.end_date),
        })),
      };
    },
  );
}
