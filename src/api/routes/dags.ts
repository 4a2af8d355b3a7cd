import { z } from "zod";
import { downstreamMap, type DagSpec } from "../../core/dagSpec.js";
import { conditionText, conditionUris, describeCondition, type DatasetCondition } from "../../core/datasetSchedule.js";
import { ErrorCode } from "../../core/errors.js";
import { describeSchedule, parseSchedule } from "../../core/schedule.js";
import { dagSpecOf, type DagListRow } from "../../store/dagQueries.js";
import { notFound } from "../errors.js";
import { DagIdParams, errors, iso, MaybeTimestamp, Page, queryBool, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const DagSummary = z.object({
  dagId: z.string(),
  description: z.string().nullable(),
  owner: z.string().nullable(),
  tags: z.array(z.string()),
  fileloc: z.string().describe("File that defines the DAG, relative to the DAG folder."),
  schedule: z.string().nullable().describe("As written in the DAG (cron, preset, interval) or null for manual only and for DAGs scheduled on datasets."),
  timezone: z.string(),
  scheduleDescription: z.string().describe('The schedule in words, e.g. "every day at 02:00 (UTC)", or "on datasets: s3://a and s3://b".'),
  paused: z.boolean(),
  active: z.boolean().describe("False once the DAG's file is gone or no longer defines it."),
  versionHash: z.string(),
  bundleVersion: z.string().nullable().describe("Git commit the current version was parsed from (null: the local DAG folder)."),
  nextRun: z
    .object({ logicalDate: Timestamp, runAfter: Timestamp.describe("When the run is created (end of its data interval).") })
    .nullable()
    .describe("Next scheduled run, when the scheduler has computed it."),
  updatedAt: Timestamp,
});

const RecentRun = z.object({ runId: z.string(), state: z.string(), logicalDate: Timestamp, startDate: MaybeTimestamp, endDate: MaybeTimestamp });
const DagListItem = DagSummary.extend({
  recentRuns: z.array(RecentRun).describe("The newest runs, newest first (`recentRuns` in the query sets how many): the last run's state and the list's run strip."),
});

const DagDetail = DagSummary.extend({
  start: MaybeTimestamp,
  end: MaybeTimestamp,
  catchup: z.boolean(),
  maxActiveRuns: z.number(),
  maxActiveTasks: z.number(),
  runTimeoutMs: z.number().nullable(),
  params: z.record(z.string(), z.unknown()).describe("Default params."),
  paramsSchema: z.record(z.string(), z.unknown()).nullable().describe("JSON Schema a trigger's conf is validated against."),
  docs: z.string().nullable().describe("Markdown docs of the DAG."),
  taskCount: z.number(),
  datasetSchedule: z
    .object({
      condition: z
        .unknown()
        .describe('The condition as stored: {"uri": ...} for one dataset, {"all": [...]} when every member must update, {"any": [...]} when one is enough; nested.'),
      description: z.string().describe('In words, e.g. "when s3://a and (s3://b or s3://c) update".'),
      uris: z.array(z.string()).describe("Every dataset URI the condition names."),
      queued: z
        .array(z.object({ uri: z.string(), since: Timestamp.describe("When its first update since the last dataset-triggered run was queued.") }))
        .describe("Datasets that updated since the DAG's last dataset-triggered run (kept while the DAG is paused); the next run consumes them."),
    })
    .nullable()
    .describe("Set when the DAG runs on dataset updates instead of a time schedule."),
});

const TaskNode = z.object({
  taskId: z.string(),
  kind: z.enum(["function", "shell", "duckdb", "spark"]),
  mapped: z.boolean().describe("A mapped task: one instance per element of `expandFrom`'s result."),
  expandFrom: z.string().nullable().describe("Mapped tasks: the upstream task whose result list is mapped over."),
  upstream: z.array(z.string()),
  downstream: z.array(z.string()),
  triggerRule: z.string(),
  retries: z.number(),
  timeoutMs: z.number().nullable(),
  pool: z.string(),
  queue: z.string(),
  priorityWeight: z.number(),
  doc: z.string().nullable(),
  command: z.string().nullable().describe("Shell tasks only."),
});

const Structure = z.object({
  dagId: z.string(),
  versionHash: z.string(),
  tasks: z.array(TaskNode),
  edges: z.array(z.object({ from: z.string(), to: z.string() })).describe("One edge per upstream -> downstream dependency."),
});

function scheduleInWords(schedule: string | null, timezone: string, datasets?: DatasetCondition): string {
  if (datasets) return `on datasets: ${conditionText(datasets)}`;
  try {
    return describeSchedule(parseSchedule(schedule, timezone));
  } catch {
    // Stored schedules were valid when parsed; a newer parser may disagree. Show it as written rather than fail.
    return schedule ?? "manual only";
  }
}

/** `datasets`: the DAG's dataset schedule, if it has one (DatasetQueries.schedulesOf, or its spec). */
function summary(row: DagListRow, datasets?: DatasetCondition): z.output<typeof DagSummary> {
  return {
    dagId: row.dag_id,
    description: row.description,
    owner: row.owner,
    tags: JSON.parse(row.tags) as string[],
    fileloc: row.fileloc,
    schedule: row.schedule,
    timezone: row.timezone,
    scheduleDescription: scheduleInWords(row.schedule, row.timezone, datasets),
    paused: row.is_paused === 1,
    active: row.is_active === 1,
    versionHash: row.version_hash,
    bundleVersion: row.bundle_version ?? null,
    nextRun:
      row.next_interval_start === null || row.next_interval_end === null
        ? null
        : { logicalDate: iso(row.next_interval_start)!, runAfter: iso(row.next_interval_end)! },
    updatedAt: iso(row.updated_at)!,
  };
}

function structure(spec: DagSpec, versionHash: string): z.output<typeof Structure> {
  const down = downstreamMap(spec);
  return {
    dagId: spec.id,
    versionHash,
    tasks: spec.tasks.map((t) => ({
      taskId: t.id,
      kind: t.kind,
      mapped: t.expand !== undefined,
      expandFrom: t.expand?.from ?? null,
      upstream: t.upstream,
      downstream: down.get(t.id) ?? [],
      triggerRule: t.triggerRule,
      retries: t.retries,
      timeoutMs: t.timeoutMs ?? null,
      pool: t.pool,
      queue: t.queue,
      priorityWeight: t.priorityWeight,
      doc: t.doc ?? null,
      command: t.command ?? null,
    })),
    edges: spec.tasks.flatMap((t) => t.upstream.map((u) => ({ from: u, to: t.id }))),
  };
}

const noDag = (dagId: string) => notFound(ErrorCode.DagNotFound, `No DAG "${dagId}". GET /api/v1/dags lists the DAGs Sluice knows.`);

export function dagRoutes(app: ApiApp, { store, onChange, now }: ApiDeps): void {
  app.get(
    "/dags",
    {
      schema: {
        tags: ["dags"],
        summary: "List DAGs (filter, search, paginate; sorted by id)",
        querystring: z.object({
          tag: z.string().min(1).optional().describe("Only DAGs with this tag."),
          owner: z.string().min(1).optional(),
          paused: queryBool.optional().describe("true: only paused DAGs; false: only unpaused."),
          q: z.string().max(200).optional().describe("Case-insensitive text search in id, description and owner."),
          includeInactive: queryBool.default(false).describe("Also list DAGs whose file is gone."),
          order: z.enum(["asc", "desc"]).default("asc").describe("Sort order of dag_id."),
          recentRuns: z.coerce.number().int().min(0).max(50).default(14).describe("How many of each DAG's newest runs to include (0–50)."),
          ...Page,
        }),
        response: { 200: z.object({ dags: z.array(DagListItem), total: z.number(), limit: z.number(), offset: z.number() }), ...errors(400) },
      },
    },
    async (req) => {
      const { order, recentRuns, ...f } = req.query;
      const { rows, total } = await store.dags.search({ ...f, desc: order === "desc" });
      // One indexed query per listed DAG (a page is small), so the UI needs no request per row.
      const recent = await Promise.all(rows.map((r) => (recentRuns > 0 ? store.runs.timings(r.dag_id, recentRuns) : Promise.resolve([]))));
      const datasetSchedules = await store.datasets.schedulesOf(rows.map((r) => r.dag_id));
      const dags = rows.map((r, i) => ({
        ...summary(r, datasetSchedules.get(r.dag_id)),
        recentRuns: recent[i].map((x) => ({ runId: x.run_id, state: x.state, logicalDate: iso(x.logical_date)!, startDate: iso(x.start_date), endDate: iso(x.end_date) })),
      }));
      return { dags, total, limit: f.limit, offset: f.offset };
    },
  );

  app.get(
    "/dags/:dagId",
    { schema: { tags: ["dags"], summary: "DAG detail", params: DagIdParams, response: { 200: DagDetail, ...errors(404) } } },
    async (req) => {
      const row = await store.dags.get(req.params.dagId);
      if (!row) throw noDag(req.params.dagId);
      const spec = dagSpecOf(row);
      const condition = spec.datasetSchedule;
      const queued = condition ? await store.datasetTriggers.queueOf(spec.id) : [];
      return {
        ...summary(row, condition),
        start: spec.start ?? null,
        end: spec.end ?? null,
        catchup: spec.catchup,
        maxActiveRuns: spec.maxActiveRuns,
        maxActiveTasks: spec.maxActiveTasks,
        runTimeoutMs: spec.runTimeoutMs ?? null,
        params: spec.params,
        paramsSchema: spec.paramsSchema ?? null,
        docs: spec.docs ?? null,
        taskCount: spec.tasks.length,
        datasetSchedule: condition
          ? { condition, description: describeCondition(condition), uris: conditionUris(condition), queued: queued.map((q) => ({ uri: q.uri, since: iso(q.created_at)! })) }
          : null,
      };
    },
  );

  app.get(
    "/dags/:dagId/structure",
    {
      schema: {
        tags: ["dags"],
        summary: "Tasks and edges of a DAG (current version, or the one a run used)",
        params: DagIdParams,
        querystring: z.object({ version: z.string().min(1).optional().describe("Version hash (a run's versionHash); default: current.") }),
        response: { 200: Structure, ...errors(400, 404) },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      const row = await store.dags.get(dagId);
      if (!row) throw noDag(dagId);
      const version = req.query.version ?? row.version_hash;
      const spec = version === row.version_hash ? dagSpecOf(row) : await store.dags.versionSpec(dagId, version);
      if (!spec) throw notFound(ErrorCode.DagNotFound, `DAG "${dagId}" has no version "${version}".`);
      return structure(spec, version);
    },
  );

  app.patch(
    "/dags/:dagId",
    {
      schema: {
        tags: ["dags"],
        summary: "Pause or unpause a DAG",
        params: DagIdParams,
        body: z.strictObject({ paused: z.boolean() }),
        response: { 200: DagSummary, ...errors(400, 404) },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      if (!(await store.dags.setPaused(dagId, req.body.paused, now()))) throw noDag(dagId);
      onChange();
      const row = (await store.dags.get(dagId))!;
      return summary(row, dagSpecOf(row).datasetSchedule);
    },
  );
}
