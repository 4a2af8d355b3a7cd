/**
 * Mapped tasks in the web UI, in headless Chromium, on SQLite and on
 * PostgreSQL.
 *
 * With a real `sluice standalone`: a DAG maps `process` over four parts;
 * "charlie" fails and "delta" waits for a gate file. The task panel shows the
 * instances' counts by state and their list; choosing an instance puts its
 * map index in the URL (a reload lands on it again) and shows its own log:
 * the failed one's error, the running one's lines as they are written (live
 * tail) until it succeeds. Clearing the failed instance alone reruns it and
 * the reduce task after it, without a reload; "Clear all instances" offers
 * every instance; the graph draws the task as a stack; a viewer's buttons
 * are disabled.
 *
 * With a seeded store (mappedSeed.ts, no scheduler): a task mapped 1,100
 * ways pages its list, a link to one index lands on its page, the list
 * filters by state; DuckDB and Spark results are summed up; a run that has
 * not expanded its mapped tasks yet still draws them as mapped.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { journeySteps, launchBrowser, screenshot, signIn, signInWithCookie, startApiServer, type Browser, type RunningApi } from "../helpers/browser.js";
import { DIALECTS, freshTarget, targetUrl } from "../helpers/db.js";
import { killLeftovers, makeProject, runSluice, show, sluiceEnv, startStandalone, waitFor, type Project, type SluiceProcess } from "../e2e/helpers.js";
import { BIG_FAIL_EVERY, BIG_MAP, DUCKDB_OUTPUT, FEATURIZE_ERROR, FEATURIZE_FAILED, FEATURIZE_LOG, MAPPED_DAG, seedMapped, SPARK_APP_ID, type MappedSeed } from "./mappedSeed.js";

/** Scheduler progress on a busy 2-core machine. */
const PROGRESS_MS = 30_000;
const DAG_ID = "mapped_parts";
const PARTS = ["alpha", "bravo", "charlie", "delta"];
const CHARLIE_ERROR = "part charlie is corrupt (simulated)";
const VIEWER = { username: "vik", password: "viewer's long password" };

function mappedDag(gateDir: string): string {
  return `import { existsSync } from "node:fs";
import { join } from "node:path";
import { dag } from "sluice";

const gate = (name: string) => join(${JSON.stringify(gateDir)}, name + ".ready");
const until = async (path: string) => {
  const deadline = Date.now() + 120_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(path + " did not arrive within 120 s");
    await new Promise((r) => setTimeout(r, 100));
  }
};

export default dag({ id: "${DAG_ID}", schedule: null, retries: 0 }, (d) => {
  const parts = d.task("list_parts", async () => ${JSON.stringify(PARTS)});
  const processed = d.task(
    "process",
    async (ctx, { item }) => {
      ctx.log.info("processing part " + item);
      // charlie fails until its gate exists (only a user's clear runs it again: no retries).
      if (item === "charlie" && !existsSync(gate("charlie"))) throw new Error(${JSON.stringify(CHARLIE_ERROR)});
      if (item === "delta") {
        ctx.log.info("waiting for the delta gate");
        await until(gate("delta"));
        ctx.log.info("part delta done");
      }
      return item.toUpperCase();
    },
    { expand: parts },
  );
  d.task("merge", async (_ctx, { process }) => process.join("+"), { upstream: [processed] });
});
`;
}

/** Rows of the panel's instance list: map index -> data-state. */
function listStates(page: Page): Promise<Record<string, string>> {
  return page
    .getByTestId("mapped-instances")
    .locator('[data-testid^="mapped-instance-"]')
    .evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute("data-testid")!.slice("mapped-instance-".length), e.getAttribute("data-state") ?? ""])));
}

/** Counts by state as the panel's chips show them. */
function chipCounts(page: Page): Promise<Record<string, number>> {
  return page
    .getByTestId("mapped-counts")
    .locator('[data-testid^="mapped-count-"]')
    .evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute("data-testid")!.slice("mapped-count-".length), Number(e.getAttribute("data-count"))])));
}

const mapIndexInUrl = (page: Page) => new URL(page.url()).searchParams.get("mapIndex");

for (const dialect of DIALECTS) {
  describe(`mapped task instances in the UI, real standalone, on ${dialect}`, () => {
    let project: Project;
    let gateDir: string;
    let env: NodeJS.ProcessEnv;
    let sa: SluiceProcess;
    let browser: Browser;
    let page: Page;
    let base: string;
    let runId: string;
    let loads = 0;

    const { context, ui, until } = journeySteps({ failureShot: `mapped-failed-${dialect}`, page: () => page, output: () => sa.output(), progressMs: PROGRESS_MS });
    const panel = () => page.getByTestId("task-panel");
    const cellState = (taskId: string) => page.getByTestId(`cell-${runId}-${taskId}`).getAttribute("data-state");

    before(async () => {
      project = makeProject();
      gateDir = join(project.dir, "gates");
      mkdirSync(gateDir);
      writeFileSync(join(project.dags, `${DAG_ID}.ts`), mappedDag(gateDir));
      const target = await freshTarget(dialect, "browser_mapped");
      env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home, extra: { SLUICE_EXECUTOR__SLOTS: "4" } });
      sa = startStandalone(project.dags, env, project.dir);
      const password = await waitFor("the first-start admin password", () => /^\s*password: (\S+)\s*$/m.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });
      base = await waitFor("the REST API address", () => /REST API on (http:\/\/\S+?)\/api\/v1/.exec(sa.output())?.[1], { timeoutMs: PROGRESS_MS, context });
      browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      page.on("load", () => loads++);
      await signIn(page, base, "admin", password, { timeoutMs: PROGRESS_MS });
    });

    after(async () => {
      await browser?.close();
      if (sa?.alive) {
        const exit = await sa.stop();
        assert.deepEqual(exit.leftovers, [], "processes of the standalone outlived it");
      }
      assert.deepEqual(await killLeftovers(), [], "processes were left running");
    });

    it("a mapped cell opens the panel with counts by state and the list of instances", async () => {
      const triggered = await page.evaluate(async (dagId) => {
        const me = (await (await fetch("/api/v1/auth/me")).json()) as { csrfToken: string };
        const res = await fetch(`/api/v1/dags/${dagId}/runs`, { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": me.csrfToken }, body: JSON.stringify({ conf: {} }) });
        return { status: res.status, body: (await res.json()) as { runId: string } };
      }, DAG_ID);
      assert.equal(triggered.status, 201, JSON.stringify(triggered.body));
      runId = triggered.body.runId;

      await page.getByTestId(`dag-row-${DAG_ID}`).getByRole("link", { name: DAG_ID, exact: true }).click();
      await ui("the grid's process cell", page.getByTestId(`cell-${runId}-process`).waitFor({ timeout: PROGRESS_MS }));
      loads = 0;
      // charlie failed, delta waits at its gate: the cell shows the most telling state, running.
      await until("process to have run its instances (charlie failed, delta running)", async () => (await cellState("process")) === "running" && (await cellState("list_parts")) === "success");
      await ui("the mapped marker on the grid's label", page.getByTestId("mapped-label-process").waitFor());

      await page.getByTestId(`cell-${runId}-process`).click();
      await ui("the panel in mapped mode", page.locator('[data-testid="task-panel"][data-mapped="true"]').waitFor());
      assert.equal(mapIndexInUrl(page), null, "no instance is chosen yet");
      await until("the counts by state", async () => {
        const c = await chipCounts(page);
        return c.success === 2 && c.failed === 1 && c.running === 1;
      });
      assert.deepEqual(await listStates(page), { "0": "success", "1": "success", "2": "failed", "3": "running" });
      assert.match(await panel().getByRole("img", { name: /^4 instances: / }).getAttribute("aria-label") ?? "", /2 success, 1 running, 1 failed/);
      assert.match(await panel().getByText("Choose an instance").innerText(), /Choose an instance/);

      // The failed chip filters the list (the server answers only failed ones), "All" brings the rest back.
      await panel().getByTestId("mapped-count-failed").click();
      await until("only the failed instance listed", async () => JSON.stringify(await listStates(page)) === JSON.stringify({ "2": "failed" }));
      await panel().getByRole("button", { name: /^All 4$/ }).click();
      await until("every instance listed again", async () => Object.keys(await listStates(page)).length === 4);
    });

    it("choosing an instance puts its index in the URL and shows its own log; a reload lands on it again", async () => {
      await panel().getByTestId("mapped-instance-2").click();
      await page.waitForURL((u) => u.searchParams.get("mapIndex") === "2");
      await ui("the instance's heading", panel().getByRole("heading", { name: "process[2]" }).waitFor());
      const log = panel().getByTestId("log-view");
      await ui("charlie's log", log.getByText("processing part charlie").waitFor({ timeout: PROGRESS_MS }));
      await ui("charlie's error in the log", log.getByText(CHARLIE_ERROR).first().waitFor());
      assert.doesNotMatch(await log.innerText(), /processing part (alpha|bravo|delta)/, "another instance's lines in charlie's log");
      assert.match(await panel().getByTestId("ti-error").innerText(), /part charlie is corrupt/);
      assert.equal(await panel().getByRole("button", { name: "Instance 2: Failed" }).getAttribute("aria-current"), "true");
      assert.equal(loads, 0, "choosing an instance reloaded the page");

      if (dialect === "sqlite") {
        for (const dismiss of await page.getByRole("button", { name: "Dismiss" }).all()) await dismiss.dispatchEvent("click").catch(() => {});
        await page.evaluate(() => {
          type Anim = { finished: Promise<unknown>; effect: { getComputedTiming(): { endTime?: number | string } } | null };
          const all = (globalThis as unknown as { document: { getAnimations(): Anim[] } }).document.getAnimations();
          return Promise.all(all.filter((a) => a.effect?.getComputedTiming().endTime !== Infinity).map((a) => a.finished.catch(() => {})));
        });
        await screenshot(page, "mapped-panel");
      }

      // A link to the instance: a fresh load opens the same instance.
      await page.reload();
      await ui("the linked instance after a reload", panel().getByRole("heading", { name: "process[2]" }).waitFor());
      await ui("its log after a reload", panel().getByTestId("log-view").getByText("processing part charlie").waitFor());
      assert.equal(mapIndexInUrl(page), "2");
      loads = 0;
    });

    it("a running instance's log is tailed live until it succeeds", async () => {
      await panel().getByTestId("mapped-instance-3").click();
      await page.waitForURL((u) => u.searchParams.get("mapIndex") === "3");
      const log = panel().getByTestId("log-view");
      await ui("delta's log, waiting", log.getByText("waiting for the delta gate").waitFor({ timeout: PROGRESS_MS }));
      await ui("the live tail indicator", panel().getByText("tailing").waitFor());
      assert.equal(await log.getByText("part delta done").count(), 0);

      writeFileSync(join(gateDir, "delta.ready"), "ready\n");
      await ui("delta's last line, streamed", log.getByText("part delta done").waitFor({ timeout: PROGRESS_MS }));
      await until("delta to succeed in the list", async () => (await listStates(page))["3"] === "success");
      await ui("the tail to end with the try", panel().getByText("tailing").waitFor({ state: "detached" }));
      await until("the counts to follow", async () => {
        const c = await chipCounts(page);
        return c.success === 3 && c.failed === 1 && c.running === undefined;
      });
      assert.equal(loads, 0, "the page was reloaded");
    });

    it("clearing the failed instance reruns it alone (and the reduce after it) until everything is green", async () => {
      await panel().getByTestId("mapped-instance-2").click();
      await ui("charlie's panel", panel().getByRole("heading", { name: "process[2]" }).waitFor());
      await until("merge to give up (an instance failed)", async () => (await cellState("merge")) === "upstream_failed");
      writeFileSync(join(gateDir, "charlie.ready"), "ready\n");

      await panel().getByRole("group", { name: "Task actions" }).getByRole("button", { name: "Clear", exact: true }).click();
      const confirm = page.getByRole("dialog", { name: "Clear process[2]?" });
      const list = confirm.getByRole("list", { name: "Task instances to clear" });
      await ui("the dry-run list", list.waitFor());
      const listed = (await list.getByRole("listitem").allInnerTexts()).map((t) => t.split(/\s/)[0]);
      assert.deepEqual(listed.sort(), ["merge", "process[2]"], "only this instance and the downstream reduce");
      await confirm.getByRole("button", { name: "Confirm" }).click();
      await ui("the confirmation to close", confirm.waitFor({ state: "hidden" }));

      await until("charlie to succeed", async () => (await listStates(page))["2"] === "success");
      await until("the cells to turn green", async () => (await cellState("process")) === "success" && (await cellState("merge")) === "success");
      await until("every count to be success", async () => JSON.stringify(await chipCounts(page)) === JSON.stringify({ success: 4 }));
      // Try 2 of charlie: it passed its gate.
      await ui("charlie's try 2 log", panel().getByRole("button", { name: "Try 2" }).waitFor({ timeout: PROGRESS_MS }));
      assert.equal(await panel().getByTestId("ti-error").count(), 0, "a red error on a green instance");
      assert.equal(mapIndexInUrl(page), "2");

      // The reduce got the instances' results in map index order.
      await page.getByTestId(`cell-${runId}-merge`).click();
      await ui("merge's panel", panel().getByRole("heading", { name: "merge" }).waitFor());
      assert.equal(await page.locator('[data-testid="task-panel"][data-mapped="true"]').count(), 0, "merge is not mapped");
      await panel().getByRole("tab", { name: "Result" }).click();
      // A string result is shown as text.
      await ui("merge's result", panel().getByText("ALPHA+BRAVO+CHARLIE+DELTA", { exact: true }).waitFor());
      assert.equal(loads, 0, "the page was reloaded");
    });

    it("'Clear all instances' offers every instance; the graph draws the mapped task as a stack", async () => {
      await page.getByTestId(`cell-${runId}-process`).click();
      await ui("the mapped panel", page.locator('[data-testid="task-panel"][data-mapped="true"]').waitFor());
      await panel().getByRole("button", { name: "Clear all instances" }).click();
      const confirm = page.getByRole("dialog", { name: "Clear every instance of process?" });
      const list = confirm.getByRole("list", { name: "Task instances to clear" });
      await ui("the dry-run list", list.waitFor());
      const listed = (await list.getByRole("listitem").allInnerTexts()).map((t) => t.split(/\s/)[0]).sort();
      assert.deepEqual(listed, ["merge", "process[0]", "process[1]", "process[2]", "process[3]"]);
      await confirm.getByRole("button", { name: "Cancel" }).click();
      await ui("the dialog to close", confirm.waitFor({ state: "hidden" }));
      assert.equal(await cellState("process"), "success", "a cancelled clear changed nothing");

      await page.getByRole("navigation", { name: "DAG views" }).getByRole("link", { name: "Graph" }).click();
      const node = page.getByTestId("node-process");
      await ui("the mapped node", page.locator('[data-testid="node-process"][data-mapped="true"][data-state="success"]').waitFor());
      assert.match(await node.innerText(), /4\/4 mapped/);
      assert.match(await node.innerText(), /\[ \]/);
      assert.equal(await page.getByTestId("node-list_parts").getAttribute("data-mapped"), null);
    });

    it("a viewer sees the instance and its log, with clear and mark disabled", async () => {
      const created = await runSluice(["users", "create", VIEWER.username, "--role", "viewer", "--password", VIEWER.password], env, { cwd: project.dir });
      assert.equal(created.code, 0, show(created));
      await browser.context.clearCookies();
      await signIn(page, base, VIEWER.username, VIEWER.password, { timeoutMs: PROGRESS_MS });
      await page.goto(`${base}/dags/${DAG_ID}/grid?run=${encodeURIComponent(runId)}&task=process&mapIndex=2`);
      await ui("the linked instance", panel().getByRole("heading", { name: "process[2]" }).waitFor());
      await ui("its log", panel().getByTestId("log-view").getByText("processing part charlie").first().waitFor());
      const actions = panel().getByRole("group", { name: "Task actions" });
      for (const name of ["Clear", "Mark success", "Mark failed"]) {
        assert.equal(await actions.getByRole("button", { name, exact: true }).isDisabled(), true, `${name} is enabled for a viewer`);
      }
      const all = panel().getByRole("button", { name: "Clear all instances" });
      assert.equal(await all.isDisabled(), true, "Clear all instances is enabled for a viewer");
      assert.equal(await all.getAttribute("title"), "Viewers cannot clear or mark tasks");
    });
  });

  describe(`mapped instances, DuckDB and Spark results from a seeded store, on ${dialect}`, () => {
    let server: RunningApi;
    let browser: Browser;
    let page: Page;
    let seeded: MappedSeed;
    const panel = () => page.getByTestId("task-panel");
    const open = (task: string, extra = "", run?: string) => page.goto(`${server.baseUrl}/dags/${MAPPED_DAG}/grid?run=${encodeURIComponent(run ?? seeded.runId)}&task=${task}${extra}`);

    before(async () => {
      server = await startApiServer({ dialect });
      const admin = await server.createUser("admin");
      seeded = await seedMapped(server.store);
      browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      await signInWithCookie(browser.context, server.baseUrl, admin.username, admin.password);
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    it(`a task mapped ${BIG_MAP} ways: the list is paged, a link to one index lands on its page, the state filter pages too`, async () => {
      const failed = Math.floor((BIG_MAP - 1) / BIG_FAIL_EVERY) + 1;
      await open("score");
      const rows = panel().getByTestId("mapped-instances").locator('[data-testid^="mapped-instance-"]');
      await panel().getByTestId("mapped-instance-0").waitFor();
      assert.deepEqual(await chipCounts(page), { success: BIG_MAP - failed, failed });
      assert.equal(await rows.count(), 100, "one page of 100");
      const pager = panel().getByRole("navigation", { name: "Pagination" });
      assert.match(await pager.innerText(), new RegExp(`1–100 of ${BIG_MAP} instances`));
      await pager.getByRole("button", { name: "Next page" }).click();
      await panel().getByTestId("mapped-instance-100").waitFor();
      assert.equal(await panel().getByTestId("mapped-instance-0").count(), 0);

      // 1050 = 7 × 150: a failed one, on the last page.
      await open("score", "&mapIndex=1050");
      await panel().getByRole("heading", { name: "score[1050]" }).waitFor();
      await panel().getByTestId("mapped-instance-1050").waitFor();
      assert.equal(await panel().getByRole("button", { name: "Instance 1050: Failed" }).getAttribute("aria-current"), "true");
      assert.match(await pager.innerText(), new RegExp(`1001–${BIG_MAP} of ${BIG_MAP} instances`));
      assert.match(await panel().getByTestId("ti-error").innerText(), /score out of range/);
      const inView = await panel()
        .getByTestId("mapped-instance-1050")
        .evaluate((row) => {
          const list = row.closest(".mapped-list")!.getBoundingClientRect();
          const r = row.getBoundingClientRect();
          return r.top >= list.top && r.bottom <= list.bottom;
        });
      assert.ok(inView, "the linked row is scrolled into view in the list");

      await panel().getByTestId("mapped-count-failed").click();
      await waitFor("the failed instances only", async () => (await panel().getByTestId("mapped-instance-1").count()) === 0 && (await rows.count()) === 100 && (await pager.innerText()).includes(`1–100 of ${failed} instances`), { timeoutMs: 10_000 });
      const states = await rows.evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute("data-state")))]);
      assert.deepEqual(states, ["failed"]);
      assert.ok(await panel().getByTestId(`mapped-instance-${BIG_FAIL_EVERY}`).isVisible());
    });

    it("a mapped DuckDB task: its failed instance's log, and a successful one's rows, output and schema above the raw JSON", async () => {
      await open("featurize");
      await panel().getByTestId("mapped-instances").waitFor();
      assert.deepEqual(await chipCounts(page), { success: 4, running: 1, failed: 1 });
      await panel().getByTestId(`mapped-instance-${FEATURIZE_FAILED}`).click();
      await panel().getByTestId("log-view").getByText(FEATURIZE_LOG).waitFor();
      assert.match(await panel().getByTestId("ti-error").innerText(), /Binder Error/);
      assert.equal(new URL(page.url()).searchParams.get("mapIndex"), String(FEATURIZE_FAILED));

      await panel().getByTestId("mapped-instance-1").click();
      await panel().getByRole("heading", { name: "featurize[1]" }).waitFor();
      await panel().getByRole("tab", { name: "Result" }).click();
      const summary = panel().getByTestId("duckdb-result");
      await summary.waitFor();
      const text = await summary.innerText();
      assert.match(text, /49,211/, "row count");
      assert.ok(text.includes(DUCKDB_OUTPUT), `output path in ${JSON.stringify(text)}`);
      assert.match(text, /1\.8 MiB/, "output size");
      assert.deepEqual(await summary.getByTestId("duckdb-schema").locator("tbody tr").allInnerTexts(), ["customer_id\tBIGINT", "total\tDOUBLE"]);
      // The raw result is still there, below; the schema is not offered a second time as a table view.
      assert.match(await panel().locator(".json-tree").innerText(), /elapsedMs/);
      assert.equal(await panel().getByRole("group", { name: "Show result as" }).count(), 0);
      if (dialect === "sqlite") await screenshot(page, "mapped-duckdb-result");

      await panel().getByRole("tab", { name: "Task" }).click();
      assert.match(await panel().locator(".kv").innerText(), /DuckDB[\s\S]*Mapped over\s+list_partitions/);
    });

    it("a Spark task's result shows its application id and final state", async () => {
      await open("aggregate_on_spark");
      await panel().getByRole("heading", { name: "aggregate_on_spark" }).waitFor();
      await panel().getByRole("tab", { name: "Result" }).click();
      const summary = panel().getByTestId("spark-result");
      await summary.waitFor();
      const text = await summary.innerText();
      assert.match(text, new RegExp(SPARK_APP_ID));
      assert.match(text, /FINISHED/);
      assert.match(text, /spark:\/\/127\.0\.0\.1:7077/);
      assert.match(text, /cluster mode/);
    });

    it("before a run expands them, mapped tasks are drawn as mapped in the graph and explained in the panel; kinds have their labels", async () => {
      await page.goto(`${server.baseUrl}/dags/${MAPPED_DAG}/graph?run=${encodeURIComponent(seeded.pendingRunId)}`);
      const featurize = page.locator('[data-testid="node-featurize"][data-mapped="true"]');
      await featurize.waitFor();
      assert.match(await featurize.innerText(), /\[ \]/);
      assert.equal(await featurize.locator(".tnode-map").count(), 0, "no instance counts before the expansion");
      assert.match(await featurize.innerText(), /duckdb/i);
      assert.match(await page.getByTestId("node-aggregate_on_spark").innerText(), /spark/i);
      assert.equal(await page.getByTestId("node-aggregate_on_spark").getAttribute("data-mapped"), null);
      assert.equal(await page.locator('[data-testid="node-score"][data-mapped="true"]').count(), 1);
      if (dialect === "sqlite") await screenshot(page, "mapped-graph-not-expanded");

      await open("featurize", "", seeded.pendingRunId);
      await panel().getByTestId("mapped-pending").waitFor();
      assert.match(await panel().getByTestId("mapped-pending").innerText(), /list_partitions/);
      assert.equal(await page.locator('[data-testid="task-panel"][data-mapped="true"]').count(), 0);
    });
  });
}
