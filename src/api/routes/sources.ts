import { z } from "zod";
import { parseBundleFileloc } from "../../bundles/checkout.js";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import type { Store } from "../../store/store.js";
import { notFound } from "../errors.js";
import { DagIdParams, errors, iso, Page, queryBool, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const Commit = z.object({
  bundle: z.string().describe("The git bundle (config bundles[].name)."),
  sha: z.string().describe("Full commit id."),
  message: z.string().nullable().describe("Commit message; null when the commit's details were not recorded."),
  author: z.string().nullable().describe('"Name <email>" of the commit\'s author.'),
  committedAt: Timestamp.nullable(),
});

const Version = z.object({
  versionHash: z.string(),
  createdAt: Timestamp.describe("When this version was first stored (first parse of that file content)."),
  hasSource: z.boolean().describe("False for versions stored before Sluice kept DAG file sources, or whose file was over 1 MiB."),
  isCurrent: z.boolean().describe("The version new runs are created with."),
  runCount: z.number().optional().describe("Runs created with this version; only with runCounts=true."),
  commit: Commit.nullable().describe("The git commit this version first appeared in; null for DAGs from the local DAG folder."),
});

const Source = z.object({
  dagId: z.string(),
  versionHash: z.string(),
  fileloc: z.string().describe("File that defined the DAG at this version, relative to the DAG folder."),
  source: z.string().describe("The file's text at this version."),
});

const noDag = (dagId: string) => notFound(ErrorCode.DagNotFound, `No DAG "${dagId}". GET /api/v1/dags lists the DAGs Sluice knows.`);

/** DAG versions and the DAG file's text at each one (the Code view, at a run's version). */
export function sourceRoutes(app: ApiApp, { store }: ApiDeps): void {
  app.get(
    "/dags/:dagId/versions",
    {
      schema: {
        tags: ["dags"],
        summary: "Stored versions of a DAG, newest first (each edit of its file that parsed is a version)",
        params: DagIdParams,
        querystring: z.object({
          runCounts: queryBool
            .default(false)
            .describe("Also count each version's runs. Reads every run of the DAG (measured ~30-70 ms on SQLite for 100k runs of one DAG), hence opt-in."),
          ...Page,
        }),
        response: { 200: z.array(Version), ...errors(400, 404) },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      const dag = await store.dags.get(dagId);
      if (!dag) throw noDag(dagId);
      const { runCounts, ...page } = req.query;
      const versions = await store.dags.versions(dagId, page);
      // No index covers (dag_id, version_hash) on dag_run: one grouped count over this DAG's runs, for this page only.
      const runs = runCounts ? await store.dags.runCountsByVersion(dagId, versions.map((v) => v.version_hash)) : undefined;
      const commits = await commitsOf(store, versions);
      return versions.map((v) => ({
        versionHash: v.version_hash,
        createdAt: iso(v.created_at)!,
        hasSource: v.has_source,
        isCurrent: v.version_hash === dag.version_hash,
        ...(runs ? { runCount: runs.get(v.version_hash) ?? 0 } : {}),
        commit: commits.get(v.version_hash) ?? null,
      }));
    },
  );

  app.get(
    "/dags/:dagId/source",
    {
      schema: {
        tags: ["dags"],
        summary: "The DAG file's text at a version (default: current; pass a run's versionHash for the code it ran)",
        params: DagIdParams,
        querystring: z.object({ version: z.string().min(1).max(64).optional().describe("Version hash (a run's versionHash); default: current.") }),
        response: { 200: Source, ...errors(400, 404) },
      },
    },
    async (req) => {
      const { dagId } = req.params;
      const dag = await store.dags.get(dagId);
      if (!dag) throw noDag(dagId);
      const versionHash = req.query.version ?? dag.version_hash;
      const found = await store.dags.versionSource(dagId, versionHash);
      if (!found) throw notFound(ErrorCode.DagNotFound, `DAG "${dagId}" has no version "${versionHash}". GET /api/v1/dags/${dagId}/versions lists its versions.`);
      if (found.source === null) {
        throw new SluiceError(
          ErrorCode.DagNotFound,
          `Version "${versionHash}" of DAG "${dagId}" has no stored source: it was recorded before Sluice kept DAG file sources, or its file was larger than 1 MiB. ` +
            `Versions with hasSource true in GET /api/v1/dags/${dagId}/versions have it.`,
          { details: { dagId, versionHash, reason: "source_not_stored" } },
        );
      }
      // A renamed file keeps its version (same text), so the current path comes from the DAG row.
      return { dagId, versionHash, fileloc: versionHash === dag.version_hash ? dag.fileloc : found.fileloc, source: found.source };
    },
  );
}

/** Each bundle version's commit (message, author, time) from bundle_commit; one lookup per distinct commit of the page. */
async function commitsOf(store: Store, versions: readonly { version_hash: string; bundle_version: string | null; fileloc: string | null }[]) {
  const out = new Map<string, z.infer<typeof Commit>>();
  const seen = new Map<string, z.infer<typeof Commit>>();
  for (const v of versions) {
    const bundle = v.fileloc ? parseBundleFileloc(v.fileloc)?.bundle : undefined;
    if (!bundle || !v.bundle_version) continue;
    const key = `${bundle}\u0000${v.bundle_version}`;
    let c = seen.get(key);
    if (!c) {
      const row = await store.bundles.commit(bundle, v.bundle_version);
      c = { bundle, sha: v.bundle_version, message: row?.message ?? null, author: row?.author ?? null, committedAt: row ? iso(row.committed_at)! : null };
      seen.set(key, c);
    }
    out.set(v.version_hash, c);
  }
  return out;
}
