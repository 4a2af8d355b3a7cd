/**
 * The REST API: a fastify instance with every /api/v1 route, its OpenAPI
 * document and browsable docs. Request validation and the OpenAPI document
 * come from the same zod schemas (fastify-type-provider-zod), so the docs
 * cannot drift from what the server accepts.
 *
 * createApiServer() does not listen: `sluice api` / `sluice standalone` call
 * listen(), tests use inject(). Auth (api.auth, on by default) is enforced by
 * one onRequest hook (auth.ts); the web UI is a separate slice.
 */
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { SluiceConfig } from "../config/config.js";
import type { Store } from "../store/store.js";
import { authHook, authRoutes, isPublic } from "./auth.js";
import { toHttpError } from "./errors.js";
import { jsonDepthExceeds, MAX_BODY_DEPTH } from "./jsonDepth.js";
import { dagRoutes } from "./routes/dags.js";
import { healthRoutes, rootHealthRoute } from "./routes/health.js";
import { importErrorRoutes } from "./routes/importErrors.js";
import { runRoutes } from "./routes/runs.js";
import { poolRoutes } from "./routes/pools.js";
import { variableRoutes } from "./routes/variables.js";
import { connectionRoutes } from "./routes/connections.js";
import { userRoutes } from "./routes/users.js";
import { datasetRoutes } from "./routes/datasets.js";
import { eventRoutes } from "./routes/events.js";
import { gridRoutes } from "./routes/grid.js";
import { sourceRoutes } from "./routes/sources.js";
import { sparkRoutes } from "./routes/spark.js";
import { taskRoutes } from "./routes/tasks.js";
import { taskApiRoutes } from "./routes/taskApi.js";
import { autoscalerRoutes } from "./routes/autoscaler.js";
import { alertRoutes } from "./routes/alerts.js";
import { bundleRoutes } from "./routes/bundles.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { metricsRoute } from "./routes/metrics.js";
import { uiRoutes, type UiOptions } from "./ui.js";
import { ErrorBody } from "./schemas.js";
import type { ApiApp, ApiDeps } from "./types.js";

export const API_PREFIX = "/api/v1";

export interface ApiServerOptions {
  store: Store;
  config: SluiceConfig;
  log: Logger;
  /** Called after trigger/pause/clear/mark so an in-process scheduler wakes at once (pass scheduler.wake). */
  onChange?: () => void;
  now?: () => number;
  /** The web UI at "/" (dist/ui); false serves the API alone. */
  ui?: UiOptions | false;
}

export function createApiServer(opts: ApiServerOptions): ApiApp {
  const maxBodyBytes = opts.config.api.maxBodyBytes;
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    // One line per request would drown the scheduler's log; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
    // Errors fastify raises before routing (a malformed URL such as /dags/%ZZ) get the same body as every other error.
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = toHttpError(err, maxBodyBytes);
      void (reply as unknown as FastifyReply).code(status).send(body);
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttpError(err, maxBodyBytes);
    if (status >= 500) req.log.error({ err, method: req.method, url: req.url }, "API request failed");
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: "NOT_FOUND", message: `No route ${req.method} ${req.url.split("?")[0]}. GET ${API_PREFIX}/docs lists them.` } }),
  );

  const deps: ApiDeps = {
    store: opts.store,
    config: opts.config,
    // A listener's bug must not turn a successful write into a 500.
    onChange: () => {
      try {
        opts.onChange?.();
      } catch (err) {
        opts.log.warn({ err }, "API onChange listener failed");
      }
    },
    now: opts.now ?? Date.now,
  };

  app.addHook("preValidation", async (req, reply) => {
    if (req.body !== null && typeof req.body === "object" && jsonDepthExceeds(req.body, MAX_BODY_DEPTH)) {
      return reply.code(400).send({ error: { code: "INVALID_BODY", message: `The JSON body is nested more than ${MAX_BODY_DEPTH} levels deep. Flatten it, or pass a reference to the data instead.` } });
    }
  });

  app.decorateRequest("auth", null);
  if (opts.config.api.auth) {
    app.addHook("onRequest", authHook(deps, API_PREFIX));
    // Document what the hook does: protected routes may answer 401/403; public ones need no credentials.
    app.addHook("onRoute", (route) => {
      if (!route.url.startsWith(API_PREFIX) || !route.schema || route.schema.hide) return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (methods.every((m) => isPublic(m, route.url, API_PREFIX))) {
        route.schema = { ...route.schema, security: [] };
        return;
      }
      const response = (route.schema.response ?? {}) as Record<string, unknown>;
      route.schema = { ...route.schema, response: { 401: ErrorBody, 403: ErrorBody, ...response } };
    });
  }

  void app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Sluice REST API",
        version: "v1",
        description:
          "Manage and watch Sluice DAGs, runs and task instances. Errors: `{ error: { code, message, details? } }`. " +
          "Authenticate with `Authorization: Bearer <token>` (`sluice users token <username>`) or the session cookie from POST /auth/login; " +
          "cookie requests that change state also send `X-CSRF-Token`. Viewers read; operators also trigger, pause, clear and mark; admins do everything.",
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "An API token (slc_…) from `sluice users token`." },
          cookieAuth: { type: "apiKey", in: "cookie", name: "sluice_session", description: "Set by POST /api/v1/auth/login." },
        },
      },
      security: [{ bearerAuth: [] }, { cookieAuth: [] }],
      tags: [
        { name: "health", description: "Liveness and version" },
        { name: "auth", description: "Sign in and out; who am I" },
        { name: "dags", description: "DAGs, their structure and import errors" },
        { name: "runs", description: "DAG runs: trigger, list, clear" },
        { name: "tasks", description: "Task instances, tries and logs" },
        { name: "live", description: "Server-sent events: state changes and log tails" },
        { name: "datasets", description: "Datasets tasks produce and consume, and their events" },
        { name: "admin", description: "Pools, variables, connections and users" },
        { name: "alerts", description: "Failure alerts: history, deliveries per notifier and their attempts, notifier state" },
        { name: "bundles", description: "DAG code from git: bundles, their commits, sync requests" },
      ],
    },
    transform: jsonSchemaTransform,
  });
  void app.register(fastifySwaggerUi, { routePrefix: `${API_PREFIX}/docs` });

  void app.register(
    async (api) => {
      const typed = api.withTypeProvider<ZodTypeProvider>() as unknown as ApiApp;
      healthRoutes(typed, deps);
      authRoutes(typed, deps);
      dagRoutes(typed, deps);
      importErrorRoutes(typed, deps);
      runRoutes(typed, deps);
      taskRoutes(typed, deps);
      poolRoutes(typed, deps);
      variableRoutes(typed, deps);
      connectionRoutes(typed, deps);
      userRoutes(typed, deps);
      datasetRoutes(typed, deps);
      eventRoutes(typed, deps);
      gridRoutes(typed, deps);
      sourceRoutes(typed, deps);
      sparkRoutes(typed, deps);
      taskApiRoutes(typed, deps);
      autoscalerRoutes(typed, deps);
      alertRoutes(typed, deps);
      bundleRoutes(typed, deps);
      webhookRoutes(typed, deps);
      typed.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: API_PREFIX },
  );

  rootHealthRoute(app as unknown as ApiApp, deps);
  metricsRoute(app as unknown as ApiApp, deps);

  // --- Web UI (src/api/ui.ts): the single-page app and its assets, outside /api. ---
  if (opts.ui !== false) uiRoutes(app as unknown as ApiApp, opts.ui ?? {});

  return app as unknown as ApiApp;
}
