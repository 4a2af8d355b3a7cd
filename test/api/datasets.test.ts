/**
 * Datasets end to end on SQLite and PostgreSQL: real task attempts
 * (executeAttempt, the code warm task processes run) record one dataset event
 * per outlet on success only, exactly once, with what ctx.outletExtra()
 * attached; GET /datasets and GET /datasets/events then show them, with
 * search, pagination, filters, and 400s for bad input. A DAG scheduled on a
 * dataset shows its schedule, queued updates and the run the scheduler's run
 * creator makes from them; the run lists the events it consumed and each
 * event the runs it triggered. Any signed-in user (a viewer here) may read.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { Skip } from "../../src/core/errors.js";
import { executeAttempt } from "../../src/runner/executeAttempt.js";
import { finishAttempt } from "../../src/runner/finishAttempt.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { RunCreator } from "../../src/scheduler/runCreator.js";
import { SpecCache } from "../../src/scheduler/specCache.js";
import { dag, type Dag } from "../../src/sdk/dag.js";
import { dataset } from "../../src/sdk/dataset.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const V1 = "/api/v1";
const RAW = dataset("s3://lake/raw_events");
const FEATURES = "sluice://pipeline/features";
const MODEL = "sluice://pipeline/model";

/** What the "build" task does on its next attempt. */
let behaviour: "ok" | "throw" | "skip" | "undeclared" = "ok";

const pipeline = dag({ id: "pipeline", schedule: null, retries: 1, retryDelay: 0 }, (d) => {
  const build = d.task(
    "build",
    async (ctx) => {
      if (behaviour === "throw") throw new Error("source unavailable");
      if (behaviour === "skip") throw new Skip("nothing new");
      if (behaviour === "undeclared") ctx.outletExtra("s3://lake/typo" as never, { rows: 1 });
      ctx.outletExtra(RAW, { rows: 1200, partitions: ["2026-03-01"] });
      return "built";
    },
    { outlets: [RAW, FEATURES] },
  );
  const train = d.task("train", async () => 1, { upstream: [build], inlets: [FEATURES], outlets: [MODEL] });
  d.shell("publish", "echo published", { upstream: [train], inlets: [MODEL], outlets: ["file:///srv/models/latest"] });
});
const reader = dag({ id: "reader", schedule: null }, (d) => {
  d.task("read", async () => 1, { inlets: [RAW, MODEL] });
});
/** Scheduled on the model: runs when "train" records an event for it. */
const watcher = dag({ id: "watcher", schedule: [dataset(MODEL)] }, (d) => void d.task("t", async () => 1));
/** Stays declared but is deactivated (its file "deleted"): its refs must not be listed. */
const gone = dag({ id: "gone", schedule: null }, (d) => {
  d.task("old", async () => 1, { outlets: ["s3://lake/legacy_100%"] });
});

for (const dialect of DIALECTS) {
  describe(`datasets on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let clock = T0;
    let viewer: { authorization: string };
    const dagsFolder = mkdtempSync(join(tmpdir(), "sluice-ds-api-"));

    const call = async (url: string, headers: Record<string, string> = viewer) => {
      const res = await app.inject({ method: "GET", url: V1 + url, headers });
      return { status: res.statusCode, json: res.json() as any };
    };
    const expectError = async (url: string, status: number, code: string) => {
      const r = await call(url);
      assert.equal(r.status, status, `${url}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code);
      return r.json.error as { message: string; details?: { fields?: { field: string }[] } };
    };

    /** Run the current try of one task instance as a task process would: claim, run, record. */
    async function attempt(runId: string, taskId: string): Promise<string | null> {
      const ti = (await store.tasks.byKey("pipeline", runId, taskId))!;
      const tryNumber = ti.try_number + 1;
      assert.ok(await store.tasks.cas(ti.id, ["none", "up_for_retry"], { state: "queued", try_number: tryNumber, queued_at: clock, updated_at: clock }));
      const loadDag = async (): Promise<Dag[]> => [pipeline];
      const report = await executeAttempt({ store, dagsFolder, maxResultBytes: 65_536, heartbeatIntervalMs: 60_000, loadDag, now: () => clock }, ti.id, tryNumber);
      return report.state;
    }

    const eventsOf = async (runId: string) =>
      (await store.datasets.events({ limit: 100, offset: 0 })).rows.filter((e) => e.run_id === runId).map((e) => [e.task_id, e.uri, e.extra]);

    before(async () => {
      store = await freshStore(dialect, "datasets");
      for (const d of [pipeline, reader, gone]) {
        const spec = d.toSpec(`${d.id}.ts`);
        await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      }
      await store.dags.deactivate(["gone"], T0);
      await createUser(store, { username: "viewer", role: "viewer", password: "correct horse battery" });
      viewer = { authorization: `Bearer ${(await createToken(store, "viewer", "test")).token}` };
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), now: () => clock });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await store?.close();
      rmSync(dagsFolder, { recursive: true, force: true });
    });

    describe("events from task attempts", () => {
      it("a success records one event per outlet, with the metadata the task attached (or null)", async () => {
        behaviour = "ok";
        await triggerRun(store, "pipeline", { runId: "r_ok", now: clock });
        clock = T0 + 1000;
        assert.equal(await attempt("r_ok", "build"), "success");
        assert.equal(await attempt("r_ok", "publish"), "success", "a shell task's outlets get events too");
        assert.deepEqual(await eventsOf("r_ok"), [
          ["publish", "file:///srv/models/latest", null],
          ["build", FEATURES, null],
          ["build", RAW.uri, '{"rows":1200,"partitions":["2026-03-01"]}'],
        ]);
        const [event] = (await store.datasets.events({ uri: RAW.uri, limit: 1, offset: 0 })).rows;
        assert.deepEqual([event.dag_id, event.map_index, Number(event.created_at)], ["pipeline", -1, T0 + 1000]);
      });

      it("a failed or skipped attempt records nothing; the retry that succeeds records its events once", async () => {
        await triggerRun(store, "pipeline", { runId: "r_retry", now: clock });
        behaviour = "throw";
        assert.equal(await attempt("r_retry", "build"), "up_for_retry");
        assert.deepEqual(await eventsOf("r_retry"), []);
        behaviour = "ok";
        assert.equal(await attempt("r_retry", "build"), "success");
        assert.deepEqual((await eventsOf("r_retry")).map(([t, u]) => `${t} ${u}`), [`build ${FEATURES}`, `build ${RAW.uri}`]);

        await triggerRun(store, "pipeline", { runId: "r_skip", now: clock });
        behaviour = "skip";
        assert.equal(await attempt("r_skip", "build"), "skipped");
        assert.deepEqual(await eventsOf("r_skip"), []);
      });

      it("ctx.outletExtra on an undeclared outlet fails the attempt without retries and records nothing", async () => {
        await triggerRun(store, "pipeline", { runId: "r_typo", now: clock });
        behaviour = "undeclared";
        assert.equal(await attempt("r_typo", "build"), "failed", "Unrecoverable: no retry although retries=1");
        const ti = (await store.tasks.byKey("pipeline", "r_typo", "build"))!;
        assert.match(ti.error ?? "", /ctx\.outletExtra\("s3:\/\/lake\/typo"\): task "build" has no such outlet/);
        assert.deepEqual(await eventsOf("r_typo"), []);
        behaviour = "ok";
      });

      it("events are written only by the write that wins the compare-and-set, and roll back with it", async () => {
        await triggerRun(store, "pipeline", { runId: "r_cas", now: clock });
        const ti = (await store.tasks.byKey("pipeline", "r_cas", "train"))!;
        assert.ok(await store.tasks.cas(ti.id, ["none"], { state: "running", try_number: 1, start_date: clock, updated_at: clock }));
        const running = (await store.tasks.get(ti.id))!;
        const policy = { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 };
        const outcome = {
          kind: "success" as const,
          result: "1",
          datasetEvents: [{ uri: MODEL, dag_id: "pipeline", run_id: "r_cas", task_id: "train", map_index: -1, extra: null }],
        };
        // A final write whose transaction fails after the events were inserted leaves nothing behind...
        await assert.rejects(
          store.transaction(async (tx) => {
            assert.equal(await finishAttempt(tx, running, outcome, policy, clock), "success");
            throw new Error("connection lost before commit");
          }),
          /connection lost/,
        );
        assert.equal((await store.tasks.get(ti.id))!.state, "running");
        assert.deepEqual(await eventsOf("r_cas"), []);
        // ...and once it commits, a repeated write (retry after a lost reply, a second reporter) adds nothing.
        assert.equal(await finishAttempt(store, running, outcome, policy, clock), "success");
        assert.equal(await finishAttempt(store, running, outcome, policy, clock), null);
        assert.deepEqual(await eventsOf("r_cas"), [["train", MODEL, null]]);
      });
    });

    describe("GET /datasets and /datasets/events", () => {
      before(async () => {
        // A DAG scheduled on a dataset: a DAG-level consumer (taskId null).
        const spec = watcher.toSpec("watcher.ts");
        await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      });

      it("lists the datasets of active DAGs by URI with producers, consumers, the latest event and the count", async () => {
        const r = await call("/datasets");
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.deepEqual(
          r.json.datasets.map((d: { uri: string }) => d.uri),
          ["file:///srv/models/latest", "s3://lake/raw_events", FEATURES, MODEL],
          "sorted by URI; the inactive DAG's dataset is not listed",
        );
        assert.equal(r.json.total, 4);
        const byUri = new Map<string, any>(r.json.datasets.map((d: { uri: string }) => [d.uri, d]));
        const raw = byUri.get(RAW.uri);
        assert.deepEqual(raw.producers, [{ dagId: "pipeline", taskId: "build" }]);
        assert.deepEqual(raw.consumers, [{ dagId: "reader", taskId: "read" }]);
        assert.equal(raw.eventCount, 2, "r_ok and r_retry's successful try");
        assert.deepEqual(raw.lastEvent, {
          dagId: "pipeline",
          runId: "r_retry",
          taskId: "build",
          mapIndex: -1,
          createdAt: new Date(T0 + 1000).toISOString(),
          extra: { rows: 1200, partitions: ["2026-03-01"] },
        });
        const model = byUri.get(MODEL);
        assert.deepEqual(model.producers, [{ dagId: "pipeline", taskId: "train" }]);
        assert.deepEqual(model.consumers, [
          { dagId: "pipeline", taskId: "publish" },
          { dagId: "reader", taskId: "read" },
          { dagId: "watcher", taskId: null },
        ]);
        assert.deepEqual(model.scheduledDags, [{ dagId: "watcher", paused: false, queued: false }], "its only event predates the watcher: nothing queued");
        assert.deepEqual(raw.scheduledDags, []);
        assert.equal(model.eventCount, 1);
        assert.equal(model.lastEvent.runId, "r_cas");
        assert.deepEqual([byUri.get(FEATURES).consumers, byUri.get(FEATURES).eventCount], [[{ dagId: "pipeline", taskId: "train" }], 2]);
      });

      it("searches case-insensitively with literal wildcards, and pages with the total", async () => {
        const uris = async (q: string) => {
          const r = await call(`/datasets${q}`);
          assert.equal(r.status, 200, JSON.stringify(r.json));
          return { uris: r.json.datasets.map((d: { uri: string }) => d.uri) as string[], total: r.json.total as number };
        };
        assert.deepEqual(await uris("?search=PIPELINE"), { uris: [FEATURES, MODEL], total: 2 });
        assert.deepEqual(await uris("?search=raw_"), { uris: [RAW.uri], total: 1 });
        assert.deepEqual(await uris("?search=lake_raw"), { uris: [], total: 0 }, '"_" is literal: it does not match the "/" of lake/raw');
        assert.deepEqual(await uris("?search=s3%3A%2F%2Flake%2Fraw%5Fevents"), { uris: [RAW.uri], total: 1 });
        assert.deepEqual(await uris("?search=%25"), { uris: [], total: 0 }, '"%" is literal (only the inactive DAG has one)');
        assert.deepEqual(await uris("?search=nothing-like-this"), { uris: [], total: 0 });
        assert.deepEqual(await uris("?limit=2&offset=1"), { uris: [RAW.uri, FEATURES], total: 4 });
        assert.deepEqual(await uris("?limit=2&offset=4"), { uris: [], total: 4 });
        await expectError("/datasets?limit=0", 400, "VALIDATION_FAILED");
        await expectError("/datasets?offset=-1", 400, "VALIDATION_FAILED");
        await expectError(`/datasets?search=${"x".repeat(1001)}`, 400, "VALIDATION_FAILED");
      });

      it("lists events newest first, filtered by URI (normalised like declarations) and producing DAG, paged", async () => {
        const all = await call("/datasets/events");
        assert.equal(all.status, 200);
        assert.equal(all.json.total, 6);
        const ids = all.json.events.map((e: { id: number }) => e.id);
        assert.deepEqual(ids, [...ids].sort((a: number, b: number) => b - a), "newest first");
        assert.deepEqual(all.json.events[0], {
          id: ids[0],
          uri: MODEL,
          dagId: "pipeline",
          runId: "r_cas",
          taskId: "train",
          mapIndex: -1,
          createdAt: new Date(clock).toISOString(),
          extra: null,
          triggeredRuns: [],
        });
        const raw = await call(`/datasets/events?uri=${encodeURIComponent("S3://lake/raw_events")}`);
        assert.deepEqual(
          raw.json.events.map((e: { runId: string; extra: unknown }) => [e.runId, e.extra]),
          [
            ["r_retry", { rows: 1200, partitions: ["2026-03-01"] }],
            ["r_ok", { rows: 1200, partitions: ["2026-03-01"] }],
          ],
        );
        assert.equal(raw.json.total, 2);
        const page = await call(`/datasets/events?uri=${encodeURIComponent(FEATURES)}&dagId=pipeline&limit=1&offset=1`);
        assert.deepEqual([page.json.total, page.json.events.map((e: { runId: string }) => e.runId)], [2, ["r_ok"]]);
        assert.deepEqual((await call("/datasets/events?dagId=reader")).json, { total: 0, events: [], limit: 100, offset: 0 });
        assert.equal((await call(`/datasets/events?uri=${encodeURIComponent("s3://lake/unknown")}`)).json.total, 0);
      });

      it("answers 400 naming the problem for a query URI that is not a dataset URI, and 401 without credentials", async () => {
        const bad = await expectError("/datasets/events?uri=lake%2Fraw", 400, "VALIDATION_FAILED");
        assert.match(bad.message, /uri: not a dataset URI: it has no scheme/);
        assert.equal(bad.details?.fields?.[0].field, "uri");
        await expectError("/datasets/events?limit=1001", 400, "VALIDATION_FAILED");
        assert.equal((await call("/datasets", {})).status, 401);
        assert.equal((await call("/datasets/events", {})).status, 401);
      });

      it("documents both routes in the OpenAPI document under the datasets tag", async () => {
        const doc = (await call("/openapi.json")).json as { paths: Record<string, { get?: { tags?: string[] } }> };
        for (const path of ["/datasets", "/datasets/events"]) assert.deepEqual(doc.paths[`${V1}${path}`]?.get?.tags, ["datasets"], path);
      });
    });
    describe("dataset-triggered runs", () => {
      let event: { id: number };
      let runId: string;

      before(async () => {
        clock = T0 + 5000;
        await store.datasets.recordEvents([{ uri: MODEL, dag_id: "pipeline", run_id: "r_ok", task_id: "train", map_index: -1, extra: null }], clock);
        event = { id: Number((await store.datasets.events({ uri: MODEL, limit: 1, offset: 0 })).rows[0].id) };
      });

      it("the DAG list and detail describe the dataset schedule, with the updates queued for its next run", async () => {
        const list = await call("/dags");
        const byId = new Map<string, any>(list.json.dags.map((d: { dagId: string }) => [d.dagId, d]));
        assert.equal(byId.get("watcher").scheduleDescription, "on datasets: sluice://pipeline/model");
        assert.equal(byId.get("watcher").schedule, null);
        assert.equal(byId.get("pipeline").scheduleDescription, "manual only");
        const detail = await call("/dags/watcher");
        assert.equal(detail.status, 200, JSON.stringify(detail.json));
        assert.deepEqual(detail.json.datasetSchedule, {
          condition: { uri: MODEL },
          description: "when sluice://pipeline/model updates",
          uris: [MODEL],
          queued: [{ uri: MODEL, since: new Date(clock).toISOString() }],
        });
        assert.equal((await call("/dags/pipeline")).json.datasetSchedule, null);
        const model = (await call(`/datasets?search=${encodeURIComponent(MODEL)}`)).json.datasets[0];
        assert.deepEqual(model.scheduledDags, [{ dagId: "watcher", paused: false, queued: true }]);
      });

      it("the run the scheduler creates lists the events it consumed; each event lists the runs it triggered", async () => {
        await new RunCreator(store, new SpecCache(store), pino({ level: "silent" })).createDue(clock + 1000);
        const runs = (await call("/dags/watcher/runs")).json.runs as { runId: string; runType: string }[];
        assert.deepEqual(runs.map((r) => r.runType), ["dataset_triggered"]);
        runId = runs[0].runId;
        assert.equal(runId, `dataset_triggered__${new Date(clock).toISOString()}`);

        const run = await call(`/dags/watcher/runs/${encodeURIComponent(runId)}`);
        assert.equal(run.status, 200, JSON.stringify(run.json));
        assert.deepEqual(run.json.consumedDatasetEvents, {
          total: 1,
          events: [{ id: event.id, uri: MODEL, dagId: "pipeline", runId: "r_ok", taskId: "train", mapIndex: -1, createdAt: new Date(clock).toISOString() }],
        });
        const manual = await triggerRun(store, "watcher", { runId: "by_hand", now: clock });
        assert.equal((await call(`/dags/watcher/runs/${manual.run_id}`)).json.consumedDatasetEvents, null, "other runs consumed nothing");

        const events = (await call(`/datasets/events?uri=${encodeURIComponent(MODEL)}`)).json.events as { id: number; triggeredRuns: unknown[] }[];
        assert.deepEqual(
          events.map((e) => [e.id, e.triggeredRuns]),
          [
            [event.id, [{ dagId: "watcher", runId }]],
            [events[1].id, []],
          ],
          "the newer event triggered the run; the one before the watcher existed triggered nothing",
        );
        assert.deepEqual((await call("/dags/watcher")).json.datasetSchedule.queued, [], "consumed");
        const model = (await call(`/datasets?search=${encodeURIComponent(MODEL)}`)).json.datasets[0];
        assert.deepEqual(model.scheduledDags, [{ dagId: "watcher", paused: false, queued: false }]);
      });

      it("documents the new fields in the OpenAPI document", async () => {
        const doc = (await call("/openapi.json")).json as { paths: Record<string, Record<string, any>> };
        const schemaOf = (path: string) => doc.paths[`${V1}${path}`].get.responses["200"].content["application/json"].schema;
        assert.ok(schemaOf("/dags/{dagId}").properties.datasetSchedule, "DAG detail: datasetSchedule");
        assert.ok(schemaOf("/dags/{dagId}/runs/{runId}").properties.consumedDatasetEvents, "run detail: consumedDatasetEvents");
        assert.ok(schemaOf("/datasets/events").properties.events.items.properties.triggeredRuns, "events: triggeredRuns");
        assert.ok(schemaOf("/datasets").properties.datasets.items.properties.scheduledDags, "datasets: scheduledDags");
      });
    });
  });
}
