/**
 * DAG versions and sources through the API, on SQLite and PostgreSQL: real
 * DAG files parsed by the real parser pool, a run created at one version, the
 * file edited (a code-only change), and the run's version still serving the
 * code the run was created with. 404s name what is missing; a viewer may read.
 */
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { DagProcessor } from "../../src/parser/dagProcessor.js";
import { ParserPool } from "../../src/parser/parserPool.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag } from "../../src/sdk/dag.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const V1 = "/api/v1";

const fileText = (answer: number) => `import { dag } from "sluice";

// The answer changes between versions; the structure does not.
export default dag({ id: "ml", schedule: null }, (d) => {
  d.task("answer", async () => ${answer}, { outlets: ["sluice://ml/answer"] });
});
`;

for (const dialect of DIALECTS) {
  describe(`DAG versions and sources API on ${dialect}`, () => {
    let store: Store;
    let pool: ParserPool;
    let app: ApiApp;
    let processor: DagProcessor;
    let viewer: { authorization: string };
    const clock = { t: T0 };
    const dir = mkdtempSync(join(tmpdir(), "sluice-sources-"));
    /** Version hashes by the answer in the file. */
    const versions: Record<number, string> = {};

    const call = async (url: string, headers: Record<string, string> = viewer) => {
      const res = await app.inject({ method: "GET", url: V1 + url, headers });
      return { status: res.statusCode, json: res.json() as any };
    };
    const expectError = async (url: string, status: number, code: string) => {
      const r = await call(url);
      assert.equal(r.status, status, `${url}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code);
      return r.json.error as { message: string; details?: Record<string, unknown> };
    };
    const parse = async (answer: number, at: number) => {
      clock.t = at;
      writeFileSync(join(dir, "ml.ts"), fileText(answer));
      await processor.scan();
      assert.deepEqual(await store.dags.importErrors(), []);
      versions[answer] = (await store.dags.get("ml"))!.version_hash;
    };

    before(async () => {
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      store = await freshStore(dialect, "sources");
      pool = new ParserPool({ processes: 1, timeoutMs: 20_000 });
      processor = new DagProcessor(store, pool, dir, { now: () => clock.t });
      // A DAG stored without source, as versions from before sources were kept are.
      const old = dag({ id: "old", schedule: null }, (d) => void d.task("t", async () => 1)).toSpec("old.ts");
      await store.dags.upsert(old, dagVersionHash(old), T0, false);
      await createUser(store, { username: "viewer", role: "viewer", password: "correct horse battery" });
      viewer = { authorization: `Bearer ${(await createToken(store, "viewer", "test")).token}` };
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), now: () => clock.t });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await pool?.stop();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("serves the code a run was created with after the file changed, and the current code by default", async () => {
      await parse(1, T0);
      const run = await triggerRun(store, "ml", { runId: "at_v1", now: T0 });
      await parse(2, T0 + 60_000);
      assert.notEqual(versions[2], versions[1], "a code-only edit is a new version");
      assert.equal(run.version_hash, versions[1]);

      const atRun = await call(`/dags/ml/source?version=${run.version_hash}`);
      assert.equal(atRun.status, 200, JSON.stringify(atRun.json));
      assert.deepEqual(atRun.json, { dagId: "ml", versionHash: versions[1], fileloc: "ml.ts", source: fileText(1) });
      const now = await call("/dags/ml/source");
      assert.deepEqual(now.json, { dagId: "ml", versionHash: versions[2], fileloc: "ml.ts", source: fileText(2) });
    });

    it("lists versions newest first, with the current one marked, whether each has its source, and run counts on request", async () => {
      await triggerRun(store, "ml", { runId: "at_v2_a", now: clock.t });
      await triggerRun(store, "ml", { runId: "at_v2_b", now: clock.t });
      const r = await call("/dags/ml/versions?runCounts=true");
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json, [
        { versionHash: versions[2], createdAt: new Date(T0 + 60_000).toISOString(), hasSource: true, isCurrent: true, runCount: 2, commit: null },
        { versionHash: versions[1], createdAt: new Date(T0).toISOString(), hasSource: true, isCurrent: false, runCount: 1, commit: null },
      ]);
      const page = await call("/dags/ml/versions?limit=1&offset=1");
      assert.deepEqual(page.json, [{ versionHash: versions[1], createdAt: new Date(T0).toISOString(), hasSource: true, isCurrent: false, commit: null }], "no run counts unless asked");
      assert.deepEqual((await call("/dags/old/versions")).json.map((v: { hasSource: boolean; isCurrent: boolean }) => [v.hasSource, v.isCurrent]), [[false, true]]);
    });

    it("a renamed file keeps its version and the current path is reported", async () => {
      renameSync(join(dir, "ml.ts"), join(dir, "renamed.ts"));
      await processor.scan();
      assert.equal((await store.dags.get("ml"))!.version_hash, versions[2]);
      const r = await call("/dags/ml/source");
      assert.deepEqual([r.json.versionHash, r.json.fileloc], [versions[2], "renamed.ts"]);
      renameSync(join(dir, "renamed.ts"), join(dir, "ml.ts"));
      await processor.scan();
    });

    it("answers 404 naming what is missing: the DAG, the version, or the version's source", async () => {
      const noDag = await expectError("/dags/nope/source", 404, "DAG_NOT_FOUND");
      assert.match(noDag.message, /No DAG "nope"/);
      await expectError("/dags/nope/versions", 404, "DAG_NOT_FOUND");
      const noVersion = await expectError("/dags/ml/source?version=0123456789abcdef", 404, "DAG_NOT_FOUND");
      assert.match(noVersion.message, /DAG "ml" has no version "0123456789abcdef"\. GET \/api\/v1\/dags\/ml\/versions lists its versions/);
      const noSource = await expectError("/dags/old/source", 404, "DAG_NOT_FOUND");
      assert.match(noSource.message, /Version "[0-9a-f]{16}" of DAG "old" has no stored source/);
      assert.equal(noSource.details?.reason, "source_not_stored");
    });

    it("answers 400 for a malformed version or page, and 401 without credentials", async () => {
      await expectError("/dags/ml/source?version=", 400, "VALIDATION_FAILED");
      await expectError(`/dags/ml/source?version=${"a".repeat(65)}`, 400, "VALIDATION_FAILED");
      await expectError("/dags/ml/versions?limit=0", 400, "VALIDATION_FAILED");
      await expectError("/dags/ml/versions?runCounts=maybe", 400, "VALIDATION_FAILED");
      assert.equal((await call("/dags/ml/source", {})).status, 401);
      assert.equal((await call("/dags/ml/versions", {})).status, 401);
    });

    it("documents both routes in the OpenAPI document under the dags tag", async () => {
      const doc = (await call("/openapi.json")).json as { paths: Record<string, { get?: { tags?: string[] } }> };
      for (const path of ["/dags/{dagId}/versions", "/dags/{dagId}/source"]) assert.deepEqual(doc.paths[`${V1}${path}`]?.get?.tags, ["dags"], path);
    });
  });
}
