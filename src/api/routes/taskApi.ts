/**
 * The task API: what a runner without database credentials (a Kubernetes pod,
 * a remote worker) calls to run one attempt. See docs/task-api.md.
 *
 * Authenticated only by an attempt token (auth/attemptToken.ts), never by
 * sessions or API tokens (auth.ts skips these routes); the token must name
 * the tiId and try of the URL. Every write is the same compare-and-set on
 * (id, try_number, state) the local runner uses, so a retried request is
 * harmless: claim and finish answer what was already written.
 *
 * Hidden from the OpenAPI document: it is a protocol between Sluice processes
 * shipped in one image, not an API for users or scripts (nobody but an
 * executor holds its tokens).
 *
 * Connections: any connection may be read, but only while the attempt is
 * running on this try. Task specs do not declare the connections they use,
 * and the pod runs the DAG's own (trusted) code, which could read them on a
 * database-holding executor too; what the token limits is *when*.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { AttemptTokens, type AttemptTokenPayload } from "../../auth/attemptToken.js";
import { FINISHED_TASK_STATES, type TaskState } from "../../core/states.js";
import { finishAttempt } from "../../runner/finishAttempt.js";
import { attemptServices, MissingConnectionError } from "../../runner/taskServices.js";
import { ErrorBody } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const BASE = "/task-api/attempts/:tiId/:tryNumber";
const MAX_LINES = 10_000;

const AttemptParams = z.object({ tiId: z.coerce.number().int().positive(), tryNumber: z.coerce.number().int().positive() });
const LogLine = z.strictObject({ ts: z.int(), stream: z.string().min(1).max(32), line: z.string().max(20_000) });
const Policy = z.strictObject({ retryDelayMs: z.int().min(0), retryExponentialBackoff: z.boolean(), maxRetryDelayMs: z.int().min(0) });
const DatasetEvent = z.strictObject({ uri: z.string().min(1).max(2000), dag_id: z.string(), run_id: z.string(), task_id: z.string(), map_index: z.int(), extra: z.string().nullable() });
const Outcome = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("success"), result: z.string().nullable(), datasetEvents: z.array(DatasetEvent).max(1000).optional() }),
  z.strictObject({ kind: z.literal("skipped"), message: z.string().max(100_000) }),
  z.strictObject({ kind: z.literal("failed"), error: z.string().max(100_000), retryable: z.boolean() }),
]);
const Ti = z.object({
  id: z.number(),
  run_pk: z.number(),
  dag_id: z.string(),
  run_id: z.string(),
  task_id: z.string(),
  map_index: z.number(),
  state: z.string(),
  try_number: z.number(),
  max_tries: z.number(),
  priority_weight: z.number(),
  pool: z.string(),
  pool_slots: z.number(),
  queue: z.string(),
  next_try_at: z.number().nullable(),
  queued_at: z.number().nullable(),
  start_date: z.number().nullable(),
  end_date: z.number().nullable(),
  duration_ms: z.number().nullable(),
  hostname: z.string().nullable(),
  pid: z.number().nullable(),
  owner_job: z.number().nullable(),
  heartbeat_at: z.number().nullable(),
  result: z.string().nullable(),
  error: z.string().nullable(),
  updated_at: z.number(),
});
const ResultRow = z.object({ task_id: z.string(), map_index: z.number(), result: z.string().nullable() });
export const TaskApiContext = z.object({
  ti: Ti,
  run: z.object({ logical_date: z.number(), interval_start: z.number(), interval_end: z.number(), params: z.string(), conf: z.string() }),
  fileloc: z.string(),
  bundleVersion: z.string().nullable(),
  /** Results of the task's upstream (and expand source) in the run's stored DAG version; a mapped instance's item is picked from them. */
  upstream: z.object({ taskIds: z.array(z.string()), rows: z.array(ResultRow) }),
  limits: z.object({ heartbeatIntervalMs: z.number(), maxResultBytes: z.number() }),
});
const Connection = z.object({
  connId: z.string(),
  connType: z.string(),
  host: z.string().nullable(),
  port: z.number().nullable(),
  login: z.string().nullable(),
  password: z.string().nullable(),
  schema: z.string().nullable(),
  extra: z.record(z.string(), z.unknown()),
});
const SparkNote = z.strictObject({
  connection_id: z.string().min(1).max(250),
  master: z.string().min(1).max(2000),
  deploy_mode: z.string().min(1).max(20),
  app_id: z.string().max(250).nullable(),
  driver_id: z.string().max(250).nullable(),
  state: z.string().min(1).max(50),
});
const SparkPatch = z.strictObject({ app_id: z.string().max(250).nullable().optional(), driver_id: z.string().max(250).nullable().optional(), state: z.string().min(1).max(50).optional() });

declare module "fastify" {
  interface FastifyContextConfig {
    /** Authenticated by an attempt token (taskApi.ts), not by the session/API-token hook. */
    taskApi?: boolean;
  }
}

const deny = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send({ error: { code, message } });

export function taskApiRoutes(app: ApiApp, deps: ApiDeps, tokens = new AttemptTokens(deps.config)): void {
  const { store, config, now } = deps;
  const verified = new WeakMap<FastifyRequest, AttemptTokenPayload>();

  // Runs before the body is read: a caller without a valid token for this attempt cannot make us parse anything.
  const onRequest = async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!m) return deny(reply, 401, "UNAUTHENTICATED", 'The task API needs an attempt token: send "Authorization: Bearer <token>" with the token the executor gave `sluice task run --token`.');
    const check = await tokens.verify(m[1], now());
    if (!check.ok) {
      if (check.reason === "expired") {
        return deny(reply, 401, "TOKEN_EXPIRED", `The attempt token expired at ${new Date(check.payload.exp).toISOString()}; this attempt can no longer report. The scheduler judges it by its heartbeat and retries it by its policy.`);
      }
      return deny(reply, 401, "UNAUTHENTICATED", "The attempt token is not valid here: only attempt tokens signed with this deployment's key (api.taskTokenKey) are accepted by the task API; API tokens and sessions are not.");
    }
    const params = req.params as { tiId?: string; tryNumber?: string };
    if (Number(params.tiId) !== check.payload.tiId || Number(params.tryNumber) !== check.payload.tryNumber) {
      return deny(reply, 403, "WRONG_ATTEMPT", `This token is for attempt ${check.payload.tryNumber} of task instance ${check.payload.tiId}, not for ${params.tiId}/${params.tryNumber}.`);
    }
    verified.set(req, check.payload);
  };
  const route = { config: { taskApi: true }, onRequest };
  const hidden = <T extends object>(extra: T) => ({ hide: true, params: AttemptParams, ...extra });

  /** The instance if it still runs on this try; the answer a write of a finished or taken-away attempt gets otherwise. */
  const running = async (tiId: number, tryNumber: number) => {
    const ti = await store.tasks.get(tiId);
    return ti && ti.try_number === tryNumber && ti.state === "running" ? ti : undefined;
  };

  app.get(`${BASE}/context`, { ...route, schema: hidden({ response: { 200: TaskApiContext, 404: ErrorBody } }) }, async (req, reply) => {
    const found = await store.tasks.attemptContext(req.params.tiId);
    if (!found) return deny(reply, 404, "TASK_NOT_FOUND", `Task instance ${req.params.tiId} no longer exists (its run was deleted).`);
    const runRow = await store.runs.byPk(found.ti.run_pk);
    const spec = runRow ? await store.dags.versionSpec(found.ti.dag_id, runRow.version_hash) : undefined;
    const task = spec?.tasks.find((t) => t.id === found.ti.task_id);
    const taskIds = [...new Set([...(task?.upstream ?? []), ...(task?.expand ? [task.expand.from] : [])])];
    const rows = await store.tasks.results(found.ti.run_pk, taskIds);
    return { ...found, upstream: { taskIds, rows }, limits: { heartbeatIntervalMs: config.scheduler.heartbeatIntervalMs, maxResultBytes: config.tasks.maxResultBytes } };
  });

  app.post(
    `${BASE}/claim`,
    {
      ...route,
      schema: hidden({
        body: z.strictObject({ from: z.array(z.enum(["queued", "running"])).min(1).max(2).default(["queued"]), hostname: z.string().min(1).max(255), pid: z.int().min(0) }),
        response: { 200: z.object({ claimed: z.boolean(), state: z.string().nullable() }) },
      }),
    },
    async (req) => {
      const { tiId, tryNumber } = req.params;
      const { from, hostname, pid } = req.body;
      const t = now();
      const claimed = await store.tasks.cas(tiId, from, { state: "running", start_date: t, end_date: null, hostname, pid, heartbeat_at: t, error: null, updated_at: t }, tryNumber);
      const ti = await store.tasks.get(tiId);
      // A retried claim whose first answer was lost: the row already names this runner.
      const ours = claimed || (ti?.try_number === tryNumber && ti.state === "running" && ti.hostname === hostname && ti.pid === pid);
      return { claimed: !!ours, state: ti?.state ?? null };
    },
  );

  app.post(
    `${BASE}/heartbeat`,
    { ...route, schema: hidden({ body: z.strictObject({}).optional(), response: { 200: z.object({ ours: z.boolean(), token: z.string().nullable() }) } }) },
    async (req) => {
      const { tiId, tryNumber } = req.params;
      const ours = await store.tasks.heartbeat(tiId, tryNumber, now());
      const p = verified.get(req)!;
      // Same lifetime as the token presented: a long task keeps a valid token as long as it heartbeats.
      const token = ours ? await tokens.issue({ tiId, tryNumber }, p.exp - p.iat, now()) : null;
      return { ours, token };
    },
  );

  app.post(
    `${BASE}/logs`,
    { ...route, schema: hidden({ body: z.strictObject({ lines: z.array(LogLine).max(MAX_LINES) }), response: { 204: z.null() } }) },
    async (req, reply) => {
      const { tiId, tryNumber } = req.params;
      await store.logs.append(req.body.lines.map((l) => ({ ti_id: tiId, try_number: tryNumber, ...l })));
      return reply.code(204).send(null);
    },
  );

  app.get(
    `${BASE}/connections/:connId`,
    { ...route, schema: { hide: true, params: AttemptParams.extend({ connId: z.string().min(1).max(250) }), response: { 200: Connection, 404: ErrorBody, 409: ErrorBody } } },
    async (req, reply) => {
      const { tiId, tryNumber, connId } = req.params;
      const ti = await running(tiId, tryNumber);
      if (!ti) return deny(reply, 409, "ATTEMPT_NOT_RUNNING", `Attempt ${tryNumber} of task instance ${tiId} is not running: connections are handed out only while it runs.`);
      const services = attemptServices(store, config, { tiId, dagId: ti.dag_id, runId: ti.run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber }, now);
      try {
        return await services.connection(connId);
      } catch (err) {
        if (err instanceof MissingConnectionError) return deny(reply, 404, "CONNECTION_NOT_FOUND", err.message);
        throw err;
      }
    },
  );

  app.post(
    `${BASE}/spark-apps`,
    { ...route, schema: hidden({ body: SparkNote, response: { 200: z.object({ id: z.number() }), 409: ErrorBody } }) },
    async (req, reply) => {
      const { tiId, tryNumber } = req.params;
      const ti = await running(tiId, tryNumber);
      if (!ti) return deny(reply, 409, "ATTEMPT_NOT_RUNNING", `Attempt ${tryNumber} of task instance ${tiId} is not running: it cannot record Spark applications.`);
      const id = await store.sparkApps.record({ ...req.body, ti_id: tiId, dag_id: ti.dag_id, run_id: ti.run_id, task_id: ti.task_id, map_index: ti.map_index, try_number: tryNumber }, now());
      return { id };
    },
  );

  app.patch(
    `${BASE}/spark-apps/:id`,
    { ...route, schema: { hide: true, params: AttemptParams.extend({ id: z.coerce.number().int().positive() }), body: SparkPatch, response: { 204: z.null(), 404: ErrorBody } } },
    async (req, reply) => {
      const { tiId, tryNumber, id } = req.params;
      // Only this attempt's own records (a state update may still arrive after the attempt ended).
      const mine = (await store.sparkApps.forTaskInstance(tiId)).some((a) => a.id === id && a.try_number === tryNumber);
      if (!mine) return deny(reply, 404, "SPARK_APP_NOT_FOUND", `Spark application record ${id} does not belong to attempt ${tryNumber} of task instance ${tiId}.`);
      await store.sparkApps.update(id, req.body, now());
      return reply.code(204).send(null);
    },
  );

  app.post(
    `${BASE}/finish`,
    {
      ...route,
      schema: hidden({
        body: z.strictObject({
          outcome: Outcome,
          policy: Policy,
          lines: z.array(LogLine).max(MAX_LINES),
          /** True when this is a retry of a finish whose answer was lost: its lines may already be stored. */
          resend: z.boolean().default(false),
        }),
        response: { 200: z.object({ state: z.string().nullable(), alreadyFinished: z.boolean() }), 404: ErrorBody },
      }),
    },
    async (req, reply) => {
      const { tiId, tryNumber } = req.params;
      const { outcome, policy, lines, resend } = req.body;
      const ti = await store.tasks.get(tiId);
      if (!ti) return deny(reply, 404, "TASK_NOT_FOUND", `Task instance ${tiId} no longer exists (its run was deleted).`);
      const logLines = lines.map((l) => ({ ti_id: tiId, try_number: tryNumber, ...l }));
      // The try's record is written from the row as the claim left it (start, host, pid), with the server's clock.
      const state = await store.transaction(async (tx) => {
        const written = await finishAttempt(tx, { ...ti, try_number: tryNumber }, outcome, policy, now());
        // With the state in one commit, like the local runner. A resend that lost the compare-and-set
        // most likely means the first send landed: its lines are stored already.
        if (written !== null || !resend) await tx.logs.append(logLines);
        return written;
      });
      if (state !== null) return { state, alreadyFinished: false };
      const after = await store.tasks.get(tiId);
      // Idempotent: a repeated finish of this try answers the state already written.
      const done = after !== undefined && after.try_number === tryNumber && (FINISHED_TASK_STATES.has(after.state as TaskState) || after.state === "up_for_retry");
      return { state: done ? after.state : null, alreadyFinished: done };
    },
  );
}
