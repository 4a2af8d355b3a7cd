import { z } from "zod";
import { checkDatasetUri, MAX_DATASET_URI_LENGTH } from "../../core/validateDag.js";
import type { DatasetEventRow } from "../../store/datasetQueries.js";
import { errors, iso, Page, parseJson, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const DatasetEvent = z.object({
  id: z.number(),
  uri: z.string(),
  dagId: z.string().describe("DAG of the task that produced the event."),
  runId: z.string(),
  taskId: z.string(),
  mapIndex: z.number().describe("-1 for an unmapped task."),
  createdAt: Timestamp.describe("When the producing attempt's success was recorded."),
  extra: z.unknown().describe("Metadata the task attached with ctx.outletExtra() (JSON), or null."),
  triggeredRuns: z
    .array(z.object({ dagId: z.string(), runId: z.string() }))
    .describe("Dataset-triggered runs that consumed this event (DAGs scheduled on its dataset), sorted by DAG and run; empty until one is created."),
});

const ScheduledDag = z.object({
  dagId: z.string(),
  paused: z.boolean().describe("A paused DAG keeps its queued updates and runs on them once unpaused."),
  queued: z.boolean().describe("The dataset updated since the DAG's last dataset-triggered run: the update waits for the rest of the DAG's condition (or the next scheduler sweep)."),
});

const Dataset = z.object({
  uri: z.string(),
  producers: z.array(z.object({ dagId: z.string(), taskId: z.string() })).describe("Tasks that declare the dataset as an outlet."),
  consumers: z
    .array(z.object({ dagId: z.string(), taskId: z.string().nullable().describe("null: the whole DAG consumes it (it is scheduled on the dataset).") }))
    .describe("Tasks that declare it as an inlet, and DAGs scheduled on it."),
  scheduledDags: z.array(ScheduledDag).describe("DAGs scheduled on this dataset (schedule: [dataset(...)]), sorted by DAG."),
  lastEvent: DatasetEvent.omit({ id: true, uri: true, triggeredRuns: true }).nullable().describe("The latest event, or null if no producing task has succeeded yet."),
  eventCount: z.number(),
});

/** A dataset URI in a query: checked like in a DAG file, so a typo is a 400 naming the problem, not an empty page. */
const UriQuery = z
  .string()
  .max(MAX_DATASET_URI_LENGTH)
  .superRefine((uri, ctx) => {
    const r = checkDatasetUri(uri);
    if (!r.ok) ctx.addIssue({ code: "custom", message: `not a dataset URI: it ${r.problem}` });
  });

function eventJson(e: DatasetEventRow, triggeredRuns: z.output<typeof DatasetEvent>["triggeredRuns"] = []): z.output<typeof DatasetEvent> {
  return {
    id: Number(e.id),
    uri: e.uri,
    dagId: e.dag_id,
    runId: e.run_id,
    taskId: e.task_id,
    mapIndex: e.map_index,
    createdAt: iso(e.created_at)!,
    extra: parseJson(e.extra),
    triggeredRuns,
  };
}

/** The Datasets page: URIs tasks produce and consume (active DAGs only) and the events their successes recorded. */
export function datasetRoutes(app: ApiApp, { store }: ApiDeps): void {
  app.get(
    "/datasets",
    {
      schema: {
        tags: ["datasets"],
        summary: "List datasets declared by active DAGs, with producers, consumers and the latest event (sorted by URI)",
        querystring: z.object({
          search: z.string().max(MAX_DATASET_URI_LENGTH).optional().describe("Case-insensitive substring of the URI."),
          ...Page,
        }),
        response: { 200: z.object({ total: z.number(), datasets: z.array(Dataset), limit: z.number(), offset: z.number() }), ...errors(400) },
      },
    },
    async (req) => {
      const { search, limit, offset } = req.query;
      const { total, datasets } = await store.datasets.search({ search: search || undefined, limit, offset });
      return {
        total,
        datasets: datasets.map((d) => {
          const last = d.lastEvent && eventJson(d.lastEvent);
          return {
            uri: d.uri,
            producers: d.producers,
            consumers: d.consumers,
            scheduledDags: d.scheduledDags,
            lastEvent: last && { dagId: last.dagId, runId: last.runId, taskId: last.taskId, mapIndex: last.mapIndex, createdAt: last.createdAt, extra: last.extra },
            eventCount: d.eventCount,
          };
        }),
        limit,
        offset,
      };
    },
  );

  app.get(
    "/datasets/events",
    {
      schema: {
        tags: ["datasets"],
        summary: "Dataset events, newest first (filter by URI and producing DAG), with the runs each triggered",
        querystring: z.object({
          uri: UriQuery.optional().describe("Only events of this dataset."),
          dagId: z.string().min(1).optional().describe("Only events produced by this DAG's tasks."),
          ...Page,
        }),
        response: { 200: z.object({ total: z.number(), events: z.array(DatasetEvent), limit: z.number(), offset: z.number() }), ...errors(400) },
      },
    },
    async (req) => {
      const { uri, dagId, limit, offset } = req.query;
      // Stored URIs are normalised (scheme lower-cased): match the query the same way.
      const normalised = uri === undefined ? undefined : (checkDatasetUri(uri) as { uri: string }).uri;
      const { total, rows } = await store.datasets.events({ uri: normalised, dagId, limit, offset });
      const triggered = await store.datasetTriggers.triggeredRuns(rows.map((e) => Number(e.id)));
      return { total, events: rows.map((e) => eventJson(e, triggered.get(Number(e.id)))), limit, offset };
    },
  );
}
