/**
 * Git bundles in the web UI, in headless Chromium, against a real `sluice
 * standalone` on SQLite and on PostgreSQL that follows a real git repository
 * (a bare repo over file://, SLUICE_BUNDLES). Commits are pushed by the test
 * and synced through POST /bundles/pipes/sync, as a CI job would.
 *
 * Two commits of DAG "pipe": the Code view's version picker names both
 * commits with their messages, the selected version shows its commit
 * (sha, message, author), and "Compare with" the first shows the changed
 * line as removed and added (with "-"/"+", both line numbers) between folded
 * unchanged stretches. A run that finished on the first commit is shown on
 * it; Clear with "Run on the latest code" previews the move from the first
 * commit to the second, makes it (the run header shows the new commit, the
 * API's bundleVersion is the new sha, the task's result is the new code's),
 * and then says the run already is on the latest code. A third commit adds a
 * task: running a run of the second commit on it is refused with the
 * server's 409 message and the confirm button stays disabled.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { axe, journeySteps, launchBrowser, screenshot, signIn, type Browser } from "../helpers/browser.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { killLeftovers, makeProject, sluiceEnv, startStandalone, waitFor, type Project, type SluiceProcess } from "../e2e/helpers.js";
import { createTestRepo, type TestRepo } from "../bundles/gitRepo.js";

/** Scheduler and sync progress on a busy 2-core machine. */
const PROGRESS_MS = 45_000;
const DAG_ID = "pipe";

/**
 * The DAG file at a version: task a returns the version's label (line 12),
 * so two versions differ in that one line; the comment lines around it give
 * the diff unchanged stretches to fold. `withC` adds a third task.
 */
function pipeSource(label: string, withC = false): string {
  return `// The pipe DAG of the bundles browser test.
import { dag } from "sluice";

// Unchanged lines above the change:
// one
// two
// three
// four
// five

export default dag({ id: "${DAG_ID}", schedule: null, retries: 0 }, (d) => {
  const a = d.task("a", async () => "a ${label}");
  d.task("b", async (_ctx, { a: x }) => \`\${x}, b\`, { upstream: [a] });
${withC ? `  d.task("c", async () => "c", { upstream: [a] });\n` : ""}});

// Unchanged lines below the change:
// six
// seven
// eight
`;
}

interface ApiRun {
  runId: string;
  state: string;
  versionHash: string;
  bundleVersion: string | null;
}
interface ApiVersion {
  versionHash: string;
  commit: { sha: string; message: string | null; author: string | null } | null;
}

for (const dialect of DIALECTS) {
  describe(`git bundles in the UI, real standalone, on ${dialect}`, () => {
    let project: Project;
    let repo: TestRepo;
    let sa: SluiceProcess;
    let browser: Browser;
    let page: Page;
    let base: string;
    let session: { cookie: string; csrf: string };
    const shas: string[] = [];
    const versionOf = new Map<string, string>();

    const { context, ui, until } = journeySteps({ failureShot: `bundles-failed-${dialect}`, page: () => page, output: () => sa.output(), progressMs: PROGRESS_MS });

    /** The REST API as the admin, from this process (a session of its own, not the page's). */
    async function call<T>(method: "GET" | "POST" | "PATCH", path: string, body?: unknown): Promise<{ status: number; body: T }> {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { cookie: session.cookie, "x-csrf-token": session.csrf, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as T };
    }
    async function ok<T>(method: "GET" | "POST" | "PATCH", path: string, body?: unknown): Promise<T> {
      const r = await call<T>(method, path, body);
      assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    }

    /** Push a commit, ask for a sync as CI does, and wait until GET /bundles shows it published. */
    async function pushAndSync(files: Record<string, string>, message: string): Promise<string> {
      const sha = repo.commit(files, message);
      const asked = await call<{ requested: boolean }>("POST", "/bundles/pipes/sync");
      assert.equal(asked.status, 202, JSON.stringify(asked.body));
      await until(`commit ${sha.slice(0, 12)} ("${message}") to be published`, async () => {
        const { bundles } = await ok<{ bundles: { name: string; publishedSha: string | null }[] }>("GET", "/bundles");
        return bundles.find((b) => b.name === "pipes")?.publishedSha === sha;
      });
      shas.push(sha);
      return sha;
    }

    /** The DAG version each commit produced (from GET /versions: commit → version hash). */
    async function learnVersions(): Promise<ApiVersion[]> {
      const list = await ok<ApiVersion[]>("GET", `/dags/${DAG_ID}/versions`);
      for (const v of list) if (v.commit) versionOf.set(v.commit.sha, v.versionHash);
      return list;
    }

    async function finishedRun(runId: string): Promise<ApiRun> {
      return until(`run ${runId} to finish`, async () => {
        const r = await ok<ApiRun>("GET", `/dags/${DAG_ID}/runs/${runId}`);
        return r.state === "success" || r.state === "failed" ? r : undefined;
      });
    }

    async function trigger(runId: string): Promise<ApiRun> {
      await ok("POST", `/dags/${DAG_ID}/runs`, { runId });
      const r = await finishedRun(runId);
      assert.equal(r.state, "success", `run ${runId} did not succeed\n${context()}`);
      return r;
    }

    const resultOf = async (runId: string, taskId: string) => (await ok<{ value: unknown }>("GET", `/dags/${DAG_ID}/runs/${runId}/tasks/${taskId}/result`)).value;
    const clearDialog = (runId: string) => page.getByRole("dialog", { name: `Clear run ${runId}?` });

    before(async () => {
      repo = createTestRepo();
      shas.push(repo.commit({ [`dags/${DAG_ID}.ts`]: pipeSource("v1"), "README.md": "pipelines\n" }, "First pipeline"));
      project = makeProject();
      const target = await freshTarget(dialect, "browser_bundles");
      const bundles = [{ name: "pipes", repo: repo.url, branch: "main", subdir: "dags", refreshIntervalMs: 3_600_000 }];
      const env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home, extra: { SLUICE_BUNDLES: JSON.stringify(bundles) } });
      sa = startStandalone(project.dags, env, project.dir);
      const password = await waitFor("the first-start admin password", () => /^\s*password: (\S+)\s*$/m.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });
      base = await waitFor("the REST API address", () => /REST API on (http:\/\/\S+?)\/api\/v1/.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });

      const login = await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password }) });
      assert.equal(login.status, 200, await login.clone().text());
      session = { cookie: /^sluice_session=[^;]+/.exec(login.headers.get("set-cookie") ?? "")![0], csrf: ((await login.json()) as { csrfToken: string }).csrfToken };

      // The start-up sync publishes the first commit.
      await until("the first commit to be published", async () => {
        const { bundles: list } = await ok<{ bundles: { name: string; publishedSha: string | null }[] }>("GET", "/bundles");
        return list.find((b) => b.name === "pipes")?.publishedSha === shas[0];
      });
      await ok("PATCH", `/dags/${DAG_ID}`, { paused: false });

      browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      await signIn(page, base, "admin", password, { timeoutMs: PROGRESS_MS });
    });

    after(async () => {
      await browser?.close();
      if (sa?.alive) {
        const exit = await sa.stop();
        assert.deepEqual(exit.leftovers, [], "processes of the standalone outlived it");
      }
      assert.deepEqual(await killLeftovers(), [], "processes were left running");
      repo?.close();
    });

    it("a run on the first commit runs its code and records the commit", async () => {
      const r1 = await trigger("r1");
      assert.equal(r1.bundleVersion, shas[0]);
      assert.equal(await resultOf("r1", "b"), "a v1, b");
    });

    it("the Code view names each version's commit and shows the selected one's", async () => {
      await pushAndSync({ [`dags/${DAG_ID}.ts`]: pipeSource("v2") }, "Fix pipe\n\nTask a now says v2.");
      const versions = await learnVersions();
      assert.equal(versions.length, 2, JSON.stringify(versions));
      assert.ok(versionOf.has(shas[0]) && versionOf.has(shas[1]), `each commit has its version: ${JSON.stringify(versions)}`);

      await page.goto(`${base}/dags/${DAG_ID}/code`);
      const picker = page.getByLabel("Version", { exact: true });
      await ui("the current version's commit", page.getByTestId("version-commit").getByText(shas[1].slice(0, 12)).waitFor());
      const commit = await page.getByTestId("version-commit").innerText();
      assert.match(commit, /Fix pipe/);
      assert.doesNotMatch(commit, /Task a now says v2/, "only the message's first line");
      assert.match(commit, /Ada Lovelace/);
      assert.equal(await picker.inputValue(), versionOf.get(shas[1]));

      const options = await picker.locator("option").allInnerTexts();
      const first = options.find((o) => o.startsWith(shas[0].slice(0, 12)));
      const second = options.find((o) => o.startsWith(shas[1].slice(0, 12)));
      assert.ok(first && second, `both commits in the picker: ${JSON.stringify(options)}`);
      assert.match(first, / · First pipeline · .+ · 1 run$/);
      assert.match(second, / · Fix pipe · .+ · 0 runs · current$/);

      // The first commit's source, from the picker.
      await picker.selectOption(versionOf.get(shas[0])!);
      await ui("the first commit's line in the source", page.locator(".code").getByText('"a v1"').waitFor());
      assert.match(await page.getByTestId("version-commit").innerText(), /First pipeline/);
      await picker.selectOption(versionOf.get(shas[1])!);
      await ui("the second commit's line in the source", page.locator(".code").getByText('"a v2"').waitFor());
    });

    it("comparing with the first commit shows the changed line removed and added, unchanged stretches folded", async () => {
      const compare = page.getByLabel("Compare with");
      assert.equal(await compare.inputValue(), "", "no comparison until one is chosen");
      await compare.selectOption(versionOf.get(shas[0])!);
      const diff = page.getByRole("table", { name: /^Changes from commit / });
      await ui("the diff", diff.waitFor());
      assert.match(await diff.locator("caption").innerText(), new RegExp(`from commit ${shas[0].slice(0, 12)} \\(First pipeline\\) to commit ${shas[1].slice(0, 12)} \\(Fix pipe\\)`));
      assert.equal(new URL(page.url()).searchParams.get("compare"), versionOf.get(shas[0]), "the comparison is in the URL");

      // Each changed row: its change, then each cell as shown (the sign cell's visible "+"/"-", not its screen-reader word).
      type Cell = { textContent: string | null; querySelector(s: string): Cell | null };
      const changed = await diff.locator('tr[data-change="removed"], tr[data-change="added"]').evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute("data-change"), ...Array.from(r.querySelectorAll("td") as ArrayLike<Cell>, (td) => (td.querySelector('[aria-hidden="true"]') ?? td).textContent ?? "")]),
      );
      assert.deepEqual(changed, [
        ["removed", "12", "", "-", `  const a = d.task("a", async () => "a v1");`],
        ["added", "", "12", "+", `  const a = d.task("a", async () => "a v2");`],
      ]);
      assert.match(await page.getByTestId("diff-stat").innerText(), /\+1\s+−1/);
      // Three lines of context each side (lines 9-11 and 13-15 of 19); the 8 lines above and the 4 below are folded.
      assert.deepEqual(await diff.getByTestId("diff-gap").allInnerTexts(), ["⋯ 8 unchanged lines", "⋯ 4 unchanged lines"]);
      assert.equal(await diff.locator('tr[data-change="unchanged"]').count(), 6);

      const a11y = await axe(page);
      assert.equal(a11y.violations.length, 0, a11y.text);
      if (dialect === "sqlite") await screenshot(page, "bundles-diff");

      await page.getByRole("button", { name: "Show all lines" }).click();
      await ui("every line unfolded", diff.getByTestId("diff-gap").first().waitFor({ state: "detached" }));
      assert.equal(await diff.locator('tr[data-change="unchanged"]').count(), 18);
      await page.getByRole("button", { name: "Fold unchanged lines" }).click();
      await ui("folded again", diff.getByTestId("diff-gap").first().waitFor());

      await compare.selectOption("");
      await ui("the plain source again", page.locator(".code").getByText('"a v2"').waitFor());
      assert.equal(await diff.count(), 0);
    });

    it("Clear with “Run on the latest code” moves a run of the first commit to the second", async () => {
      await page.goto(`${base}/dags/${DAG_ID}/grid?run=r1`);
      const header = page.getByTestId("run-header");
      await ui("the run's commit in its header", header.getByTestId("run-commit").getByText(shas[0].slice(0, 12)).waitFor());
      // The run and the DAG are read separately: "not the latest" shows once both are in.
      await until("the header to say “not the latest”", async () => /not the latest/.test(await header.innerText()));

      await header.getByRole("button", { name: "Clear", exact: true }).click();
      const dialog = clearDialog("r1");
      await ui("the clear preview", dialog.getByRole("list", { name: "Tasks to clear" }).waitFor());
      assert.equal(await dialog.getByTestId("clear-move").count(), 0, "no move unless asked for");
      await dialog.getByLabel("Run on the latest code").check();
      const move = dialog.getByTestId("clear-move");
      await ui("the move in the preview", move.waitFor());
      assert.equal(await move.innerText(), `The run moves from commit ${shas[0].slice(0, 12)} to commit ${shas[1].slice(0, 12)}.`);
      assert.deepEqual(await dialog.getByRole("list", { name: "Tasks to clear" }).getByRole("listitem").allInnerTexts(), ["a", "b"]);
      // The preview was a dry run: the run has not moved.
      assert.equal((await ok<ApiRun>("GET", `/dags/${DAG_ID}/runs/r1`)).bundleVersion, shas[0]);
      if (dialect === "sqlite") await screenshot(page, "bundles-clear-on-latest");

      await dialog.getByRole("button", { name: "Confirm" }).click();
      await ui("the dialog to close", dialog.waitFor({ state: "hidden" }));
      await ui("the new commit in the run header", header.getByTestId("run-commit").getByText(shas[1].slice(0, 12)).waitFor());
      // The cleared tasks ran again, on the latest code (until then b has no result or the old one).
      const moved = await until("r1 to run again on the latest code", async () => {
        const r = await ok<ApiRun>("GET", `/dags/${DAG_ID}/runs/r1`);
        return r.state === "success" && (await resultOf("r1", "b")) === "a v2, b" ? r : undefined;
      });
      assert.equal(moved.bundleVersion, shas[1]);
      assert.equal(moved.versionHash, versionOf.get(shas[1]));
      await until("the header to drop “not the latest”", async () => !/not the latest/.test(await header.innerText()));

      // Again: the run already is on the latest code.
      await header.getByRole("button", { name: "Clear", exact: true }).click();
      await dialog.getByLabel("Run on the latest code").check();
      await ui("the preview on the latest code", move.waitFor());
      assert.equal(await move.innerText(), `The run already is on the latest code (commit ${shas[1].slice(0, 12)}).`);
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await ui("the dialog to close", dialog.waitFor({ state: "hidden" }));
    });

    it("a newer commit with other tasks is refused with the server's message", async () => {
      const r2 = await trigger("r2");
      assert.equal(r2.bundleVersion, shas[1]);
      await pushAndSync({ [`dags/${DAG_ID}.ts`]: pipeSource("v3", true) }, "Add task c");

      await page.goto(`${base}/dags/${DAG_ID}/grid?run=r2`);
      const header = page.getByTestId("run-header");
      await ui("r2's commit in its header", header.getByTestId("run-commit").getByText(shas[1].slice(0, 12)).waitFor());
      await header.getByRole("button", { name: "Clear", exact: true }).click();
      const dialog = clearDialog("r2");
      await ui("the clear preview", dialog.getByRole("list", { name: "Tasks to clear" }).waitFor());
      await dialog.getByLabel("Run on the latest code").check();
      const refusal = dialog.getByRole("alert");
      await ui("the refusal", refusal.waitFor());
      const text = await refusal.innerText();
      assert.match(text, /Cannot run on the latest code/);
      assert.match(text, /The latest version of DAG "pipe" has other tasks than run "r2" \(added: c\); a run keeps the tasks it was created with, so trigger a new run/);
      assert.equal(await dialog.getByRole("button", { name: "Confirm" }).isDisabled(), true, "confirm is disabled while the move is refused");
      if (dialect === "sqlite") await screenshot(page, "bundles-clear-refused");

      // Without the move, the run can still be cleared on its own commit.
      await dialog.getByLabel("Run on the latest code").uncheck();
      await ui("the preview on the run's own code", dialog.getByRole("list", { name: "Tasks to clear" }).waitFor());
      assert.equal(await dialog.getByRole("alert").count(), 0);
      assert.equal(await dialog.getByRole("button", { name: "Confirm" }).isDisabled(), false);
      await dialog.getByRole("button", { name: "Cancel" }).click();
      // Nothing moved.
      assert.equal((await ok<ApiRun>("GET", `/dags/${DAG_ID}/runs/r2`)).bundleVersion, shas[1]);
    });
  });
}
