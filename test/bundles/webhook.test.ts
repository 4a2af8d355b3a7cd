/**
 * The GitHub webhook and the sync endpoint against the real API server, on
 * SQLite and PostgreSQL, and end to end with a real git repository and a real
 * Sluice on the same database: a signed push makes the pushed DAG appear.
 * Also GitHub's documented signature test vector.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { githubSignature, repoKey, verifyGithubSignature } from "../../src/api/routes/webhooks.js";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { defaultConfig } from "../../src/config/config.js";
import { startApiServer, type RunningApi, type TestUser } from "../helpers/browser.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { waitFor } from "../e2e/helpers.js";
import { createTestRepo, type TestRepo } from "./gitRepo.js";

const SECRET = "a webhook secret of some length";

describe("GitHub signatures", () => {
  it("GitHub's documented test vector", () => {
    const sig = githubSignature("It's a Secret to Everybody", "Hello, World!");
    assert.equal(sig, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    assert.equal(verifyGithubSignature("It's a Secret to Everybody", Buffer.from("Hello, World!"), sig), true);
    assert.equal(verifyGithubSignature("It's a Secret to Everybody", Buffer.from("Hello, World?"), sig), false);
    assert.equal(verifyGithubSignature("It's a Secret to Everybody", Buffer.from("Hello, World!"), undefined), false);
    assert.equal(verifyGithubSignature("It's a Secret to Everybody", Buffer.from("Hello, World!"), "sha1=757107ea0eb2509fc211221cce984b8a37570b6d"), false);
  });
  it("repository URLs of every kind name the same repository", () => {
    for (const u of ["https://github.com/Org/Pipes.git", "git@github.com:org/pipes.git", "ssh://git@github.com/org/pipes", "org/pipes"]) assert.equal(repoKey(u), "org/pipes", u);
  });
});

const DAG = `import { dag } from "sluice";
export default dag({ id: "hooked", schedule: null }, (d) => { d.task("t", async () => "hooked"); });
`;

for (const dialect of DIALECTS) {
  describe(`webhooks and sync requests on ${dialect}`, () => {
    let repo: TestRepo;
    let dir: string;
    let sluice: Sluice;
    let api: RunningApi;
    let op: TestUser;
    let viewer: TestUser;
    let fullName: string;
    let n = 0;

    function push(sha: string, ref = "refs/heads/main") {
      return { ref, after: sha, repository: { full_name: fullName, clone_url: `https://github.com/${fullName}.git` }, pusher: { name: "ada" } };
    }
    async function deliver(event: string, body: unknown, o: { secret?: string | null; id?: string; raw?: string } = {}) {
      const text = o.raw ?? JSON.stringify(body);
      const headers: Record<string, string> = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": o.id ?? `delivery-${++n}` };
      if (o.secret !== null) headers["x-hub-signature-256"] = githubSignature(o.secret ?? SECRET, text);
      const res = await fetch(`${api.baseUrl}/api/v1/webhooks/github`, { method: "POST", headers, body: text });
      return { status: res.status, json: (await res.json()) as any };
    }
    const pending = async () => {
      const b = await sluice.store.bundles.get("pipes");
      return !!b && b.sync_requested_at !== null && (b.last_sync_at === null || b.sync_requested_at > b.last_sync_at);
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "sluice-webhook-"));
      repo = createTestRepo();
      fullName = repoKey(repo.url);
      repo.commit({ "README.md": "empty for now\n", "dags/.keep": "" }, "Empty");
      const config = defaultConfig();
      config.home = join(dir, "home");
      config.dagsFolder = join(dir, "local-dags");
      mkdirSync(config.dagsFolder);
      config.db.url = targetUrl(await freshTarget(dialect, "webhook"));
      config.scheduler.loopIntervalMs = 100;
      config.bundles = [{ name: "pipes", repo: repo.url, branch: "main", subdir: "dags", refreshIntervalMs: 3_600_000, keepVersions: 3 }];
      config.webhooks.github.secret = SECRET;
      config.webhooks.github.maxBodyBytes = 64 * 1024;
      sluice = await createSluice(config, pino({ level: "silent" }));
      await sluice.start();
      await waitFor("the first sync", async () => (await sluice.store.bundles.get("pipes"))?.last_sync_at != null, { timeoutMs: 30_000 });
      api = await startApiServer({
        store: sluice.store,
        config: (c) => {
          c.bundles = config.bundles;
          c.webhooks = config.webhooks;
        },
      });
      op = await api.createUser("operator", "ci");
      viewer = await api.createUser("viewer", "vic");
    });

    after(async () => {
      await api?.close();
      await sluice?.stop(5_000);
      repo?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("refuses a missing or wrong signature and changes nothing", async () => {
      const before = await sluice.store.bundles.get("pipes");
      const missing = await deliver("push", push("0".repeat(40)), { secret: null });
      assert.equal(missing.status, 401);
      assert.match(missing.json.error.message, /X-Hub-Signature-256/);
      const wrong = await deliver("push", push("0".repeat(40)), { secret: "another secret, not ours" });
      assert.equal(wrong.status, 401);
      assert.deepEqual(await sluice.store.bundles.get("pipes"), before);
    });

    it("answers ping, ignores other events, refuses a body over the limit", async () => {
      const ping = await deliver("ping", { zen: "Keep it logically awesome.", hook_id: 1 });
      assert.deepEqual([ping.status, ping.json.zen], [200, "Keep it logically awesome."]);
      const issue = await deliver("issues", { action: "opened" });
      assert.equal(issue.status, 202);
      assert.match(issue.json.ignored, /push events only/);
      assert.equal(await pending(), false);
      const big = await deliver("push", { ...push("1".repeat(40)), padding: "x".repeat(70 * 1024) });
      assert.equal(big.status, 413);
    });

    it("a signed push of a tracked branch makes the new DAG appear; a redelivery does nothing twice; other branches are ignored", async () => {
      const sha = repo.commit({ "dags/hooked.ts": DAG }, "Add hooked");
      const other = await deliver("push", push(sha, "refs/heads/feature"));
      assert.deepEqual([other.status, other.json.bundles], [202, []]);
      const r = await deliver("push", push(sha), { id: "the-delivery" });
      assert.deepEqual([r.status, r.json.bundles], [202, ["pipes"]]);
      const dag = await waitFor("the pushed DAG", async () => (await sluice.store.dags.get("hooked")) ?? undefined, { timeoutMs: 30_000 });
      assert.equal(dag.bundle_version, sha);
      await waitFor("the sync to finish", async () => (await sluice.store.bundles.get("pipes"))?.published_sha === sha, { timeoutMs: 30_000 });
      const again = await deliver("push", push(sha), { id: "the-delivery" });
      assert.deepEqual([again.status, again.json.duplicate], [200, true]);
      assert.equal(await pending(), false, "a redelivery asks for no sync");
    });

    it("POST /bundles/{name}/sync with an operator's token asks for a sync; a viewer may not; an unknown bundle is a 404", async () => {
      const call = (name: string, token: string) => fetch(`${api.baseUrl}/api/v1/bundles/${name}/sync`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
      assert.equal((await call("pipes", viewer.token)).status, 403);
      const missing = await call("nope", op.token);
      assert.equal(missing.status, 404);
      assert.match(((await missing.json()) as any).error.message, /configured: pipes/);
      const sha = repo.commit({ "dags/hooked.ts": DAG.replace('"hooked")', '"hooked again")') }, "Change hooked");
      assert.equal((await call("pipes", op.token)).status, 202);
      await waitFor("the requested sync", async () => (await sluice.store.dags.get("hooked"))?.bundle_version === sha, { timeoutMs: 30_000 });
      // The DAGs are written before the bundle's row says the commit is published: wait for the end of the sync.
      await waitFor("the sync to finish", async () => (await sluice.store.bundles.get("pipes"))?.published_sha === sha, { timeoutMs: 30_000 });
      const list = (await (await fetch(`${api.baseUrl}/api/v1/bundles`, { headers: { authorization: `Bearer ${viewer.token}` } })).json()) as any;
      assert.equal(list.bundles[0].publishedSha, sha);
      assert.deepEqual([list.bundles[0].commits[0].sha, list.bundles[0].commits[0].message, list.bundles[0].commits[0].outcome], [sha, "Change hooked", "published"]);
    });
  });
}
