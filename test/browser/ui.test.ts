/**
 * The web UI as a user meets it, in headless Chromium against a real
 * `sluice standalone` (scheduler, executor, API and UI in one process) on
 * SQLite and on PostgreSQL:
 *
 *  1. sign in as admin with the password the first start printed;
 *  2. the DAG list: fixture DAGs with their schedules in words, the broken
 *     file in the import-error banner;
 *  3. trigger train_model from its dialog: a bad param comes back from the
 *     API as a message under its field, a good one starts the run;
 *  4. its grid turns green without a reload (the first task waits for a gate
 *     file, so the test watches it run before letting it finish); the DAG
 *     list, too, follows a second run to success without a reload; then the
 *     graph, gantt, code and details views of the run;
 *  5. nightly_report fails on its first try: its log in the task panel shows
 *     the error, a clear (confirmed in the dialog) runs it again, the cells go
 *     to success without a reload and try 2's log is shown;
 *  6. a viewer sees the trigger disabled, and the API refuses its trigger (403);
 *  7. screenshots of every main view (SQLite run only) in test-artifacts/screenshots.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Locator, Page } from "playwright-core";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { launchBrowser, screenshot, signIn, type Browser } from "../helpers/browser.js";
import { killLeftovers, makeProject, runSluice, show, sluiceEnv, startStandalone, waitFor, type Project, type SluiceProcess } from "../e2e/helpers.js";
import { BROKEN_FILE, BROKEN_LINE, BROKEN_MESSAGE, EPOCHS_MAX, gatesIn, journeyDags, REPORT_DAG, TRAIN_DAG, TRY1_ERROR, TRY2_MARKER, type Gates } from "./fixtures.js";

const EXAMPLES = ["hello.ts", "ml_features.ts"];
/** Scheduler progress (a task process starting, a run finishing) on a busy 2-core machine. */
const PROGRESS_MS = 30_000;
const VIEWER = { username: "vera", password: "viewer's long password" };

/** Wait for the toast "Triggered <run id>" that links to the new run. */
async function toastFor(page: Page, runId: string): Promise<void> {
  await page.getByRole("status").getByRole("link", { name: runId, exact: true }).waitFor();
}

/** Click a trigger dialog's Trigger button; returns the API's answer to the POST it makes. */
async function submitTrigger(page: Page, dialog: Locator, dagId: string) {
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/api/v1/dags/${dagId}/runs`));
  await dialog.getByRole("button", { name: "Trigger", exact: true }).click();
  return answer;
}

/** data-state of every grid cell on screen, by data-testid ("cell-<runId>-<taskId>"). */
function cellStates(page: Page): Promise<Record<string, string>> {
  return page.locator('[data-testid^="cell-"], [data-testid^="run-bar-"]').evaluateAll((els) => {
    const out: Record<string, string> = {};
    for (const el of els) out[el.getAttribute("data-testid")!] = el.getAttribute("data-state") ?? "";
    return out;
  });
}

for (const dialect of DIALECTS) {
  describe(`web UI journey on ${dialect}`, () => {
    // One set of screenshots is enough; the PostgreSQL run would only overwrite them with the same views.
    const shots = dialect === "sqlite";
    let project: Project;
    let gates: Gates;
    let env: NodeJS.ProcessEnv;
    let sa: SluiceProcess;
    let browser: Browser;
    let page: Page;
    let base: string;
    let adminPassword: string;
    let trainRun: string;
    let reportRun: string;
    /** Full page loads since the marker was set (a reload would count one). */
    let loads = 0;

    const context = () => `--- standalone output (tail) ---\n${sa.output().slice(-5000)}`;
    /** A screenshot of the view as it settles: toasts dismissed, enter animations (the task panel slides in) finished. */
    const shot = async (name: string) => {
      if (!shots) return;
      // A DOM click event, not a pointer click: an open modal dialog makes the toasts inert to the pointer.
      for (const dismiss of await page.getByRole("button", { name: "Dismiss" }).all()) await dismiss.dispatchEvent("click").catch(() => {});
      await page.getByRole("button", { name: "Dismiss" }).first().waitFor({ state: "detached" });
      await page.evaluate(() => {
        type Anim = { finished: Promise<unknown>; effect: { getComputedTiming(): { endTime?: number | string } } | null };
        const all = (globalThis as unknown as { document: { getAnimations(): Anim[] } }).document.getAnimations();
        // Endless ones (the live dot's pulse) never finish.
        return Promise.all(all.filter((a) => a.effect?.getComputedTiming().endTime !== Infinity).map((a) => a.finished.catch(() => {})));
      });
      await screenshot(page, `ui-${name}`);
    };

    /** Wait on a Playwright promise; on failure say what was awaited, with the standalone's output. */
    async function ui<T>(what: string, p: Promise<T>): Promise<T> {
      try {
        return await p;
      } catch (err) {
        await screenshot(page, `ui-failed-${dialect}`).catch(() => {});
        throw new Error(`${what}: ${(err as Error).message}\n${context()}`, { cause: err });
      }
    }

    /**
     * Poll the grid until every named cell has its expected state. Returns the
     * states each cell was seen in on the way (in order, without repeats).
     */
    async function waitCells(what: string, expected: Record<string, string>, timeoutMs = PROGRESS_MS): Promise<Record<string, string[]>> {
      const seen: Record<string, string[]> = {};
      let last: Record<string, string> = {};
      await waitFor(
        what,
        async () => {
          last = await cellStates(page);
          for (const id of Object.keys(expected)) {
            const s = last[id] ?? "(not on screen)";
            const trail = (seen[id] ??= []);
            if (trail.at(-1) !== s) trail.push(s);
          }
          return Object.entries(expected).every(([id, s]) => last[id] === s);
        },
        { timeoutMs, intervalMs: 100, context: () => `expected ${JSON.stringify(expected)}\ngrid now ${JSON.stringify(last)}\n${context()}` },
      );
      return seen;
    }

    /** Mark the page: the marker survives client-side navigation and live updates, not a reload. */
    async function setMarker(): Promise<void> {
      await page.evaluate(() => ((globalThis as { __journey?: string }).__journey = "no reload"));
      loads = 0;
    }
    async function assertNoReload(what: string): Promise<void> {
      assert.equal(await page.evaluate(() => (globalThis as { __journey?: string }).__journey), "no reload", `${what}: the page was reloaded`);
      assert.equal(loads, 0, `${what}: ${loads} page load(s) happened`);
    }

    /** Client-side navigation through the top bar's "DAGs" link, then into one DAG's grid. */
    async function openDag(dagId: string): Promise<void> {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "DAGs" }).click();
      await page.getByTestId(`dag-row-${dagId}`).getByRole("link", { name: dagId, exact: true }).click();
      await ui(`the DAG page of ${dagId}`, page.getByRole("heading", { level: 1, name: dagId }).waitFor());
    }

    async function openTab(name: string): Promise<void> {
      await page.getByRole("navigation", { name: "DAG views" }).getByRole("link", { name }).click();
    }

    before(async () => {
      project = makeProject(EXAMPLES);
      gates = gatesIn(join(project.dir, "gates"));
      mkdirSync(gates.dir);
      for (const [name, text] of Object.entries(journeyDags(gates))) writeFileSync(join(project.dags, name), text);
      // ml_features writes under os.tmpdir(): a private one keeps other test files' runs of the same interval out of its folder.
      mkdirSync(join(project.dir, "tmp"));
      const target = await freshTarget(dialect, "browser_ui");
      env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home, extra: { TMPDIR: join(project.dir, "tmp"), SLUICE_EXECUTOR__SLOTS: "4" } });
      sa = startStandalone(project.dags, env, project.dir);
      adminPassword = await waitFor("the first-start admin password", () => /^\s*password: (\S+)\s*$/m.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });
      base = await waitFor("the REST API address", () => /REST API on (http:\/\/\S+?)\/api\/v1/.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });
      browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      page.on("load", () => loads++);
    });

    after(async () => {
      await browser?.close();
      if (sa?.alive) {
        const exit = await sa.stop();
        assert.deepEqual(exit.leftovers, [], "processes of the standalone outlived it");
      }
      assert.deepEqual(await killLeftovers(), [], "processes were left running");
    });

    it("a new user signs in with the password the first start printed (a wrong one is refused)", async () => {
      await page.goto(`${base}/`);
      await ui("the login form", page.getByRole("heading", { name: "Sign in to Sluice" }).waitFor());
      await shot("01-login");
      await page.getByLabel("Username").fill("admin");
      await page.getByLabel("Password").fill("not the password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await ui("the refusal", page.getByRole("alert").filter({ hasText: "Wrong username or password." }).waitFor());

      const health = page.waitForResponse((r) => r.url().endsWith("/api/v1/health"));
      await signIn(page, base, "admin", adminPassword, { timeoutMs: PROGRESS_MS });
      assert.equal(await page.getByLabel("Password").count(), 0, "the login form is gone");
      // The shell's health poll found the standalone's scheduler alive: no warning in the top bar.
      const report = (await (await health).json()) as { scheduler: { state: string | null; heartbeatAgeMs: number | null } };
      assert.equal(report.scheduler.state, "running", JSON.stringify(report));
      // Two frames: React has rendered whatever that answer made of the top bar.
      await page.evaluate(() => {
        const w = globalThis as unknown as { requestAnimationFrame(cb: () => void): void };
        return new Promise<void>((r) => w.requestAnimationFrame(() => w.requestAnimationFrame(r)));
      });
      assert.equal(await page.getByTestId("scheduler-warning").count(), 0, "a scheduler warning while the scheduler runs");
      await ui("the account menu", page.getByRole("button", { name: /^admin\b.*account menu/ }).waitFor());
      // An admin sees the Admin section.
      assert.equal(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).count(), 1);
    });

    it("lists the DAGs with their schedules in words, and the broken file in the import-error banner", async () => {
      const schedules: Record<string, RegExp> = {
        hello: /every day at 00:00 \(UTC\)/,
        ml_features: /every day at 02:00 \(Europe\/Berlin\)/,
        [TRAIN_DAG]: /manual only/,
        [REPORT_DAG]: /manual only/,
      };
      for (const [dagId, schedule] of Object.entries(schedules)) {
        const row = page.getByTestId(`dag-row-${dagId}`);
        await ui(`the row of ${dagId}`, row.waitFor({ timeout: PROGRESS_MS }));
        assert.match(await row.innerText(), schedule, `${dagId}'s schedule in words`);
      }
      assert.match(await page.getByTestId(`dag-row-${TRAIN_DAG}`).innerText(), /Train the churn model/);
      assert.match(await page.getByTestId(`dag-row-${TRAIN_DAG}`).innerText(), /ml-platform/);

      const banner = page.getByTestId("import-errors");
      await ui("the import-error banner", banner.waitFor({ timeout: PROGRESS_MS }));
      assert.match(await banner.innerText(), /1 DAG file failed to import/);
      assert.match(await page.getByTestId("import-error-badge").innerText(), /1 import error/);
      await banner.getByRole("button", { name: "Show details" }).click();
      await ui("the import error's file and line", banner.getByText(new RegExp(`^${BROKEN_FILE.replace(".", "\\.")}:${BROKEN_LINE}(:\\d+)?$`)).waitFor());
      assert.match(await banner.innerText(), new RegExp(BROKEN_MESSAGE));

      // The scheduled examples ran their latest interval at start-up: the list shows it (live, no reload needed).
      for (const dagId of ["hello", "ml_features"]) {
        await ui(`a successful run of ${dagId} in the list`, page.getByTestId(`dag-row-${dagId}`).locator('[data-state="success"]').first().waitFor({ timeout: PROGRESS_MS }));
      }
      await shot("02-dag-list");
    });

    it("triggers train_model from its dialog: a bad param is answered under its field by the API, a good one starts the run", async () => {
      await page.getByRole("button", { name: `Trigger ${TRAIN_DAG}` }).click();
      const dialog = page.getByRole("dialog", { name: `Trigger ${TRAIN_DAG}` });
      const epochs = dialog.getByLabel("epochs", { exact: true });
      await ui("the trigger dialog's params form", epochs.waitFor());
      assert.equal(await epochs.inputValue(), "10", "the default is filled in");
      assert.equal(await dialog.getByLabel("model", { exact: true }).inputValue(), JSON.stringify("linear"));

      // Too big: the form has no local bound check, so the API's answer is what shows.
      await epochs.fill(String(EPOCHS_MAX * 10));
      const res400 = await submitTrigger(page, dialog, TRAIN_DAG);
      assert.equal(res400.status(), 400);
      const body = (await res400.json()) as { error: { code: string; details?: { fields?: { field: string; message: string }[] } } };
      assert.equal(body.error.code, "PARAMS_INVALID");
      const apiMessage = body.error.details?.fields?.find((f) => f.field === "epochs")?.message;
      assert.ok(apiMessage, `the API names the epochs field: ${JSON.stringify(body)}`);
      await ui("epochs marked invalid", dialog.locator('input[name="epochs"][aria-invalid="true"]').waitFor());
      const errId = ((await epochs.getAttribute("aria-describedby")) ?? "").split(" ").find((id) => id.endsWith("-err"));
      assert.ok(errId, "the field's error is tied to the input (aria-describedby)");
      assert.equal((await page.locator(`[id="${errId}"]`).innerText()).trim(), apiMessage, "the API's message is shown under the field");
      assert.match(await dialog.innerText(), /Some params are invalid/);
      await shot("03-trigger-dialog-error");

      await epochs.fill("7");
      await dialog.getByLabel("model", { exact: true }).selectOption({ label: "boosted" });
      const ok = await submitTrigger(page, dialog, TRAIN_DAG);
      assert.ok(ok.ok(), `trigger answered ${ok.status()}: ${await ok.text()}`);
      const run = (await ok.json()) as { runId: string; conf: Record<string, unknown> };
      assert.deepEqual(run.conf, { epochs: 7, model: "boosted" });
      await ui("the dialog to close", dialog.waitFor({ state: "hidden" }));
      trainRun = run.runId;
      await ui("the toast naming the new run", toastFor(page, trainRun));
    });

    it("the grid turns the run green without reloading (live updates)", async () => {
      await openDag(TRAIN_DAG);
      await setMarker();
      await ui("the live-updates indicator", page.getByRole("status", { name: /^Live: / }).waitFor());
      const cell = (task: string) => `cell-${trainRun}-${task}`;
      // The gate is still closed: the first task is running, the others wait.
      await waitCells("wait_for_upload to run", { [cell("wait_for_upload")]: "running" });
      const now = await cellStates(page);
      assert.notEqual(now[cell("train")], "success");
      assert.notEqual(now[cell("publish")], "success");
      assert.equal(Object.keys(now).filter((k) => k.startsWith("run-bar-")).length, 1, "the refused trigger created no run");
      await shot("04-grid-running");
      // The pointer rests on the running cell: its tooltip must follow the live update below without the pointer moving.
      await page.getByTestId(cell("wait_for_upload")).hover();
      const tip = page.getByTestId("hover-tip");
      await ui("the running cell's tooltip", tip.filter({ hasText: "Running" }).waitFor());

      writeFileSync(gates.upload(trainRun), "ready\n");
      const seen = await waitCells("every cell and the run to succeed", {
        [cell("wait_for_upload")]: "success",
        [cell("train")]: "success",
        [cell("publish")]: "success",
        [`run-bar-${trainRun}`]: "success",
      });
      await ui("the tooltip to follow the cell to success", tip.filter({ hasText: "Success" }).waitFor());
      assert.doesNotMatch(await tip.innerText(), /Running/, "the tooltip still says Running");
      // Seen running before the gate opened (above), then only running or success: no flicker through another state.
      assert.ok(seen[cell("wait_for_upload")].every((s) => s === "running" || s === "success"), `wait_for_upload went ${seen[cell("wait_for_upload")].join(" -> ")}`);
      await assertNoReload("while the run finished");

      // The params from the dialog reached the task: its result, in the task panel.
      await page.getByTestId(cell("train")).click();
      const panel = page.getByTestId("task-panel");
      await ui("the task panel", panel.getByRole("heading", { name: "train" }).waitFor());
      await panel.getByRole("tab", { name: "Result" }).click();
      await ui("train's result", panel.getByText('"boosted"').first().waitFor());
      assert.match(await panel.innerText(), /\b7\b/);
      await shot("05-grid-success-result");
      await assertNoReload("opening the task panel");
    });

    it("the DAG list follows a run live: its last-run state turns to success without reloading", async () => {
      // A second run, started from the DAG page and seen running in its grid, then watched from the list.
      await page.getByTestId("task-panel").getByRole("button", { name: "Close task panel" }).click();
      await page.getByRole("button", { name: `Trigger ${TRAIN_DAG}` }).click();
      const dialog = page.getByRole("dialog", { name: `Trigger ${TRAIN_DAG}` });
      await ui("the trigger dialog", dialog.getByLabel("epochs", { exact: true }).waitFor());
      const answer = await submitTrigger(page, dialog, TRAIN_DAG);
      assert.ok(answer.ok(), `trigger answered ${answer.status()}: ${await answer.text()}`);
      const second = ((await answer.json()) as { runId: string }).runId;
      await waitCells("the second run's first task to run", { [`cell-${second}-wait_for_upload`]: "running", [`run-bar-${second}`]: "running" });

      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "DAGs" }).click();
      const row = page.getByTestId(`dag-row-${TRAIN_DAG}`);
      await ui("the second run as running in the list", row.getByRole("link", { name: `${second}: Running` }).waitFor());
      assert.match(await row.innerText(), /Running/, "the last-run badge");
      writeFileSync(gates.upload(second), "ready\n");
      await ui("the second run as successful in the list, live", row.getByRole("link", { name: `${second}: Success` }).waitFor({ timeout: PROGRESS_MS }));
      assert.doesNotMatch(await row.innerText(), /Running/, "the last-run badge");
      await assertNoReload("while the list watched the run");
    });

    it("the DAG page's other views: graph, gantt, code and details", async () => {
      await openDag(TRAIN_DAG);
      await page.getByTestId(`run-bar-${trainRun}`).click();
      await ui("the run header", page.getByTestId("run-header").waitFor());

      await openTab("Graph");
      for (const task of ["wait_for_upload", "train", "publish"]) {
        await ui(`graph node ${task}`, page.locator(`[data-testid="node-${task}"][data-state="success"]`).waitFor());
      }
      await shot("06-graph");

      await openTab("Gantt");
      await ui("the gantt chart", page.getByRole("img", { name: new RegExp(`^Timeline of run ${trainRun.replace(/[.+]/g, "\\$&")}: 3 task instances`) }).waitFor());
      assert.equal(await page.locator('.gantt-svg rect[data-state="success"]').count(), 3);
      await shot("07-gantt");

      await openTab("Code");
      await ui("the DAG's source", page.getByText('"wait_for_upload"').first().waitFor());
      // Both runs were created with the current version: the picker counts them.
      await ui("the version's run count", page.locator("select.version-picker option", { hasText: "· 2 runs" }).waitFor({ state: "attached" }));
      await shot("08-code");

      await openTab("Details");
      await ui("the params section", page.getByRole("heading", { name: "Params" }).waitFor());
      assert.match(await page.locator("main").innerText(), /Training epochs/);
      await shot("09-details");
    });

    it("a failed task's log, a confirmed clear, and the retry turning green without reloading", async () => {
      await openDag(REPORT_DAG);
      await ui("the empty grid", page.getByText("No runs yet — trigger one").waitFor());
      await setMarker();
      // This time from the DAG page's own trigger button; a DAG without params starts with an empty conf.
      await page.getByRole("button", { name: `Trigger ${REPORT_DAG}` }).click();
      const dialog = page.getByRole("dialog", { name: `Trigger ${REPORT_DAG}` });
      await ui("the no-params note", dialog.getByText("This DAG has no params").waitFor());
      const triggered = await submitTrigger(page, dialog, REPORT_DAG);
      assert.ok(triggered.ok(), `trigger answered ${triggered.status()}: ${await triggered.text()}`);
      reportRun = ((await triggered.json()) as { runId: string }).runId;
      await ui("the toast naming the new run", toastFor(page, reportRun));
      const fetchCell = `cell-${reportRun}-fetch_metrics`;
      const renderCell = `cell-${reportRun}-render_report`;

      await waitCells("fetch_metrics to fail (no retries)", { [fetchCell]: "failed", [renderCell]: "upstream_failed", [`run-bar-${reportRun}`]: "failed" });
      await page.getByTestId(fetchCell).click();
      const panel = page.getByTestId("task-panel");
      await ui("the task panel", panel.getByRole("heading", { name: "fetch_metrics" }).waitFor());
      const log = panel.getByTestId("log-view");
      await ui("try 1's log with the error", log.getByText(TRY1_ERROR).first().waitFor({ timeout: PROGRESS_MS }));
      assert.equal(await log.getAttribute("aria-label"), "Log of fetch_metrics, try 1");
      assert.match(await panel.getByTestId("ti-error").innerText(), new RegExp(TRY1_ERROR.replace(/[()]/g, "\\$&")), "the failed instance's error, in red");
      await shot("10-task-panel-failed-log");

      await panel.getByRole("button", { name: "Clear" }).click();
      const confirm = page.getByRole("dialog", { name: "Clear fetch_metrics?" });
      const list = confirm.getByRole("list", { name: "Task instances to clear" });
      await ui("the dry-run list of what a clear resets", list.waitFor());
      const listed = await list.innerText();
      assert.match(listed, /fetch_metrics/);
      assert.match(listed, /render_report/, "downstream is cleared too (the default)");
      await shot("11-clear-dialog");
      await confirm.getByRole("button", { name: "Confirm" }).click();
      await ui("the confirmation to close", confirm.waitFor({ state: "hidden" }));

      // Try 2 waits for its gate: the cell shows it running, then success once the gate opens.
      await waitCells("fetch_metrics to run again", { [fetchCell]: "running" });
      writeFileSync(gates.retry, "ready\n");
      const seen = await waitCells("the retry and its downstream to succeed", { [fetchCell]: "success", [renderCell]: "success", [`run-bar-${reportRun}`]: "success" });
      assert.ok(seen[fetchCell].every((s) => s === "running" || s === "success"), `fetch_metrics went ${seen[fetchCell].join(" -> ")} after running`);
      await assertNoReload("while the cleared task ran again");

      // The panel follows the newest try: try 2's log, without try 1's error.
      await ui("try 2's log", log.getByText(TRY2_MARKER).first().waitFor({ timeout: PROGRESS_MS }));
      assert.equal(await log.getAttribute("aria-label"), "Log of fetch_metrics, try 2");
      assert.equal(await panel.getByTestId("ti-error").count(), 0, "try 1's red error banner is gone once the instance succeeded");
      assert.doesNotMatch(await log.innerText(), new RegExp(TRY1_ERROR.replace(/[()]/g, "\\$&")));
      await shot("12-task-panel-retry-log");
      // Try 1 is still there.
      await panel.getByRole("button", { name: "Try 1" }).click();
      await ui("try 1's log again", log.getByText(TRY1_ERROR).first().waitFor());
      await assertNoReload("switching tries");
    });

    it("a result that holds a table: ml_features' transform offers its sample as a table", async () => {
      await openDag("ml_features");
      const transform = page.locator('[data-testid^="cell-"][data-testid$="-transform"][data-state="success"]').last();
      await ui("a successful transform in the grid", transform.waitFor({ timeout: PROGRESS_MS }));
      await transform.click();
      const panel = page.getByTestId("task-panel");
      await ui("the task panel", panel.getByRole("heading", { name: "transform" }).waitFor());
      await panel.getByRole("tab", { name: "Result" }).click();
      const views = panel.getByRole("group", { name: "Show result as" });
      await ui("the result's views", views.waitFor());
      assert.deepEqual(await views.getByRole("button").allInnerTexts(), ["Table: stats", "Table: sample", "JSON"]);
      // The whole value first (it holds the path too); the tables one click away.
      assert.equal(await views.getByRole("button", { name: "JSON" }).getAttribute("aria-pressed"), "true");
      await views.getByRole("button", { name: "Table: sample" }).click();
      const table = panel.getByTestId("result-table");
      await ui("the sample as a table", table.waitFor());
      assert.deepEqual(await table.locator("thead th").allTextContents(), ["#", "f1", "f2", "f3", "y"]);
      assert.equal(await table.locator("tbody tr").count(), 10);
      await shot("20-result-table");
      await panel.getByRole("button", { name: "Close task panel" }).click();
    });

    it("datasets, admin pages and the dark theme", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Datasets" }).click();
      await ui("ml_features' datasets", page.getByTestId("dataset-row-sluice://examples/ml_features/model").waitFor({ timeout: PROGRESS_MS }));
      await shot("13-datasets");

      // Something to show on the admin pages, created the way the UI does it (session cookie + CSRF token).
      const created = await page.evaluate(async () => {
        const me = (await (await fetch("/api/v1/auth/me")).json()) as { csrfToken: string };
        const post = (url: string, body: unknown) =>
          fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": me.csrfToken }, body: JSON.stringify(body) }).then((r) => r.status);
        return [
          await post("/api/v1/variables", { key: "warehouse_schema", value: "analytics", description: "Schema the reports read" }),
          await post("/api/v1/variables", { key: "slack_token", value: "xoxb-not-a-real-token", description: "Alerts bot" }),
          await post("/api/v1/connections", {
            connId: "warehouse",
            connType: "postgres",
            host: "warehouse.internal",
            port: 5432,
            login: "etl",
            password: "not a real password",
            schema: "analytics",
            extra: null,
            description: "The analytics warehouse",
          }),
          await post("/api/v1/pools", { name: "warehouse", slots: 4, description: "Concurrent warehouse queries" }),
        ];
      });
      assert.deepEqual(created, [201, 201, 201, 201]);
      const admin = page.getByRole("navigation", { name: "Admin sections" });
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
      await ui("the pools page", page.getByTestId("pool-row-warehouse").waitFor());
      await shot("14-admin-pools");
      await admin.getByRole("link", { name: "Variables" }).click();
      await ui("the variables page", page.getByTestId("variable-row-warehouse_schema").waitFor());
      assert.doesNotMatch(await page.getByTestId("variable-row-slack_token").innerText(), /xoxb/, "a secret variable's value is masked");
      await shot("15-admin-variables");
      await admin.getByRole("link", { name: "Connections" }).click();
      await ui("the connections page", page.getByTestId("connection-row-warehouse").waitFor());
      assert.doesNotMatch(await page.locator("main").innerText(), /not a real password/);
      await shot("16-admin-connections");
      await admin.getByRole("link", { name: "Users" }).click();
      await ui("the users page", page.getByTestId("user-row-admin").waitFor());
      await shot("17-admin-users");

      // Dark mode: the theme button cycles system -> dark -> light -> system.
      await openDag(TRAIN_DAG);
      await page.getByTestId(`run-bar-${trainRun}`).click();
      await page.getByRole("button", { name: /^Theme: follows the system/ }).click();
      await ui("the dark theme", page.locator('html[data-theme="dark"]').waitFor({ state: "attached" }));
      await ui("the grid", page.getByTestId(`cell-${trainRun}-train`).waitFor());
      await shot("18-grid-dark");
      await page.getByRole("button", { name: /^Theme: dark/ }).click();
      await page.getByRole("button", { name: /^Theme: light/ }).click();
      await ui("the system theme again", page.getByRole("button", { name: /^Theme: follows the system/ }).waitFor());
    });

    it("a viewer cannot trigger: the buttons are disabled and the API answers 403", async () => {
      const created = await runSluice(["users", "create", VIEWER.username, "--role", "viewer", "--password", VIEWER.password], env, { cwd: project.dir });
      assert.equal(created.code, 0, show(created));

      await page.getByRole("button", { name: /^admin\b.*account menu/ }).click();
      const loggedOut = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/api/v1/auth/logout"));
      await page.getByRole("menuitem", { name: "Sign out" }).click();
      assert.equal((await loggedOut).status(), 204);
      // Signing out shows the login page at once, without a reload.
      await ui("the login page after signing out", page.getByLabel("Password").waitFor());
      await signIn(page, base, VIEWER.username, VIEWER.password, { timeoutMs: PROGRESS_MS });

      const trigger = page.getByRole("button", { name: `Trigger ${TRAIN_DAG}` });
      await ui("the list's trigger button", trigger.waitFor());
      assert.equal(await trigger.isDisabled(), true, "the list's trigger button is disabled for a viewer");
      assert.equal(await trigger.getAttribute("title"), "Viewers cannot trigger runs");
      assert.equal(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).count(), 0, "no Admin link for a viewer");
      await shot("19-viewer-dag-list");

      await openDag(REPORT_DAG);
      assert.equal(await page.getByRole("button", { name: `Trigger ${REPORT_DAG}` }).isDisabled(), true, "the DAG page's trigger button is disabled");
      await page.getByTestId(`cell-${reportRun}-fetch_metrics`).click();
      const panel = page.getByTestId("task-panel");
      await ui("the task panel", panel.getByRole("heading", { name: "fetch_metrics" }).waitFor());
      assert.equal(await panel.getByRole("button", { name: "Clear" }).isDisabled(), true, "a viewer cannot clear");

      // The API itself refuses, with the viewer's own session cookie and a valid CSRF token.
      const answer = await page.evaluate(async (dagId) => {
        const me = (await (await fetch("/api/v1/auth/me")).json()) as { user: { role: string }; csrfToken: string };
        const res = await fetch(`/api/v1/dags/${dagId}/runs`, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": me.csrfToken }, body: JSON.stringify({ conf: {} }) });
        return { role: me.user.role, status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
      }, TRAIN_DAG);
      assert.equal(answer.role, "viewer");
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, "FORBIDDEN");
      assert.match(answer.body.error.message, /viewer/);

      const runs = await runSluice(["runs", "list", "--dag", TRAIN_DAG, "--json"], env, { cwd: project.dir });
      assert.equal(runs.code, 0, show(runs));
      assert.equal((JSON.parse(runs.stdout) as unknown[]).length, 2, `the viewer's trigger created no run: ${runs.stdout}`);
    });

    it("the standalone stops cleanly on SIGTERM", async () => {
      const exit = await sa.stop(15_000);
      assert.equal(exit.timedOut, false, `did not stop within 15 s\n${context()}`);
      assert.equal(exit.code, 0, `exit ${exit.code} ${exit.signal}\n${context()}`);
      assert.deepEqual(exit.leftovers, []);
    });
  });
}
