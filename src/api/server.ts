/**
 * The REST API: a fastify instance with every /api/v1 route, its OpenAPI
 * document and browsable docs. Request validation and the OpenAPI document
 * come from the same zod schemas (fastify-type-provider-zod), so the docs
 * cannot drift from what the server accepts.
 *
 * createApiServer() does not listen: `sluice api` / `sluice standalone` call
 * listen(), tests use inject(). Auth and the web UI are separate slices.
 */
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { LogController, type FastifyBaseLogger } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { SluiceConfig } from "../config/config.js";
import type { Store } from "../store/store.js";
import { toHttpError } from "./errors.js";
import { dagRoutes } from "./routes/dags.js";
import { healthRoutes } from "./routes/health.js";
import { importErrorRoutes } from "./routes/importErrors.js";
import { runRoutes } from "./routes/runs.js";
import { taskRoutes } from "./routes/tasks.js";
import type { ApiApp, ApiDeps } from "./types.js";

export const API_PREFIX = "/api/v1";

export interface ApiServerOptions {
  store: Store;
  config: SluiceConfig;
  log: Logger;
  /** Called after trigger/pause/clear/mark so an in-process scheduler wakes at once (pass scheduler.wake). */
  onChange?: () => void;
  now?: () => number;
}

export function createApiServer(opts: ApiServerOptions): ApiApp {
  const maxBodyBytes = opts.config.api.maxBodyBytes;
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    // One line per request would drown the scheduler's log; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
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

  void app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: "Sluice REST API", version: "v1", description: "Manage and watch Sluice DAGs, runs and task instances. Errors: `{ error: { code, message, details? } }`." },
      tags: [
        { name: "health", description: "Liveness and version" },
        { name: "dags", description: "DAGs, their structure and import errors" },
        { name: "runs", description: "DAG runs: trigger, list, clear" },
        { name: "tasks", description: "Task instances, tries and logs" },
      ],
    },
    transform: jsonSchemaTransform,
  });
  void app.register(fastifySwaggerUi, { routePrefix: `${API_PREFIX}/docs` });

  void app.register(
    async (api) => {
      const typed = api.withTypeProvider<ZodTypeProvider>() as unknown as ApiApp;
      healthRoutes(typed, deps);
      dagRoutes(typed, deps);
      importErrorRoutes(typed, deps);
      runRoutes(typed, deps);
      taskRoutes(typed, deps);
      typed.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: API_PREFIX },
  );
  return app as unknown as ApiApp;
}
