import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { describeError } from "../../core/errors.js";
import { iso, MaybeTimestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

/** Sluice's own package.json, found by walking up (the depth differs between src/ under tsx and dist/src/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "sluice" && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return "unknown";
}

const Health = z.object({
  status: z.enum(["ok", "unhealthy"]).describe('"unhealthy" (with status 503) when the database cannot be reached.'),
  database: z.object({ ok: z.boolean(), error: z.string().optional() }),
  scheduler: z.object({
    lastHeartbeat: MaybeTimestamp.describe("Latest heartbeat of any scheduler; null if none ever ran on this database."),
    heartbeatAgeMs: z.number().nullable(),
    state: z.string().nullable().describe('"running", "ended" or "dead" (as the scheduler job table records it).'),
  }),
});

const Version = z.object({ version: z.string(), api: z.literal("v1"), node: z.string() });

type HealthBody = z.output<typeof Health>;

/** One query both proves the database answers and reads the heartbeat. */
async function checkHealth(deps: ApiDeps): Promise<{ code: 200 | 503; body: HealthBody }> {
  try {
    const job = await deps.store.jobs.latest("scheduler");
    const beat = job ? Number(job.heartbeat_at) : null;
    return {
      code: 200,
      body: {
        status: "ok",
        database: { ok: true },
        scheduler: { lastHeartbeat: iso(beat), heartbeatAgeMs: beat === null ? null : Math.max(0, deps.now() - beat), state: job?.state ?? null },
      },
    };
  } catch (err) {
    return {
      code: 503,
      body: {
        status: "unhealthy",
        database: { ok: false, error: describeError(err).split("\n")[0] },
        scheduler: { lastHeartbeat: null, heartbeatAgeMs: null, state: null },
      },
    };
  }
}

/** The same check at the server root (/health), where probes and load balancers look first; public like its /api/v1 twin. */
export function rootHealthRoute(app: ApiApp, deps: ApiDeps): void {
  app.get("/health", { schema: { hide: true, response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const r = await checkHealth(deps);
    return reply.code(r.code).send(r.body);
  });
}

export function healthRoutes(app: ApiApp, deps: ApiDeps): void {
  const version = packageVersion();

  app.get(
    "/health",
    {
      schema: {
        tags: ["health"],
        summary: "Liveness: database reachable, age of the latest scheduler heartbeat",
        response: { 200: Health, 503: Health },
      },
    },
    async (_req, reply) => {
      const r = await checkHealth(deps);
      return reply.code(r.code).send(r.body);
    },
  );

  app.get(
    "/version",
    { schema: { tags: ["health"], summary: "Sluice version", response: { 200: Version } } },
    async () => ({ version, api: "v1" as const, node: process.version }),
  );
}
