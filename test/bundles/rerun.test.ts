/**
 * Git bundles through the API, on SQLite and PostgreSQL, against a real git
 * repository (a bare repo over file://) and a real Sluice (createSluice:
 * scheduler, local executor with real task processes, alert dispatcher):
 * - GET /dags/{id}/versions names each version's commit (sha, message, author, time);
 * - "rerun on latest" (clear with onLatest) moves a finished run to the
 *   current commit, and its tasks then run that commit's code; it is refused
 *   while the run has a task running, and when the latest version has other tasks;
 * - a sync that fails outright (an unreachable repository) sends a git sync
 *   failure alert to the configured notifier, with the token scrubbed.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createSluice, type Sluice } from "../../src/app/createSluice.js";
import { defaultConfig } from "../../src/config/config.js";
import { sameFailure } from "../../src/bundles/syncer.js";
import { HttpReceiver } from "../alerts/receivers.js";
import { startApiServer, type RunningApi, type TestUser } from "../helpers/browser.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { json, runSluice, show, sluiceEnv, waitFor } from "../e2e/helpers.js";
import { createTestRepo, type TestRepo } from "./gitRepo.js";

/** A DAG whose task waits for `gate` (when given) and answers which code ran. */
const dagSource = (version: string, gate: string, extraTask = false) => `import { existsSync } from "node:fs";
import { dag } from "sluice";
export default dag({ id: "fix", schedule: null }, (d) => {
  d.task("t", async () => {
    while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 25));
    return "ran ${version}";
  });
  ${extraTask ? `d.task("added", async () => "new");` : ""}
});
`;

for (const dialect of DIALECTS) {
  describe(`rerun on latest, commit metadata and git sync alerts on ${dialect}`, () => {
    let repo: TestRepo;
    let dir: string;
    let gate: string;
    let sluice: Sluice;
    let api: RunningApi;
    let op: TestUser;
    let receiver: HttpReceiver;
    const shas: string[] = [];

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api.baseUrl}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${op.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as any };
    };
    const runOf = async (runId: string) => (await call("GET", `/dags/fix/runs/${runId}`)).json;
    const finished = (runId: string) =>
      waitFor(`run ${runId} to finish`, async () => {
        const r = await runOf(runId);
        return r.state === "success" || r.state === "failed" ? r : undefined;
      }, { timeoutMs: 60_000 });
    const resultOf = async (runId: string) => (await call("GET", `/dags/fix/runs/${runId}/tasks/t/result`)).json.value;
    const publish = async (sha: string) => {
      const s = await sluice.bundles!.sync("pipes", "test push");
      assert.equal(s.sha, sha, s.message);
      return s;
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "sluice-rerun-"));
      gate = join(dir, "gate");
      writeFileSync(gate, "");
      repo = createTestRepo();
      shas.push(repo.commit({ "dags/fix.ts": dagSource("v1", gate) }, "First version\n\nWith a body."));
      receiver = await HttpReceiver.start();
      const config = defaultConfig();
      config.home = join(dir, "home");
      config.dagsFolder = join(dir, "local-dags");
      mkdirSync(config.dagsFolder);
      config.db.url = targetUrl(await freshTarget(dialect, "rerun"));
      config.scheduler.loopIntervalMs = 100;
      config.bundles = [
        { name: "pipes", repo: repo.url, branch: "main", subdir: "dags", refreshIntervalMs: 3_600_000, keepVersions: 3 },
        // Nothing is there: every sync of this bundle fails (and must say so through an alert, without the token).
        { name: "gone", repo: `https://127.0.0.1:9/nobody/nothing.git`, branch: "main", subdir: "", refreshIntervalMs: 3_600_000, keepVersions: 3, token: "ghp_thisMustNeverShow123" },
      ];
      config.alerts.pollIntervalMs = 100;
      config.alerts.default = ["ops"];
      config.alerts.notifiers = { ops: { kind: "webhook", url: receiver.url("/ops") } };
      sluice = await createSluice(config, pino({ level: "silent" }));
      await sluice.start();
      await waitFor("the first commit to be published", async () => (await sluice.store.bundles.get("pipes"))?.published_sha === shas[0], { timeoutMs: 30_000 });
      api = await startApiServer({ store: sluice.store, config: (c) => void (c.bundles = config.bundles) });
      op = await api.createUser("operator", "ops");
      await sluice.store.dags.setPaused("fix", false, Date.now());
    });

    after(async () => {
      writeFileSync(gate, "");
      await api?.close();
      await sluice?.stop(5_000);
      await receiver?.close();
      repo?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("a failed sync sends a git sync alert naming the bundle, without the token", async () => {
      const req = await waitFor("the git sync alert", async () => receiver.to("/ops").find((r) => r.json?.kind === "git_sync_failed"), { timeoutMs: 30_000 });
      assert.match(req.json.title, /bundle gone/);
      assert.match(req.json.error, /Sync of bundle "gone"/);
      assert.equal(req.json.details.bundle, "gone");
      assert.doesNotMatch(req.raw.toString("utf8"), /ghp_thisMustNeverShow123/);
      const listed = await call("GET", "/alerts?kind=git_sync_failed");
      assert.equal(listed.status, 200, JSON.stringify(listed.json));
      assert.ok(JSON.stringify(listed.json).includes("gone"), "the alert is in the history");
      // The same failure again is the same outage: no new alert (the syncer reports a failure when it starts or changes).
      const count = async () => (await sluice.store.alerts.list({ kinds: ["git_sync_failed"], limit: 50, offset: 0 })).total;
      const before = await count();
      for (let i = 0; i < 2; i++) assert.equal((await sluice.bundles!.sync("gone")).outcome, "error");
      assert.equal(await count(), before);
      // git's message carries a timing ("after 0 ms", "after 12 ms" on a loaded machine): still the same outage.
      assert.ok(sameFailure("Failed to connect to 127.0.0.1 port 9 after 0 ms", "Failed to connect to 127.0.0.1 port 9 after 12 ms"));
      assert.ok(!sameFailure("Failed to connect to 127.0.0.1 port 9 after 0 ms", "Repository not found"));
    });

    it("the versions API names each version's commit: sha, message, author and time", async () => {
      shas.push(repo.commit({ "dags/fix.ts": dagSource("v2", gate) }, "Fix the task"));
      // A run on the first commit, finished before the fix lands.
      assert.equal((await call("POST", "/dags/fix/runs", { runId: "before-fix" })).status, 201);
      assert.equal((await finished("before-fix")).state, "success");
      assert.equal(await resultOf("before-fix"), "ran v1");
      await publish(shas[1]);
      const versions = (await call("GET", "/dags/fix/versions")).json as any[];
      assert.equal(versions.length, 2);
      const [newest, oldest] = versions;
      assert.deepEqual([newest.isCurrent, newest.commit.sha, newest.commit.message, newest.commit.bundle], [true, shas[1], "Fix the task", "pipes"]);
      assert.deepEqual([oldest.isCurrent, oldest.commit.sha, oldest.commit.message], [false, shas[0], "First version\n\nWith a body."]);
      assert.equal(oldest.commit.author, "Ada Lovelace <ada@example.com>");
      assert.ok(Date.parse(oldest.commit.committedAt) <= Date.parse(newest.commit.committedAt));
      assert.ok(Math.abs(Date.parse(newest.commit.committedAt) - Date.now()) < 10 * 60_000, newest.commit.committedAt);
      const dag = (await call("GET", "/dags/fix")).json;
      assert.equal(dag.bundleVersion, shas[1]);
    });

    it("clear with onLatest moves a finished run to the latest commit; its task runs the new code", async () => {
      const before = await runOf("before-fix");
      assert.equal(before.bundleVersion, shas[0]);
      const plain = await call("POST", "/dags/fix/runs/before-fix/clear", { dryRun: true });
      assert.deepEqual([plain.json.cleared, plain.json.bundleVersion, plain.json.moved], [["t"], shas[0], false], "a plain clear keeps the run's commit");
      const dry = await call("POST", "/dags/fix/runs/before-fix/clear", { onLatest: true, dryRun: true });
      assert.deepEqual([dry.status, dry.json.cleared, dry.json.bundleVersion, dry.json.moved], [200, ["t"], shas[1], true], JSON.stringify(dry.json));
      assert.equal((await runOf("before-fix")).bundleVersion, shas[0], "a dry run moves nothing");

      const moved = await call("POST", "/dags/fix/runs/before-fix/clear", { onLatest: true });
      assert.equal(moved.status, 200, JSON.stringify(moved.json));
      assert.equal(moved.json.bundleVersion, shas[1]);
      const after = await finished("before-fix");
      assert.deepEqual([after.state, after.bundleVersion, after.versionHash], ["success", shas[1], moved.json.versionHash]);
      assert.equal(await resultOf("before-fix"), "ran v2");
    });

    it("is refused while a task of the run is running, and when the latest version has other tasks", async () => {
      rmSync(gate);
      assert.equal((await call("POST", "/dags/fix/runs", { runId: "busy" })).status, 201);
      await waitFor("task t of busy to run", async () => (await call("GET", "/dags/fix/runs/busy/tasks/t")).json.state === "running", { timeoutMs: 30_000 });
      shas.push(repo.commit({ "dags/fix.ts": dagSource("v3", gate) }, "Third version"));
      await publish(shas[2]);
      const busy = await call("POST", "/dags/fix/runs/busy/clear", { onLatest: true });
      assert.equal(busy.status, 409, JSON.stringify(busy.json));
      assert.match(busy.json.error.message, /queued or running on its commit \(t\); wait for them to finish or cancel the run/);
      assert.equal((await runOf("busy")).bundleVersion, shas[1], "nothing moved");
      writeFileSync(gate, "");
      assert.equal((await finished("busy")).state, "success");

      shas.push(repo.commit({ "dags/fix.ts": dagSource("v4", gate, true) }, "Add a task"));
      await publish(shas[3]);
      const changed = await call("POST", "/dags/fix/runs/busy/clear", { onLatest: true, dryRun: true });
      assert.equal(changed.status, 409, JSON.stringify(changed.json));
      assert.match(changed.json.error.message, /other tasks than run "busy" \(added: added\); .*trigger a new run/);
      assert.equal((await runOf("busy")).bundleVersion, shas[1]);
      assert.ok(existsSync(gate));
    });

    it("sluice tasks clear --latest: refused with the reason, then moves the run once the tasks match again", async () => {
      const env = sluiceEnv({ dbUrl: sluice.config.db.url, home: sluice.config.home });
      const refused = await runSluice(["tasks", "clear", "fix", "busy", "--latest"], env);
      assert.notEqual(refused.code, 0, show(refused));
      assert.match(refused.stderr, /added: added/);

      shas.push(repo.commit({ "dags/fix.ts": dagSource("v5", gate) }, "Drop the added task"));
      // The CLI's sync request, followed to the end by --wait (the syncer of the running Sluice does the work).
      const synced = await runSluice(["bundles", "sync", "pipes", "--wait", "--json"], env);
      assert.equal(synced.code, 0, show(synced));
      assert.deepEqual([json<{ published_sha: string; last_error: string | null }>(synced).published_sha, json<{ last_error: string | null }>(synced).last_error], [shas[4], null]);
      const unknown = await runSluice(["bundles", "sync", "pipe"], env);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /No bundle "pipe" — did you mean "pipes"\? Known: gone, pipes\./);
      const listed = json<{ name: string; published_sha: string | null; last_error: string | null }[]>(await runSluice(["bundles", "list", "--json"], env));
      assert.deepEqual(listed.map((b) => [b.name, b.published_sha, b.last_error === null]), [["gone", null, false], ["pipes", shas[4], true]]);
      const ok = await runSluice(["tasks", "clear", "fix", "busy", "--latest", "--json"], env);
      assert.equal(ok.code, 0, show(ok));
      assert.deepEqual(json(ok), { cleared: ["t"], versionHash: (await call("GET", "/dags/fix")).json.versionHash, bundleVersion: shas[4], moved: true });
      assert.equal((await finished("busy")).bundleVersion, shas[4]);
      assert.equal(await resultOf("busy"), "ran v5");
    });
  });
}
