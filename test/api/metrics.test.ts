/**
 * GET /metrics' task duration histogram (`sluice_task_duration_seconds`) and
 * the Grafana dashboard against what /metrics serves.
 *
 * - Real attempts in other processes: a `sluice scheduler` subprocess (local
 *   executor, so its task processes end the attempts) on embedded PostgreSQL,
 *   and this process's API server scraping: the split a Kubernetes deployment
 *   has, where the API never sees the scheduler's events.
 * - On both dialects, attempts finished with chosen times: what is counted
 *   (not what ended before the API started), a try committed after a scrape
 *   that read later ones, a writer whose clock runs ahead, repeated scrapes.
 * - Every metric and label the dashboard's queries name is one /metrics
 *   serves, so a panel cannot again query a metric Sluice does not export.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { Registry } from "prom-client";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { TASK_DURATION_BUCKETS, TaskDurationHistogram } from "../../src/api/metrics/taskDurationHistogram.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { finishAttempt, type AttemptOutcome } from "../../src/runner/finishAttempt.js";
import { dag } from "../../src/sdk/dag.js";
import type { DagRunRow } from "../../src/store/runQueries.js";
import { openStore, type Store } from "../../src/store/store.js";
import { DIALECTS, freshStore, freshTarget, targetUrl } from "../helpers/db.js";
import { killLeftovers, makeProject, REPO_ROOT, runSluice, show, sluiceEnv, SluiceProcess, waitFor, type Project } from "../e2e/helpers.js";

const METRIC = "sluice_task_duration_seconds";

// --- the Prometheus text format, as much as these checks need ---

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1], t[2]);
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3] === "+Inf" ? Infinity : m[3]) });
  }
  return { types, samples };
}

interface Series {
  count: number;
  sum: number;
  /** Cumulative count per upper bound ("+Inf" included). */
  buckets: Map<string, number>;
}

/** The histogram series with exactly these labels (besides le); zeros when absent. */
function series(samples: Sample[], labels: Record<string, string>): Series {
  const match = (s: Sample) => {
    const { le: _le, ...rest } = s.labels;
    return Object.keys(rest).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => rest[k] === v);
  };
  const one = (suffix: string) => samples.filter((s) => s.name === `${METRIC}_${suffix}` && match(s));
  const count = one("count");
  const sum = one("sum");
  assert.ok(count.length <= 1 && sum.length <= 1, `one series for ${JSON.stringify(labels)}`);
  return { count: count[0]?.value ?? 0, sum: sum[0]?.value ?? 0, buckets: new Map(one("bucket").map((s) => [s.labels.le, s.value])) };
}

/** What the buckets must hold for these durations (seconds). */
function expectedBuckets(durations: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const le of TASK_DURATION_BUCKETS) out.set(String(le), durations.filter((d) => d <= le + 1e-9).length);
  out.set("+Inf", durations.length);
  return out;
}

function assertSeries(s: Series, durations: readonly number[], what: string): void {
  assert.equal(s.count, durations.length, `${what}: _count`);
  const total = durations.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(s.sum - total) < 1e-6, `${what}: _sum ${s.sum}, expected ${total}`);
  assert.deepEqual(s.buckets, expectedBuckets(durations), `${what}: _bucket`);
}

// --- the dashboard ---

const DASHBOARD = JSON.parse(readFileSync(join(REPO_ROOT, "deploy/grafana/sluice-dashboard.json"), "utf8")) as Record<string, any>;

/** Every PromQL expression of the dashboard: the panels' targets and the template variables' queries. */
function dashboardExpressions(): string[] {
  const panels: string[] = DASHBOARD.panels.flatMap((p: { targets?: { expr?: string }[] }) => (p.targets ?? []).map((t) => t.expr ?? ""));
  const vars: string[] = (DASHBOARD.templating?.list ?? [])
    .filter((v: { type: string }) => v.type === "query")
    .map((v: { query: string | { query: string } }) => (typeof v.query === "string" ? v.query : v.query.query));
  return [...panels, ...vars].filter((e) => e !== "");
}

/**
 * Problems with the dashboard's queries against a scrape: a series name it
 * queries that the scrape does not have (for a histogram, `_bucket`, `_sum`
 * and `_count` exist, its bare name does not), or a label it selects, groups
 * by or lists that those series do not carry.
 */
function dashboardProblems(scrape: { types: Map<string, string>; samples: Sample[] }): string[] {
  const labelsOf = new Map<string, Set<string>>();
  for (const [name, type] of scrape.types) {
    for (const series of type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]) labelsOf.set(series, new Set());
  }
  for (const s of scrape.samples) for (const l of Object.keys(s.labels)) labelsOf.get(s.name)?.add(l);
  const problems: string[] = [];
  for (const expr of dashboardExpressions()) {
    const refs = [...expr.matchAll(/\b(sluice_[a-zA-Z0-9_]*)\s*(?:\{([^}]*)\})?/g)];
    if (refs.length === 0) problems.push(`${expr}: names no Sluice metric`);
    const names = refs.map((r) => r[1]);
    for (const [, name, matchers] of refs) {
      const have = labelsOf.get(name);
      if (!have) {
        problems.push(`${expr}: ${name} is not served by /metrics`);
        continue;
      }
      for (const m of (matchers ?? "").matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) if (!have.has(m[1])) problems.push(`${expr}: ${name} has no label ${m[1]}`);
    }
    const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(",").map((l) => l.trim()));
    const listed = [...expr.matchAll(/label_values\(\s*\w+\s*,\s*(\w+)\s*\)/g)].map((m) => m[1]);
    for (const label of [...grouped, ...listed]) {
      for (const name of names) if (labelsOf.get(name) && !labelsOf.get(name)!.has(label)) problems.push(`${expr}: ${name} has no label ${label}`);
    }
  }
  return problems;
}

async function scrape(app: ApiApp, token?: string): Promise<{ text: string; types: Map<string, string>; samples: Sample[] }> {
  const res = await app.inject({ method: "GET", url: "/metrics", headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal(res.statusCode, 200, res.body);
  return { text: res.body, ...parseExposition(res.body) };
}

const histogramLines = (text: string) => text.split("\n").filter((l) => l.startsWith(METRIC));

describe("sluice_task_duration_seconds from attempts a separate scheduler process ran (postgres)", () => {
  const DAG = `import { dag } from "sluice";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export default dag({ id: "timed", schedule: null }, (d) => {
  d.task("ok", async () => { await sleep(400); return 1; });
  d.task("bad", async () => { await sleep(300); throw new Error("planned failure"); }, { retries: 1, retryDelay: 100 });
});
`;
  let project: Project;
  let env: NodeJS.ProcessEnv;
  let scheduler: SluiceProcess | undefined;
  let store: Store | undefined;
  let app: ApiApp | undefined;
  let token = "";
  const context = () => `--- scheduler ---\n${scheduler?.output().slice(-6000) ?? ""}`;

  before(async () => {
    project = makeProject();
    writeFileSync(join(project.dags, "timed.ts"), DAG);
    const target = await freshTarget("postgres", "metrics_e2e");
    env = sluiceEnv({ dbUrl: targetUrl(target), home: project.home });
    scheduler = new SluiceProcess(["scheduler", "--dags", project.dags], env, project.dir);
    store = await waitFor("the scheduler to create the schema", () => openStore(target), { timeoutMs: 30_000, intervalMs: 250, context });
    await waitFor("the DAG to be parsed", async () => (await store!.dags.get("timed")) !== undefined, { timeoutMs: 60_000, context });
    await createUser(store, { username: "prometheus", role: "viewer", password: "correct horse battery" });
    token = (await createToken(store, "prometheus", "scrape")).token;
    // The API starts before the attempts, as a deployed one has: it counts what ends from then on.
    app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), now: () => Date.now() });
    await app.ready();
  });

  after(async () => {
    await app?.close();
    const stopped = scheduler?.alive ? await scheduler.stop(30_000) : undefined;
    await store?.close();
    const left = await killLeftovers();
    assert.deepEqual(left, [], "processes were left running");
    assert.deepEqual(stopped?.leftovers ?? [], []);
  });

  it("one observation per finished attempt, success and failure, with the attempts' durations", async () => {
    const empty = await scrape(app!, token);
    assert.equal(empty.types.get(METRIC), "histogram");
    assert.deepEqual(histogramLines(empty.text), [], "no attempt ended yet");

    const r = await runSluice(["dags", "trigger", "timed", "--run-id", "m1", "--json", "--dags", project.dags], env, { cwd: project.dir });
    assert.equal(r.code, 0, show(r));
    const run = await waitFor(
      "the run to finish",
      async () => {
        const x = await store!.runs.get("timed", "m1");
        return x && (x.state === "success" || x.state === "failed") && x;
      },
      { timeoutMs: 60_000, intervalMs: 100, context },
    );
    assert.equal(run.state, "failed", context());

    // What the attempts recorded: one success, and two failed tries of "bad" (the first one retried).
    const tis = await store!.tasks.forRun(run.id);
    const durations: Record<string, number[]> = { success: [], failed: [] };
    for (const ti of tis) for (const t of await store!.tasks.tries(ti.id)) durations[t.state].push(t.duration_ms! / 1000);
    assert.equal(durations.success.length, 1);
    assert.equal(durations.failed.length, 2);

    const m = await scrape(app!, token);
    const ok = series(m.samples, { dag_id: "timed", queue: "default", state: "success" });
    const bad = series(m.samples, { dag_id: "timed", queue: "default", state: "failed" });
    assertSeries(ok, durations.success, "success");
    assertSeries(bad, durations.failed, "failed");
    // The tasks slept: the durations are at least the sleeps.
    assert.ok(ok.sum >= 0.4, `success sum ${ok.sum} >= 0.4 s`);
    assert.ok(bad.sum >= 0.6, `failed sum ${bad.sum} >= 2 × 0.3 s`);
    assert.equal(ok.buckets.get("0.25"), 0, "a 400 ms attempt is not in the 0.25 s bucket");
    assert.equal(bad.buckets.get("0.1"), 0);
    // Nothing else was observed.
    assert.equal(m.samples.filter((s) => s.name === `${METRIC}_count`).reduce((a, s) => a + s.value, 0), 3);

    // Scraping again re-reads the overlap and counts nothing twice.
    assert.deepEqual(histogramLines((await scrape(app!, token)).text), histogramLines(m.text));
  });
});

const timed = dag({ id: "timed", schedule: null }, (d) => {
  for (const t of ["early", "b", "c", "e"]) d.task(t, async () => t, { retries: 2 });
  d.task("d", async () => "d", { queue: "highmem" });
});

const POLICY = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };
const T0 = Date.parse("2026-03-01T12:00:00Z");

for (const dialect of DIALECTS) {
  describe(`sluice_task_duration_seconds: which attempts are counted, on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let run: DagRunRow;
    let clock = T0;

    /** One attempt of `taskId`, from start to end (ms), finished the way a task process does. */
    async function attempt(taskId: string, start: number, end: number, outcome: AttemptOutcome, runPk = run.id): Promise<void> {
      const ti = (await store.tasks.forRun(runPk)).find((t) => t.task_id === taskId)!;
      const tryNumber = ti.try_number + 1;
      await store.db.updateTable("task_instance").set({ state: "running", try_number: tryNumber, start_date: start }).where("id", "=", ti.id).execute();
      assert.ok(await finishAttempt(store, { id: ti.id, try_number: tryNumber, max_tries: 3, start_date: start }, outcome, POLICY, end));
    }
    const success: AttemptOutcome = { kind: "success", result: null };
    const failure: AttemptOutcome = { kind: "failed", error: "boom", retryable: true };
    const m = async () => (await scrape(app)).samples;
    const of = (state: string, queue = "default") => ({ dag_id: "timed", queue, state });

    before(async () => {
      store = await freshStore(dialect, "metrics_tries");
      const spec = timed.toSpec("timed.ts");
      await store.dags.upsert(spec, dagVersionHash(spec), T0 - 60_000, false);
      run = await triggerRun(store, "timed", { runId: "r1", now: T0 - 60_000 });
      // Ended before the API started: the counters start empty, as any Prometheus counter does.
      await attempt("early", T0 - 3_000, T0 - 1_000, success);
      const config = defaultConfig();
      app = createApiServer({ store, config: { ...config, api: { ...config.api, auth: false } }, log: pino({ level: "silent" }), now: () => clock });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await store.close();
    });

    it("counts each attempt that ended since the API started, once, however often it is scraped", async () => {
      await attempt("b", T0 + 1_000, T0 + 3_000, success);
      await attempt("c", T0 + 1_000, T0 + 1_500, failure);
      clock = T0 + 4_000;
      const first = await scrape(app);
      assertSeries(series(first.samples, of("success")), [2], "success");
      assertSeries(series(first.samples, of("failed")), [0.5], "failed");
      assert.equal(series(first.samples, of("failed")).buckets.get("0.5"), 1, "le is inclusive");
      clock = T0 + 5_000;
      assert.deepEqual(histogramLines((await scrape(app)).text), histogramLines(first.text));
    });

    it("counts a try committed after a scrape that already read later ones (its end was stamped earlier)", async () => {
      // c's second try ends at T0+2.8 s, before b's end (T0+3 s) that the last scrape read.
      await attempt("c", T0 + 2_000, T0 + 2_800, failure);
      clock = T0 + 30_000;
      const s = await m();
      assertSeries(series(s, of("failed")), [0.5, 0.8], "failed");
      assertSeries(series(s, of("success")), [2], "success");
    });

    it("a writer whose clock runs 10 minutes ahead does not hide the others' attempts", async () => {
      await attempt("d", T0 + 600_000, T0 + 607_000, success);
      clock = T0 + 31_000;
      assertSeries(series(await m(), of("success", "highmem")), [7], "highmem");
      await attempt("e", T0 + 31_900, T0 + 32_000, success);
      clock = T0 + 33_000;
      const s = await m();
      assertSeries(series(s, of("success")), [2, 0.1], "success");
      assertSeries(series(s, of("success", "highmem")), [7], "highmem");
    });

    it("a backlog longer than one scrape's budget is read over the next scrapes, ties on end_date included", async () => {
      const reg = new Registry();
      // After the attempt that ended 10 minutes ahead (test above): only this test's attempts count.
      let now = T0 + 700_000;
      const h = new TaskDurationHistogram(store, reg, () => now, { page: 2, maxRowsPerScrape: 4 });
      const run2 = await triggerRun(store, "timed", { runId: "r2", now: T0 - 60_000 });
      // 10 attempts (a failed then a successful try of each task) over 3 distinct end times: pages split ties.
      let i = 0;
      for (const outcome of [failure, success]) {
        for (const task of ["early", "b", "c", "d", "e"]) {
          const end = now + 1_000 + (i++ % 3);
          await attempt(task, end - 250, end, outcome, run2.id);
        }
      }
      now += 10_000;
      const counts: number[] = [];
      for (let scrapes = 0; scrapes < 5; scrapes++) {
        // Each scrape reads once (the histogram's collect).
        const s = parseExposition(await reg.metrics()).samples;
        counts.push(s.filter((x) => x.name === `${METRIC}_count`).reduce((a, x) => a + x.value, 0));
      }
      // 4 and 4 (budget), the last 2; then the overlap is read again (in two scrapes) and nothing counted twice.
      assert.deepEqual(counts, [4, 8, 10, 10, 10]);
      const s = parseExposition(await reg.metrics()).samples;
      assertSeries(series(s, of("failed")), [0.25, 0.25, 0.25, 0.25], "failed");
      assertSeries(series(s, of("success", "highmem")), [0.25], "highmem");
    });

    it("the Grafana dashboard queries only series and labels /metrics serves", async () => {
      // One autoscaler decision, so the queue gauges have samples whose labels can be checked too.
      await store.autoscaler.record({ queue: "default", at: clock, queued: 0, running: 0, current_replicas: 1, proposed_replicas: 1, desired_replicas: 1, cpu: 0.5, memory_mb: 100, network_bps: null, proposals: "{}", reason: "test", actuator: "local" });
      const s = await scrape(app);
      for (const name of ["sluice_tasks_queued", "sluice_tasks_running", "sluice_autoscaler_current_replicas", "sluice_worker_cpu_utilization", `${METRIC}_bucket`]) {
        assert.ok(s.samples.some((x) => x.name === name), `${name} has a sample to check labels on`);
      }
      assert.ok(dashboardExpressions().some((e) => e.includes(`${METRIC}_bucket`)), "the dashboard has the duration panels");
      assert.deepEqual(dashboardProblems(s), []);
    });
  });
}
