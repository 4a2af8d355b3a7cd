/**
 * Server-sent events: GET /events (state changes of runs, task instances and
 * DAGs, and the import-error count, from one shared poller per process) and
 * the live tail of a try's log. Both authenticate like every other route (the
 * browser's EventSource sends the session cookie; a GET needs no CSRF token);
 * errors found before the stream opens (unknown DAG, bad query) are ordinary
 * JSON error answers.
 */
import { z } from "zod";
import { ErrorCode } from "../../core/errors.js";
import { notFound } from "../errors.js";
import { acquireLiveHub, releaseLiveHub } from "../live/liveHub.js";
import { liveOptions } from "../live/liveOptions.js";
import { tailLog } from "../live/logTail.js";
import { SseRegistry, SseStream } from "../live/sse.js";
import { errors, iso, queryInt, TaskParams } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";
import { findRun } from "./runs.js";
import { findTask, MapIndexQuery } from "./tasks.js";

const EVENTS_DOC = [
  "A text/event-stream that stays open. Events (data is JSON):",
  "`hello` {serverTime, pollIntervalMs} once on connect;",
  "`run` {dagId, runId, state, startDate, endDate};",
  "`task` {dagId, runId, taskId, mapIndex, state, tryNumber, startDate, endDate};",
  "`dag` {dagId, isPaused};",
  "`import-errors` {count};",
  "`resync` {reason} when too much changed at once to send it piece by piece: reload what you show.",
  "A comment line every 15 s keeps proxies from closing an idle stream.",
].join(" ");

const LOG_STREAM_DOC = [
  "A text/event-stream of one try's log: `lines` events (data: [{id, ts, stream, line}], SSE id: the last line id) while the try runs,",
  "then `end` {tryNumber, state} and the stream closes. Reconnecting with Last-Event-ID (EventSource does it) resumes after that line.",
].join(" ");

export function eventRoutes(app: ApiApp, { store, now }: ApiDeps): void {
  const hub = acquireLiveHub(store, app.log, now);
  const streams = new SseRegistry();
  // Open streams would keep the server from closing: end them first (EventSource clients reconnect elsewhere).
  app.addHook("preClose", async () => streams.closeAll());
  app.addHook("onClose", async () => {
    streams.closeAll();
    await releaseLiveHub(store);
  });

  app.get(
    "/events",
    {
      schema: {
        tags: ["live"],
        summary: "Live updates (server-sent events): run, task, DAG and import-error changes",
        description: EVENTS_DOC,
        // The stream itself, or a JSON error answered before it opens.
        produces: ["text/event-stream", "application/json"],
        querystring: z.object({ dagId: z.string().min(1).optional().describe("Only events of this DAG (import-error counts and resyncs always come).") }),
        response: { 200: z.string().describe("The event stream (see the description)."), ...errors(400, 404) },
      },
    },
    async (req, reply) => {
      const { dagId } = req.query;
      if (dagId !== undefined && !(await store.dags.get(dagId))) throw notFound(ErrorCode.DagNotFound, `No DAG "${dagId}".`);
      const stream = streams.add(new SseStream(reply, liveOptions().keepAliveMs));
      stream.send("hello", { serverTime: iso(now()), pollIntervalMs: liveOptions().pollIntervalMs });
      const unsubscribe = hub.subscribe((e) => {
        if (dagId !== undefined && e.dagId !== null && e.dagId !== dagId) return;
        stream.send(e.event, e.data);
      });
      stream.onClose(unsubscribe);
      return reply;
    },
  );

  app.get(
    "/dags/:dagId/runs/:runId/tasks/:taskId/logs/stream",
    {
      schema: {
        tags: ["live"],
        summary: "Live tail of a try's log (server-sent events) until the try finishes",
        description: LOG_STREAM_DOC,
        produces: ["text/event-stream", "application/json"],
        params: TaskParams,
        querystring: z.object({
          try: queryInt(0, 1_000_000).optional().describe("Try number; default: the latest."),
          after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0).describe("Send lines with an id greater than this."),
          mapIndex: MapIndexQuery,
        }),
        headers: z.looseObject({
          "last-event-id": queryInt(0, Number.MAX_SAFE_INTEGER).optional().describe("Sent by a reconnecting EventSource: resume after this line id (wins over `after`)."),
        }),
        response: { 200: z.string().describe("The event stream (see the description)."), ...errors(400, 404) },
      },
    },
    async (req, reply) => {
      const ti = await findTask(store, await findRun(store, req.params.dagId, req.params.runId), req.params.taskId, req.query.mapIndex);
      const tryNumber = req.query.try ?? ti.try_number;
      if (tryNumber > ti.try_number) {
        throw notFound(ErrorCode.TaskNotFound, `Task "${ti.task_id}" has no try ${tryNumber}: it has started ${ti.try_number} ${ti.try_number === 1 ? "try" : "tries"}.`);
      }
      const afterId = req.headers["last-event-id"] ?? req.query.after;
      const stream = streams.add(new SseStream(reply, liveOptions().keepAliveMs));
      // Not awaited: the handler returns while the stream lives on; tailLog never throws.
      void tailLog(store, stream, { tiId: ti.id, tryNumber, afterId, pollMs: () => liveOptions().logPollMs });
      return reply;
    },
  );
}
