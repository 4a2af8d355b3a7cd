/**
 * Git bundles in the API: their sync state and the commits they checked
 * (GET /bundles), and POST /bundles/{name}/sync for Jenkins or any CI (an API
 * token of an operator or admin): the sync runs in the scheduler's bundle
 * syncer within a second or so; the answer does not wait for it.
 */
import { z } from "zod";
import type { BundleCommitRow, BundleRow } from "../../store/bundleQueries.js";
import { errors, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const Commit = z.object({
  sha: z.string(),
  message: z.string(),
  author: z.string(),
  committedAt: Timestamp,
  checkedAt: Timestamp,
  outcome: z.enum(["published", "partial", "failed"]).describe("published: every DAG file imported; partial: some failed (their DAGs stay on an older commit); failed: none imported."),
  errors: z.number(),
  dags: z.number(),
});
const Bundle = z.object({
  name: z.string(),
  repo: z.string(),
  branch: z.string(),
  subdir: z.string(),
  publishedSha: z.string().nullable(),
  publishedAt: Timestamp.nullable(),
  lastSyncAt: Timestamp.nullable(),
  lastError: z.string().nullable(),
  syncPending: z.boolean().describe("A sync was asked for and has not run yet."),
  commits: z.array(Commit).describe("The newest commits checked, newest first."),
});

const commitJson = (c: BundleCommitRow): z.output<typeof Commit> => ({
  sha: c.sha,
  message: c.message,
  author: c.author,
  committedAt: iso(c.committed_at)!,
  checkedAt: iso(c.checked_at)!,
  outcome: c.outcome,
  errors: c.errors,
  dags: c.dags,
});

export function bundleRoutes(app: ApiApp, { store, config, now }: ApiDeps): void {
  const configured = (name: string) => config.bundles.find((b) => b.name === name);
  const notFound = (name: string) => ({
    error: { code: "BUNDLE_NOT_FOUND", message: `No bundle "${name}" is configured (configured: ${config.bundles.map((b) => b.name).join(", ") || "none"}). Bundles come from the bundles setting.` },
  });

  app.get(
    "/bundles",
    { schema: { tags: ["bundles"], summary: "Configured git bundles with their published commit, sync state and recent commits", response: { 200: z.object({ bundles: z.array(Bundle) }) } } },
    async () => {
      const rows = new Map((await store.bundles.list()).map((r) => [r.name, r]));
      const out = [];
      for (const b of config.bundles) {
        const r: Partial<BundleRow> = rows.get(b.name) ?? {};
        out.push({
          name: b.name,
          repo: b.repo,
          branch: b.branch,
          subdir: b.subdir,
          publishedSha: r.published_sha ?? null,
          publishedAt: iso(r.published_at ?? null),
          lastSyncAt: iso(r.last_sync_at ?? null),
          lastError: r.last_error ?? null,
          syncPending: r.sync_requested_at != null && (r.last_sync_at == null || r.sync_requested_at > r.last_sync_at),
          commits: (await store.bundles.commits(b.name, 20)).map(commitJson),
        });
      }
      return { bundles: out };
    },
  );

  app.post(
    "/bundles/:name/sync",
    {
      schema: {
        tags: ["bundles"],
        summary: "Ask for a sync of a bundle now (for CI after a push); answers at once, the sync runs in the background",
        params: z.object({ name: z.string() }),
        response: { 202: z.object({ requested: z.literal(true), bundle: z.string() }), ...errors(404) },
      },
    },
    async (req, reply) => {
      const b = configured(req.params.name);
      if (!b) return reply.code(404).send(notFound(req.params.name));
      await store.bundles.ensure([b]);
      const who = req.auth?.user.username ?? "anonymous";
      await store.bundles.requestSync(b.name, `requested through the API by ${who}`, now());
      return reply.code(202).send({ requested: true as const, bundle: b.name });
    },
  );
}
