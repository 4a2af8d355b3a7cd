/**
 * "UI and API on a big history": 1,000 DAGs and one DAG (big_dag) with
 * 10,000 runs × 50 tasks in the store (test/helpers/seedBig.ts), the real API
 * server listening on loopback with auth on, a bearer token of an admin.
 *
 * API: after a warm-up, 200 sequential requests per endpoint, then the same
 * count spread over 4 concurrent clients; latency is measured in the client
 * from sending the request to the last byte of the body (keep-alive
 * connection, so no TCP handshake per request). Target p95 ≤ 200 ms.
 *
 * Browser: headless Chromium opens the DAG page of big_dag (Grid is its first
 * tab) with a session cookie; the UI sets window.__sluiceGridFirstRender
 * (performance.now() when the first cells painted, i.e. ms since navigation
 * start); we also time, from Node, page.goto() until the first grid cell is
 * visible. One cold load (empty cache), then 5 measured loads; target median
 * ≤ 1.5 s. Parts that do not exist yet (the grid route, the built UI) are
 * reported as missing instead of failing the benchmark.
 *
 * Scrolling: on a freshly loaded grid, the page itself scrolls the grid
 * (the position set on every animation frame from the elapsed time, so a
 * slow frame does not stretch the pass) down through all tasks and back up
 * in 1 s, then from the newest run back through half the history in 3 s (a
 * fling: ~5,000 runs), while a requestAnimationFrame loop records every
 * frame's duration. 3 fresh loads; frame times pooled: p50, p95 (target
 * ≤ 50 ms, i.e. no worse than 20 fps), max and the share of frames over
 * 50 ms. Then the time until the view at the end position holds task cells
 * and no loading placeholders (the data arrived; no target), and a steady
 * scroll of 1,000 more runs in 3 s for comparison (no target).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import type { DbTarget } from "../src/store/db.js";
import { openStore } from "../src/store/store.js";
import type { Page } from "playwright-core";
import { launchBrowser, signInWithCookie, startApiServer, UI_INDEX } from "../test/helpers/browser.js";
import { prng } from "../test/helpers/prng.js";
import { BIG_DAG_ID, seedBig } from "../test/helpers/seedBig.js";
import { freshDbUrl, median, round, type Benchmark, type BenchContext, type Metric } from "./common.js";

const TARGET_P95_MS = 200;
const TARGET_FIRST_RENDER_MS = 1500;
const WARMUP = 20;
const SEQUENTIAL = 200;
const CLIENTS = 4;
const BROWSER_RUNS = 5;
const SEARCH = { q: "finance", tag: "daily" };
/** The DAG page; the grid is its default tab. */
const GRID_PAGE = `/dags/${BIG_DAG_ID}`;
const GRID_CELL = '[data-testid="grid"] [data-state]';
const SCROLL_RUNS = 3;
/** Share of the history crossed by the horizontal pass, and how long the pass takes. */
const SCROLL_SHARE = 0.5;
const SCROLL_H_MS = 3000;
const SCROLL_V_MS = 1000;
/** A frame longer than this reads as a stutter (under 20 fps). */
const SLOW_FRAME_MS = 50;
const TARGET_FRAME_P95_MS = 50;
/** A second, steady horizontal scroll: this many runs in SCROLL_H_MS, a brisk drag rather than a fling. */
const STEADY_RUNS = 1000;
/** Width of a grid column (ui/src/pages/dag/grid/GridColumn.tsx COL_W). */
const COL_PX = 18;

interface Endpoint {
  key: string;
  label: string;
  /** The i-th request's path (deep grid pages differ per request). */
  path(i: number): string;
  /** Throws when a 200 answer does not look like what the UI needs (a fast wrong answer is no result). */
  check(body: any): string | undefined;
}

/** Nearest-rank percentile. */
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

function endpoints(totalRuns: number): Endpoint[] {
  const rnd = prng(7);
  // Offsets deep in the history, the same sequence on every run and dialect.
  const deep = Array.from({ length: WARMUP + 2 * SEQUENTIAL }, () => 100 + Math.floor(rnd() * Math.max(1, totalRuns - 200)));
  const grid = (body: any, offset: number) => {
    if (!Array.isArray(body?.runs) || !Array.isArray(body?.tasks)) return "no runs/tasks arrays";
    if (body.runs.length !== 100) return `${body.runs.length} runs instead of 100 at offset ${offset}`;
    if (body.runs.some((r: any) => !Array.isArray(r.cells) || r.cells.length !== body.tasks.length)) return "cells not aligned with tasks";
    return undefined;
  };
  return [
    {
      key: "dags",
      label: "GET /dags",
      path: () => "/api/v1/dags",
      check: (b) => (b?.total === 1000 && b.dags?.length > 0 ? undefined : `total ${b?.total}, ${b?.dags?.length} rows`),
    },
    {
      key: "dagsSearch",
      label: `GET /dags?q=${SEARCH.q}&tag=${SEARCH.tag}`,
      path: () => `/api/v1/dags?q=${SEARCH.q}&tag=${encodeURIComponent(SEARCH.tag)}`,
      check: (b) => (b?.total > 0 && b.dags.every((d: any) => d.tags.includes(SEARCH.tag)) ? undefined : `total ${b?.total}`),
    },
    {
      key: "gridNewest",
      label: "GET /dags/big_dag/grid (newest 100)",
      path: () => `/api/v1/dags/${BIG_DAG_ID}/grid?offset=0&limit=100`,
      check: (b) => grid(b, 0) ?? (b.totalRuns === totalRuns ? undefined : `totalRuns ${b.totalRuns}, expected ${totalRuns}`),
    },
    {
      key: "gridDeep",
      label: "GET /dags/big_dag/grid (random deep page of 100)",
      path: (i) => `/api/v1/dags/${BIG_DAG_ID}/grid?offset=${deep[i % deep.length]}&limit=100`,
      check: (b) => grid(b, b?.offset),
    },
    {
      key: "runs",
      label: "GET /dags/big_dag/runs",
      path: () => `/api/v1/dags/${BIG_DAG_ID}/runs`,
      check: (b) => {
        const list = Array.isArray(b) ? b : b?.runs;
        return Array.isArray(list) && list.length > 0 ? undefined : "no runs in the answer";
      },
    },
  ];
}

class Missing extends Error {}

async function timedGet(baseUrl: string, path: string, token: string): Promise<{ ms: number; status: number; body: any }> {
  const t0 = performance.now();
  const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  const ms = performance.now() - t0;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { ms, status: res.status, body };
}

async function measureApi(ctx: BenchContext, baseUrl: string, token: string, totalRuns: number) {
  const metrics: Metric[] = [];
  const samples: Record<string, number[]> = {};
  const results: Record<string, unknown> = {};
  for (const ep of endpoints(totalRuns)) {
    const get = async (i: number) => {
      const r = await timedGet(baseUrl, ep.path(i), token);
      if (r.status === 404 && typeof r.body?.error?.message === "string" && r.body.error.message.startsWith("No route")) throw new Missing(`${ep.path(i)} answered 404 "${r.body.error.message}"`);
      if (r.status !== 200) throw new Error(`${ep.label}: GET ${ep.path(i)} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
      const wrong = ep.check(r.body);
      if (wrong) throw new Error(`${ep.label}: GET ${ep.path(i)} answered 200 but ${wrong}`);
      return r.ms;
    };
    try {
      for (let i = 0; i < WARMUP; i++) await get(i);
    } catch (err) {
      if (!(err instanceof Missing)) throw err;
      ctx.progress(`${ep.label}: MISSING (${err.message})`);
      results[ep.key] = { label: ep.label, missing: err.message };
      metrics.push({ name: `${ep.label} p95`, value: Number.NaN, unit: "ms", target: { op: "<=", value: TARGET_P95_MS }, note: "endpoint missing" });
      continue;
    }
    const seq: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) seq.push(await get(WARMUP + i));
    const conc: number[] = [];
    const per = Math.ceil(SEQUENTIAL / CLIENTS);
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = 0; i < per; i++) conc.push(await get(WARMUP + SEQUENTIAL + c * per + i));
      }),
    );
    const stat = (xs: number[]) => ({ p50: round(percentile(xs, 50), 1), p95: round(percentile(xs, 95), 1), max: round(Math.max(...xs), 1), n: xs.length });
    const s = stat(seq);
    const c = stat(conc);
    ctx.progress(`${ep.label}: p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms; ${CLIENTS} clients: p50 ${c.p50}, p95 ${c.p95}, max ${c.max}`);
    results[ep.key] = { label: ep.label, sequential: s, concurrent: { clients: CLIENTS, ...c } };
    samples[`${ep.key}SequentialMs`] = seq.map((x) => round(x, 2));
    samples[`${ep.key}Concurrent${CLIENTS}Ms`] = conc.map((x) => round(x, 2));
    metrics.push({ name: `${ep.label} p95`, value: Math.round(s.p95), unit: "ms", target: { op: "<=", value: TARGET_P95_MS }, note: `p50 ${Math.round(s.p50)}, max ${Math.round(s.max)}; ${SEQUENTIAL} sequential` });
    metrics.push({ name: `${ep.label} p95, ${CLIENTS} clients`, value: Math.round(c.p95), unit: "ms", note: `p50 ${Math.round(c.p50)}, max ${Math.round(c.max)}` });
  }
  return { metrics, samples, results };
}

/** Grid first render in headless Chromium, or why it could not be measured. */
async function measureBrowser(ctx: BenchContext, baseUrl: string, user: { username: string; password: string }, gridMissing: boolean) {
  const missing = (why: string) => {
    ctx.progress(`browser: MISSING (${why})`);
    return {
      metrics: [{ name: `grid first render, median of ${BROWSER_RUNS}`, value: Number.NaN, unit: "ms", target: { op: "<=", value: TARGET_FIRST_RENDER_MS }, note: why } satisfies Metric],
      samples: {},
      results: { missing: why },
    };
  };
  if (!existsSync(UI_INDEX)) return missing(`the UI is not built (${UI_INDEX} missing): npm run build`);
  if (gridMissing) return missing("the grid endpoint is missing");
  // Built but not (yet) served by the API server: the SPA fallback answers HTML for a UI route.
  const probe = await fetch(baseUrl + GRID_PAGE, { headers: { accept: "text/html" } });
  const type = probe.headers.get("content-type") ?? "";
  await probe.arrayBuffer();
  if (probe.status !== 200 || !type.includes("text/html")) return missing(`the API server does not serve the UI: GET ${GRID_PAGE} answered ${probe.status} ${type}`);
  try {
    const loads = await loadGrid(ctx, baseUrl, user);
    const scroll = await scrollGrid(ctx, baseUrl, user);
    return {
      metrics: [...loads.metrics, ...scroll.metrics],
      samples: { ...loads.samples, ...scroll.samples },
      results: { ...loads.results, scroll: scroll.results },
    };
  } catch (err) {
    // Keep the API numbers: record the failure as this part's result.
    const why = (err as Error).message.split("\n")[0];
    ctx.progress(`browser: FAILED (${why})`);
    return {
      metrics: [{ name: `grid first render, median of ${BROWSER_RUNS}`, value: Number.NaN, unit: "ms", target: { op: "<=", value: TARGET_FIRST_RENDER_MS }, note: `failed: ${why}` } satisfies Metric],
      samples: {},
      results: { error: (err as Error).stack ?? String(err) },
    };
  }
}

async function loadGrid(ctx: BenchContext, baseUrl: string, user: { username: string; password: string }) {
  const browser = await launchBrowser();
  ctx.scope.defer("close Chromium", () => browser.close());
  await signInWithCookie(browser.context, baseUrl, user.username, user.password);
  const firstRender: number[] = [];
  const wall: number[] = [];
  let cold: { firstRenderMs: number | null; wallMs: number } | undefined;
  let noMarker = false;
  for (let i = 0; i <= BROWSER_RUNS; i++) {
    const page = await browser.context.newPage();
    try {
      const t0 = performance.now();
      await page.goto(baseUrl + GRID_PAGE, { waitUntil: "commit" });
      try {
        await page.locator(GRID_CELL).first().waitFor({ state: "visible", timeout: 30_000 });
      } catch (err) {
        const text = (await page.locator("body").innerText().catch(() => "")).slice(0, 300).replace(/\s+/g, " ");
        throw new Error(`no grid cell (${GRID_CELL}) became visible within 30 s at ${page.url()}; the page says: "${text}"`, { cause: err });
      }
      const wallMs = performance.now() - t0;
      // Set by the UI once when the first cells paint; relative to the navigation's start (time origin).
      const marker = await page
        .waitForFunction(
          () => {
            // Runs in the page (no DOM types in this build, hence the casts).
            const g = globalThis as unknown as { __sluiceGridFirstRender?: unknown; performance: { getEntriesByType(t: string): { startTime: number }[] } };
            const v = g.__sluiceGridFirstRender;
            if (typeof v !== "number") return undefined;
            const nav = g.performance.getEntriesByType("navigation")[0];
            return { ms: v - (nav ? nav.startTime : 0) };
          },
          undefined,
          { timeout: 5_000 },
        )
        .then(async (h) => ((await h.jsonValue()) as { ms: number }).ms)
        .catch(() => null);
      if (marker === null) noMarker = true;
      if (i === 0) cold = { firstRenderMs: marker === null ? null : round(marker, 1), wallMs: round(wallMs, 1) };
      else {
        if (marker !== null) firstRender.push(marker);
        wall.push(wallMs);
      }
      ctx.progress(`browser ${i === 0 ? "cold load" : `load ${i}/${BROWSER_RUNS}`}: first render ${marker === null ? "not reported" : `${Math.round(marker)} ms`}, first cell visible after ${Math.round(wallMs)} ms`);
    } finally {
      await page.close();
    }
  }
  const metrics: Metric[] = [
    firstRender.length
      ? { name: `grid first render, median of ${BROWSER_RUNS}`, value: Math.round(median(firstRender)), unit: "ms", target: { op: "<=", value: TARGET_FIRST_RENDER_MS }, note: "window.__sluiceGridFirstRender - navigation start" }
      : { name: `grid first render, median of ${BROWSER_RUNS}`, value: Number.NaN, unit: "ms", target: { op: "<=", value: TARGET_FIRST_RENDER_MS }, note: "the UI does not set window.__sluiceGridFirstRender" },
    { name: `grid first cell visible, median of ${BROWSER_RUNS}`, value: Math.round(median(wall)), unit: "ms", note: `page.goto() until ${GRID_CELL} visible; cold load ${Math.round(cold!.wallMs)} ms` },
  ];
  return {
    metrics,
    samples: { gridFirstRenderMs: firstRender.map((x) => round(x, 1)), gridFirstCellVisibleMs: wall.map((x) => round(x, 1)) },
    results: { page: GRID_PAGE, coldLoad: cold, markerMissing: noMarker },
  };
}

/**
 * Runs in the page: scroll the grid by `px` pixels along `axis` in `ms`
 * (with `bounce`, there and back), setting the position on every animation
 * frame from the elapsed time, and return every frame's duration (the time
 * between two requestAnimationFrame callbacks). Written against `any`: this
 * build has no DOM types.
 */
async function scrollInPage(o: { axis: "x" | "y"; px: number; ms: number; bounce: boolean }): Promise<{ frames: number[]; px: number }> {
  const g = globalThis as any;
  const el = g.document.querySelector('[data-testid="grid"]');
  const raf = () => new Promise<number>((resolve) => g.requestAnimationFrame(resolve));
  const prop = o.axis === "x" ? "scrollLeft" : "scrollTop";
  const from = el[prop];
  // Horizontal passes go back in time (leftwards, from the newest runs); vertical ones go down.
  const to = o.axis === "x" ? Math.max(0, from - o.px) : Math.min(el.scrollHeight - el.clientHeight, from + o.px);
  const frames: number[] = [];
  let last = await raf();
  const start = last;
  for (;;) {
    const now = await raf();
    frames.push(now - last);
    last = now;
    const f = Math.min(1, (now - start) / o.ms);
    const k = o.bounce ? (f < 0.5 ? 2 * f : 2 - 2 * f) : f;
    el[prop] = from + (to - from) * k;
    if (f >= 1) break;
  }
  // One more frame, so the render of the last position is counted too.
  const end = await raf();
  frames.push(end - last);
  return { frames, px: Math.abs(to - from) };
}

interface ViewState {
  cells: number;
  placeholders: number;
  firstRun: string | null;
  firstCol: number | null;
}

/** Runs in the page: what the grid's viewport shows (task cells, loading placeholders, its leftmost run). */
function viewInPage(): ViewState {
  const g = globalThis as any;
  const el = g.document.querySelector('[data-testid="grid"]');
  const box = el.getBoundingClientRect();
  const inView = (e: any) => {
    const r = e.getBoundingClientRect();
    return r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom;
  };
  const cells = [...el.querySelectorAll('[data-testid^="cell-"]')].filter(inView).length;
  const placeholders = [...el.querySelectorAll(".grid-col-ph, .grid-bar-ph")].filter(inView).length;
  const bars = [...el.querySelectorAll('[data-testid^="run-bar-"]')].filter(inView).sort((a: any, b: any) => a.getBoundingClientRect().left - b.getBoundingClientRect().left);
  const first = bars[0] as any;
  return { cells, placeholders, firstRun: first ? first.getAttribute("data-testid").slice("run-bar-".length) : null, firstCol: first ? Number(first.getAttribute("data-col")) : null };
}

/** Poll until the view holds task cells and no placeholder; returns the time it took and what was on screen. */
async function waitForData(page: Page, what: string): Promise<{ ms: number; view: ViewState }> {
  const t0 = performance.now();
  let view = await page.evaluate(viewInPage);
  while (!(view.cells > 0 && view.placeholders === 0)) {
    if (performance.now() - t0 > 30_000) throw new Error(`${what}: after 30 s the view still shows ${view.placeholders} loading placeholders and ${view.cells} task cells`);
    await new Promise((r) => setTimeout(r, 20));
    view = await page.evaluate(viewInPage);
  }
  return { ms: performance.now() - t0, view };
}

async function scrollGrid(ctx: BenchContext, baseUrl: string, user: { username: string; password: string }) {
  const browser = await launchBrowser();
  ctx.scope.defer("close Chromium (scroll)", () => browser.close());
  await signInWithCookie(browser.context, baseUrl, user.username, user.password);
  const frames: number[] = [];
  const steadyFrames: number[] = [];
  const dataMs: number[] = [];
  const passes: Record<string, unknown>[] = [];
  for (let i = 0; i < SCROLL_RUNS; i++) {
    const page = await browser.context.newPage();
    try {
      await page.goto(baseUrl + GRID_PAGE, { waitUntil: "commit" });
      await page.locator(GRID_CELL).first().waitFor({ state: "visible", timeout: 30_000 });
      const start = await waitForData(page, `scroll pass ${i + 1}, before scrolling`);
      const width = await page.evaluate(() => (globalThis as any).document.querySelector('[data-testid="grid"]').scrollWidth as number);
      // Vertical first, on the loaded newest runs; then the fling back through the history, whose end position is then awaited.
      const v = await page.evaluate(scrollInPage, { axis: "y", px: 1e9, ms: SCROLL_V_MS, bounce: true } as const);
      const h = await page.evaluate(scrollInPage, { axis: "x", px: Math.round(width * SCROLL_SHARE), ms: SCROLL_H_MS, bounce: false } as const);
      const data = await waitForData(page, `scroll pass ${i + 1}: the data at the end position`);
      const steady = await page.evaluate(scrollInPage, { axis: "x", px: STEADY_RUNS * COL_PX, ms: SCROLL_H_MS, bounce: false } as const);
      const pass = [...v.frames, ...h.frames];
      frames.push(...pass);
      steadyFrames.push(...steady.frames);
      dataMs.push(data.ms);
      const crossedRuns = start.view.firstCol !== null && data.view.firstCol !== null ? start.view.firstCol - data.view.firstCol : null;
      const s = frameStats(pass);
      const st = frameStats(steady.frames);
      passes.push({ verticalPx: v.px, verticalFrames: v.frames.length, horizontalPx: h.px, horizontalFrames: h.frames.length, crossedRuns, endFirstRun: data.view.firstRun, cellsInView: data.view.cells, dataArrivedMs: round(data.ms, 1), ...s, steady: st });
      ctx.progress(
        `grid scroll ${i + 1}/${SCROLL_RUNS}: ${pass.length} frames (all tasks down and up, then ${crossedRuns ?? "?"} runs back), frame p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms, ${s.slowPct}% over ${SLOW_FRAME_MS} ms; ` +
          `data at the end (${data.view.firstRun}) after ${Math.round(data.ms)} ms; steady scroll p95 ${st.p95} ms`,
      );
    } finally {
      await page.close();
    }
  }
  const s = frameStats(frames);
  const st = frameStats(steadyFrames);
  const what = `${SCROLL_RUNS} fresh loads, each: all tasks down and up in ${SCROLL_V_MS / 1000} s, then ${Math.round(SCROLL_SHARE * 100)}% of the history back in ${SCROLL_H_MS / 1000} s`;
  const metrics: Metric[] = [
    { name: "grid scroll frame time p95", value: s.p95, unit: "ms", target: { op: "<=", value: TARGET_FRAME_P95_MS }, note: `p50 ${s.p50}, max ${s.max}; ${s.slowPct}% of ${frames.length} frames over ${SLOW_FRAME_MS} ms; ${what}` },
    { name: "grid scroll frame time p50", value: s.p50, unit: "ms" },
    { name: "grid scroll frame time max", value: s.max, unit: "ms", note: `${s.slow} of ${frames.length} frames (${s.slowPct}%) over ${SLOW_FRAME_MS} ms` },
    { name: "grid data in view after the scroll, median", value: Math.round(median(dataMs)), unit: "ms", note: `from the scroll's end until the view holds task cells and no loading placeholders; max ${Math.round(Math.max(...dataMs))}` },
    { name: "grid steady scroll frame time p95", value: st.p95, unit: "ms", note: `${STEADY_RUNS} runs in ${SCROLL_H_MS / 1000} s (about ${Math.round(STEADY_RUNS / (SCROLL_H_MS / 1000) / 60)} columns a frame at 60 fps); p50 ${st.p50}, max ${st.max}; ${st.slowPct}% over ${SLOW_FRAME_MS} ms` },
  ];
  return {
    metrics,
    samples: { gridScrollFrameMs: frames.map((x) => round(x, 2)), gridSteadyScrollFrameMs: steadyFrames.map((x) => round(x, 2)), gridScrollDataArrivedMs: dataMs.map((x) => round(x, 1)) },
    results: { measured: what, steady: `${STEADY_RUNS} runs further back in ${SCROLL_H_MS / 1000} s, once the fling's end position has its data`, slowFrameMs: SLOW_FRAME_MS, ...s, steadyStats: st, passes },
  };
}

function frameStats(frames: number[]) {
  const slow = frames.filter((f) => f > SLOW_FRAME_MS).length;
  return {
    p50: round(percentile(frames, 50), 1),
    p95: round(percentile(frames, 95), 1),
    max: round(Math.max(...frames), 1),
    slow,
    slowPct: round((100 * slow) / Math.max(1, frames.length), 1),
  };
}

export const uiApi: Benchmark = {
  id: "uiApi",
  title: "UI/API: 1,000 DAGs, 10,000 runs × 50 tasks",
  async run(ctx) {
    const dir = ctx.scope.tempDir("uiapi");
    const url = await freshDbUrl(ctx, dir, "uiapi");
    const target: DbTarget = ctx.dialect === "sqlite" ? { dialect: "sqlite", path: url } : { dialect: "postgres", url };
    const store = await openStore(target, { migrate: true });
    ctx.scope.defer("close store", () => store.close());

    const seeded = await seedBig(store, { progress: ctx.progress });
    // A bulk load leaves PostgreSQL without planner statistics until autovacuum's ANALYZE
    // (about a minute later); a production database has them, so take them now. SQLite gets
    // nothing: Sluice never runs ANALYZE there, so its planner works without statistics.
    let analyzeS: number | undefined;
    if (ctx.dialect === "postgres") {
      const t = performance.now();
      await sql`analyze`.execute(store.db);
      analyzeS = round((performance.now() - t) / 1000, 1);
      ctx.progress(`ANALYZE in ${analyzeS} s`);
    }

    const server = await startApiServer({ store });
    ctx.scope.defer("stop API server", () => server.close());
    const admin = await server.createUser("admin", "bench_admin");

    const api = await measureApi(ctx, server.baseUrl, admin.token, seeded.bigRuns);
    const gridMissing = ["gridNewest", "gridDeep"].some((k) => (api.results[k] as { missing?: string })?.missing);
    const ui = await measureBrowser(ctx, server.baseUrl, admin, gridMissing);

    return {
      metrics: [
        ...api.metrics,
        ...ui.metrics,
        { name: "seeding the store (setup, no target)", value: seeded.seconds.total, unit: "s", note: `${seeded.dags} DAGs, ${seeded.runs} runs, ${seeded.taskInstances} task instances, ${seeded.taskTries} tries` },
      ],
      samples: { ...api.samples, ...ui.samples },
      details: {
        seed: { ...seeded, postgresAnalyzeS: analyzeS },
        api: {
          measured: `client-side latency (fetch, keep-alive, body read) of ${WARMUP} warm-up + ${SEQUENTIAL} sequential requests, then ${SEQUENTIAL} spread over ${CLIENTS} concurrent clients, per endpoint; bearer token of an admin; auth on`,
          endpoints: api.results,
        },
        browser: { measured: `headless Chromium (${join("dist", "ui")}), session cookie, 1 cold load then ${BROWSER_RUNS} loads of ${GRID_PAGE}`, ...ui.results },
      },
    };
  },
};
