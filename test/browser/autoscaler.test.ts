/**
 * The Autoscaler page in headless Chromium, against the real API server on
 * SQLite and on PostgreSQL, with decisions written into the store as
 * `sluice autoscaler` writes them (test/autoscaler/ runs the real loop; this
 * is about showing what it recorded).
 *
 * Before any decision the page says how to start the autoscaler. Then a burst
 * on queue "default" (idle, 0 → 3 workers, busy, held by the window, 3 → 0)
 * and a few ticks on "highmem": the chart's readout shows the latest decision,
 * hovering a time shows the decision there, the table lists the decisions
 * newest first and "Changes only" keeps the ones that changed the count, the
 * queue and range switches change what is shown (and live in the URL), and a
 * new decision appears without a reload.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { NewAutoscalerDecision } from "../../src/store/autoscalerQueries.js";
import { launchBrowser, screenshot, signIn, startApiServer, type Browser, type RunningApi } from "../helpers/browser.js";
import { DIALECTS } from "../helpers/db.js";
import { waitFor } from "../e2e/helpers.js";

const STEP = 15_000;
const MIN15 = 15 * 60_000;

function decision(at: number, o: Partial<NewAutoscalerDecision> & { proposed?: number; queued: number; running: number; current: number; desired: number; reason: string }): NewAutoscalerDecision {
  return {
    queue: o.queue ?? "default",
    at,
    queued: o.queued,
    running: o.running,
    current_replicas: o.current,
    proposed_replicas: o.proposed ?? o.desired,
    desired_replicas: o.desired,
    cpu: o.cpu ?? null,
    memory_mb: o.memory_mb ?? null,
    network_bps: null,
    proposals: JSON.stringify({ queue: o.desired }),
    reason: o.reason,
    actuator: "local",
  };
}

/**
 * The burst, one decision every 15 s ending about now: 8 idle ticks, the
 * scale-up, 8 busy ticks at 3 workers, 4 ticks held by the window, the
 * scale-down, 6 idle ticks. Returns the times of the scale-up and scale-down.
 */
function burst(now: number): { rows: NewAutoscalerDecision[]; upAt: number; downAt: number } {
  const rows: NewAutoscalerDecision[] = [];
  let t = now - 27 * STEP;
  const tick = (o: Parameters<typeof decision>[1]) => {
    rows.push(decision(t, o));
    t += STEP;
  };
  for (let i = 0; i < 8; i++) tick({ queued: 0, running: 0, current: 0, desired: 0, reason: "queue: ceil((0 queued + 0 running) / 2) = 0" });
  const upAt = t;
  tick({ queued: 40, running: 0, current: 0, desired: 3, reason: "queue: ceil((40 queued + 0 running) / 2) = 20; clamped to 3 by max" });
  for (let i = 0; i < 8; i++) tick({ queued: 34 - i * 4, running: 6, current: 3, desired: 3, cpu: 0.85 + i / 100, memory_mb: 180, reason: `queue: ceil((${34 - i * 4} queued + 6 running) / 2) = ${Math.ceil((40 - i * 4) / 2)}; clamped to 3 by max` });
  for (let i = 0; i < 4; i++) tick({ queued: 0, running: 0, current: 3, desired: 3, proposed: 0, cpu: 0.02, memory_mb: 170, reason: "queue: ceil((0 queued + 0 running) / 2) = 0; held at 3 by the 60 s scale-down window" });
  const downAt = t;
  tick({ queued: 0, running: 0, current: 3, desired: 0, cpu: 0.01, memory_mb: 170, reason: "queue: ceil((0 queued + 0 running) / 2) = 0" });
  for (let i = 0; i < 6; i++) tick({ queued: 0, running: 0, current: 0, desired: 0, reason: "queue: ceil((0 queued + 0 running) / 2) = 0" });
  return { rows, upAt, downAt };
}

for (const dialect of DIALECTS) {
  describe(`the Autoscaler page on ${dialect}`, () => {
    let api: RunningApi;
    let browser: Browser;
    let page: Page;
    let upAt: number;
    let downAt: number;
    let seeded = 0;

    const rows = () => page.getByTestId("autoscaler-decision");
    const readout = () => page.getByTestId("scaling-readout").innerText();
    /** Hover the chart at time `t` (the page shows the last 15 minutes ending at its last read, about now). */
    async function hoverAt(t: number) {
      const box = (await page.getByTestId("scaling-hit").boundingBox())!;
      const to = Date.now();
      await page.mouse.move(box.x + ((t - (to - MIN15)) / MIN15) * box.width, box.y + box.height / 2);
    }

    before(async () => {
      api = await startApiServer({ dialect });
      const admin = await api.createUser("admin");
      browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
      page = await browser.page();
      page.setDefaultTimeout(15_000);
      await signIn(page, api.baseUrl, admin.username, admin.password, { expectDags: false });
    });

    after(async () => {
      await browser?.close();
      await api?.close();
    });

    it("with no decisions, the page says how to start the autoscaler", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Autoscaler" }).click();
      await page.getByTestId("autoscaler-empty").waitFor();
      const text = await page.getByTestId("autoscaler-empty").innerText();
      assert.match(text, /sluice autoscaler/);
      assert.match(text, /autoscaler\.enabled: true/);
    });

    it("the chart draws the burst and its readout shows the decision at the hovered time", async () => {
      const b = burst(Date.now());
      ({ upAt, downAt } = b);
      for (const r of b.rows) await api.store.autoscaler.record(r);
      await api.store.autoscaler.record(decision(Date.now() - 60_000, { queue: "highmem", queued: 2, running: 0, current: 0, desired: 1, reason: "queue: ceil((2 queued + 0 running) / 1) = 2; clamped to 1 by max" }));
      await api.store.autoscaler.record(decision(Date.now() - 45_000, { queue: "highmem", queued: 1, running: 1, current: 1, desired: 1, cpu: 0.97, reason: "queue: ceil((1 queued + 1 running) / 1) = 2; clamped to 1 by max" }));
      // Three hours ago: outside the 15-minute range, inside the 6-hour one.
      await api.store.autoscaler.record(decision(Date.now() - 3 * 3600_000, { queued: 5, running: 0, current: 0, desired: 3, reason: "queue: an older burst" }));
      seeded = b.rows.length;

      await page.goto(`${api.baseUrl}/autoscaler?range=${MIN15}`);
      await page.getByTestId("scaling-chart").waitFor();
      // The latest decision of "default" (the default queue) until the pointer is on the chart.
      assert.match(await readout(), /^Latest/);
      assert.match(await readout(), /0\s*→\s*0 workers/);

      // Lines and bands are drawn for the workers, the queue and the CPU.
      for (const id of ["scaling-current", "scaling-desired", "scaling-running", "scaling-queued", "scaling-cpu"]) {
        assert.ok(((await page.getByTestId(id).getAttribute("d")) ?? "").length > 10, `${id} is drawn`);
      }
      // The current-workers line goes up at the scale-up: two levels only (0 and 3 workers).
      const ys = new Set(((await page.getByTestId("scaling-current").getAttribute("d")) ?? "").match(/[MV][\d.]+,?[\d.]*/g)!.map((s) => s.split(/[ ,V]/).filter(Boolean).at(-1)));
      assert.equal(ys.size, 2, `the current-workers line has two levels: ${[...ys].join(", ")}`);

      await hoverAt(upAt);
      assert.match(await readout(), /0\s*→\s*3 workers/);
      assert.match(await readout(), /40 queued, 0 running/);
      assert.match(await readout(), /clamped to 3 by max/);
      await hoverAt(upAt + 3 * STEP);
      assert.match(await readout(), /3\s*→\s*3 workers/);
      assert.match(await readout(), /CPU 0\.87 cores/);
      await hoverAt(downAt);
      assert.match(await readout(), /3\s*→\s*0 workers/);
      await hoverAt(downAt - STEP);
      assert.match(await readout(), /held at 3 by the 60 s scale-down window/);
      if (dialect === "sqlite") await screenshot(page, "autoscaler-chart");
      await page.mouse.move(5, 5);
      assert.match(await readout(), /^Latest/);
    });

    it("the table lists the decisions newest first; Changes only keeps the scale-up and the scale-down", async () => {
      assert.equal(await rows().count(), seeded, "every decision of the range");
      assert.match(await rows().first().innerText(), /ceil\(\(0 queued \+ 0 running\) \/ 2\) = 0/);
      await page.getByLabel("Changes only").check();
      assert.equal(await rows().count(), 2);
      assert.match(await rows().nth(0).innerText(), /3 → 0/);
      assert.match(await rows().nth(1).innerText(), /0 → 3[\s\S]*clamped to 3 by max/);
      await page.getByLabel("Changes only").uncheck();
    });

    it("the queue and the range are chosen on the page and kept in the URL", async () => {
      await page.getByRole("group", { name: "Queue" }).getByRole("button", { name: "highmem" }).click();
      await page.waitForURL(/queue=highmem/);
      // The URL changes first; the highmem decisions replace the default queue's once read.
      await waitFor("the highmem queue's decisions", async () => (await rows().count()) === 2, { timeoutMs: 15_000 });
      assert.match(await rows().first().innerText(), /0\.97/);
      await page.getByRole("group", { name: "Queue" }).getByRole("button", { name: "default" }).click();
      await page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "6 hours" }).click();
      await page.waitForURL(/range=21600000/);
      await waitFor("the 6-hour range's decisions", async () => (await rows().count()) === seeded + 1, { timeoutMs: 15_000 });
      assert.match(await rows().last().innerText(), /an older burst/);
      await page.reload();
      await page.getByTestId("scaling-chart").waitFor();
      assert.equal(await page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "6 hours" }).getAttribute("aria-pressed"), "true");
    });

    it("a new decision shows without a reload", async () => {
      await api.store.autoscaler.record(decision(Date.now(), { queued: 9, running: 0, current: 0, desired: 3, reason: "queue: a new burst arrived" }));
      // The page re-reads every 5 s.
      await waitFor("the new decision in the table", async () => /a new burst arrived/.test(await rows().first().innerText()), { timeoutMs: 15_000 });
      assert.match(await readout(), /0\s*→\s*3 workers/);
    });
  });
}
