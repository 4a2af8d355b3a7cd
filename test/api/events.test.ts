/**
 * Server-sent events against a real listening server and a real store
 * (SQLite and PostgreSQL), read with a streaming fetch as a browser would:
 * /events delivers run, task, DAG and import-error changes within a couple of
 * poll intervals, exactly once, also for rows committed late with an older
 * updated_at; all clients share one poller that stops when the last leaves;
 * the log tail streams lines while the try runs and ends when it finishes;
 * both need credentials; closing the server ends open streams.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { QUERIES_PER_POLL } from "../../src/api/live/changeFeed.js";
import { liveHubOf } from "../../src/api/live/liveHub.js";
import { setLiveOptions, type LiveOptions } from "../../src/api/live/liveOptions.js";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag } from "../../src/sdk/dag.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const V1 = "/api/v1";
const POLL_MS = 100;
/** How long a change may take to arrive: many poll intervals, so a busy machine does not fail the test. */
const ARRIVAL_MS = 3_000;

const etl = dag({ id: "etl", schedule: null }, (d) => {
  const a = d.task("extract", async () => 1);
  d.task("load", async () => 2, { upstream: [a] });
});
const other = dag({ id: "other", schedule: null }, (d) => {
  d.task("only", async () => 1);
});

interface SseEvent {
  event: string;
  data: any;
  id?: string;
}

/** A streaming EventSource stand-in: collects events, lets a test wait for one. */
class SseClient {
  readonly events: SseEvent[] = [];
  ended = false;
  private buffer = "";
  private wake: (() => void)[] = [];
  private readonly abort = new AbortController();

  private constructor(readonly status: number) {}

  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const c = new SseClient(0);
    const res = await fetch(url, { headers, signal: c.abort.signal });
    (c as { status: number }).status = res.status;
    (c as { contentType?: string | null }).contentType = res.headers.get("content-type");
    if (res.status !== 200) {
      c.events.push({ event: "http-error", data: await res.json() });
      c.ended = true;
      return c;
    }
    void c.read(res.body!.getReader());
    return c;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = this.buffer.indexOf("\n\n")) >= 0) {
          this.frame(this.buffer.slice(0, cut));
          this.buffer = this.buffer.slice(cut + 2);
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
    this.notify();
  }

  private frame(text: string): void {
    const e: Partial<SseEvent> & { dataText?: string } = {};
    for (const line of text.split("\n")) {
      if (line.startsWith(":") || line.startsWith("retry:")) continue;
      const colon = line.indexOf(": ");
      const [field, value] = colon < 0 ? [line, ""] : [line.slice(0, colon), line.slice(colon + 2)];
      if (field === "event") e.event = value;
      else if (field === "data") e.dataText = value;
      else if (field === "id") e.id = value;
    }
    if (e.event === undefined) return;
    this.events.push({ event: e.event, data: e.dataText === undefined ? undefined : JSON.parse(e.dataText), id: e.id });
    this.notify();
  }

  private notify(): void {
    for (const w of this.wake.splice(0)) w();
  }

  private async until<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = check();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(this.events.slice(-10))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The first event (already received or still to come) that matches. */
  waitFor(match: (e: SseEvent) => boolean, what: string, ms = ARRIVAL_MS): Promise<SseEvent> {
    return this.until(() => this.events.find(match), ms, what);
  }

  waitEnd(ms = ARRIVAL_MS): Promise<true> {
    return this.until(() => (this.ended ? true : undefined), ms, "the stream to end");
  }

  close(): void {
    this.abort.abort();
  }
}

const isTask = (taskId: string, state: string, runId?: string) => (e: SseEvent) =>
  e.event === "task" && e.data.taskId === taskId && e.data.state === state && (runId === undefined || e.data.runId === runId);

for (const dialect of DIALECTS) {
  describe(`server-sent events on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let base: string;
    let auth: Record<string, string>;
    let previous: LiveOptions;
    const clients: SseClient[] = [];
    const open = async (path: string, headers: Record<string, string> = {}) => {
      const c = await SseClient.open(base + V1 + path, { ...auth, ...headers });
      clients.push(c);
      return c;
    };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(base + V1 + path, { method, headers: { ...auth, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, json: (await res.json()) as any };
    };
    /** Change a task instance as the scheduler or a task process would: a compare-and-set stamped with the time. */
    const setTask = async (dagId: string, runId: string, taskId: string, patch: Record<string, unknown>, updatedAt = Date.now()) => {
      const ti = (await store.tasks.byKey(dagId, runId, taskId))!;
      assert.ok(await store.tasks.cas(ti.id, [ti.state as never], { ...patch, updated_at: updatedAt }));
      return ti.id;
    };
    const hub = () => liveHubOf(store)!;
    const waitUntil = async (cond: () => boolean, what: string, ms = ARRIVAL_MS) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    before(async () => {
      previous = setLiveOptions({ pollIntervalMs: POLL_MS, logPollMs: 50 });
      store = await freshStore(dialect, "events");
      for (const d of [etl, other]) {
        const spec = d.toSpec(`${d.id}.ts`);
        await store.dags.upsert(spec, dagVersionHash(spec), Date.now(), false);
      }
      await createUser(store, { username: "ops", role: "operator", password: "correct horse battery" });
      auth = { authorization: `Bearer ${(await createToken(store, "ops", "t")).token}` };
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }) });
      base = await app.listen({ host: "127.0.0.1", port: 0 });
    });
    after(async () => {
      for (const c of clients) c.close();
      await app?.close();
      await store?.close();
      setLiveOptions(previous);
    });

    it("needs credentials: 401 without them, before any stream opens", async () => {
      for (const path of ["/events", "/dags/etl/runs/x/tasks/extract/logs/stream"]) {
        const res = await fetch(base + V1 + path);
        assert.equal(res.status, 401, path);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, "UNAUTHENTICATED");
      }
      const bad = await fetch(`${base}${V1}/events`, { headers: { authorization: "Bearer slc_wrong" } });
      assert.equal(bad.status, 401);
      // A browser's EventSource sends the session cookie and nothing else (a GET needs no CSRF token).
      const login = await fetch(`${base}${V1}/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "ops", password: "correct horse battery" }) });
      const cookie = login.headers.get("set-cookie")!.split(";")[0];
      const c = await SseClient.open(`${base}${V1}/events`, { cookie });
      clients.push(c);
      assert.equal(c.status, 200);
      await c.waitFor((e) => e.event === "hello", "hello over a session cookie");
      c.close();
    });

    it("says hello, then sends a task change made in the store within a couple of poll intervals", async () => {
      await triggerRun(store, "etl", { runId: "e1" });
      const c = await open("/events");
      assert.equal(c.status, 200);
      assert.match((c as unknown as { contentType: string }).contentType, /^text\/event-stream/);
      const hello = await c.waitFor((e) => e.event === "hello", "hello");
      assert.ok(Math.abs(Date.parse(hello.data.serverTime) - Date.now()) < 60_000);
      assert.equal(hello.data.pollIntervalMs, POLL_MS);
      await waitUntil(() => hub().stats().polls >= 1, "the poller's first read");
      const changedAt = Date.now();
      await setTask("etl", "e1", "extract", { state: "running", try_number: 1, start_date: changedAt });
      const e = await c.waitFor(isTask("extract", "running", "e1"), "the task event");
      assert.deepEqual(e.data, { dagId: "etl", runId: "e1", taskId: "extract", mapIndex: -1, state: "running", tryNumber: 1, startDate: new Date(changedAt).toISOString(), endDate: null });
      c.close();
    });

    it("two clients share one poller (its query count does not double); ?dagId= filters; it stops when both leave", async () => {
      await waitUntil(() => hub().stats().clients === 0, "the previous client to leave");
      await triggerRun(store, "etl", { runId: "e2" });
      await triggerRun(store, "other", { runId: "o2" });
      const startsBefore = hub().stats().starts;
      const all = await open("/events");
      const onlyEtl = await open("/events?dagId=etl");
      await all.waitFor((e) => e.event === "hello", "hello");
      await onlyEtl.waitFor((e) => e.event === "hello", "hello");
      assert.equal(hub().stats().clients, 2);
      assert.equal(hub().stats().starts, startsBefore + 1, "one poller for both clients");
      const s0 = hub().stats();
      await waitUntil(() => hub().stats().polls >= s0.polls + 3, "three polls");
      const s1 = hub().stats();
      assert.equal(s1.queries - s0.queries, (s1.polls - s0.polls) * QUERIES_PER_POLL, "each poll costs the same queries whatever the number of clients");

      const t = Date.now();
      await setTask("other", "o2", "only", { state: "queued", try_number: 1 }, t);
      await setTask("etl", "e2", "extract", { state: "queued", try_number: 1 }, t + 1);
      await all.waitFor(isTask("only", "queued", "o2"), "the other DAG's event");
      await all.waitFor(isTask("extract", "queued", "e2"), "the etl event");
      await onlyEtl.waitFor(isTask("extract", "queued", "e2"), "the etl event on the filtered stream");
      assert.ok(!onlyEtl.events.some((e) => e.data?.dagId === "other"), "the filtered stream got nothing of another DAG");

      all.close();
      onlyEtl.close();
      await waitUntil(() => hub().stats().clients === 0 && !hub().stats().polling, "the poller to stop");
      const stopped = hub().stats().polls;
      await new Promise((r) => setTimeout(r, POLL_MS * 3));
      assert.equal(hub().stats().polls, stopped, "no polls without clients");
    });

    it("sends run, dag and import-error events for changes made through the API and the parser's store writes", async () => {
      await triggerRun(store, "etl", { runId: "e3" });
      const c = await open("/events");
      await c.waitFor((e) => e.event === "hello", "hello");
      await waitUntil(() => hub().stats().polls >= 1 && hub().stats().clients === 1, "the poller's first read");
      const cancel = await call("POST", "/dags/etl/runs/e3/cancel");
      assert.equal(cancel.status, 200, JSON.stringify(cancel.json));
      const run = await c.waitFor((e) => e.event === "run" && e.data.runId === "e3" && e.data.state === "failed", "the run event");
      assert.deepEqual(Object.keys(run.data).sort(), ["dagId", "endDate", "runId", "startDate", "state"]);
      await c.waitFor(isTask("extract", "skipped", "e3"), "a task event of the cancel");
      const runAt = c.events.indexOf(run);
      assert.ok(c.events.findIndex(isTask("load", "skipped", "e3")) < runAt, "task events come before the run event of the same poll");

      assert.equal((await call("PATCH", "/dags/other", { paused: true })).status, 200);
      const paused = await c.waitFor((e) => e.event === "dag", "the dag event");
      assert.deepEqual(paused.data, { dagId: "other", isPaused: true });
      await store.dags.setImportError({ path: "broken.ts", message: "SyntaxError", line: 1, col: 1, stack: null, created_at: Date.now() });
      const errors = await c.waitFor((e) => e.event === "import-errors", "the import-errors event");
      assert.deepEqual(errors.data, { count: 1 });
      // A parse that changes nothing else (same flag) sends no dag event.
      const spec = other.toSpec("other.ts");
      await store.dags.upsert(spec, dagVersionHash(spec), Date.now(), false);
      await store.dags.clearImportError("broken.ts");
      await c.waitFor((e) => e.event === "import-errors" && e.data.count === 0, "the import errors to clear");
      assert.equal(c.events.filter((e) => e.event === "dag").length, 1);
      c.close();
    });

    it("delivers a row committed late with an older updated_at, and every change exactly once", async () => {
      await triggerRun(store, "etl", { runId: "e4" });
      const c = await open("/events");
      await c.waitFor((e) => e.event === "hello", "hello");
      await waitUntil(() => hub().stats().polls >= 1 && hub().stats().clients === 1, "the poller's first read");
      await setTask("etl", "e4", "extract", { state: "success", try_number: 1 });
      await c.waitFor(isTask("extract", "success", "e4"), "the first change");
      // Stamped a second before the change already sent: a transaction that began earlier and committed now.
      await setTask("etl", "e4", "load", { state: "scheduled" }, Date.now() - 1_000);
      await c.waitFor(isTask("load", "scheduled", "e4"), "the late row");
      const polls = hub().stats().polls;
      await waitUntil(() => hub().stats().polls >= polls + 25, "the overlap window (2 s) to pass");
      assert.equal(c.events.filter(isTask("extract", "success", "e4")).length, 1, "sent once, though re-read for the whole overlap window");
      assert.equal(c.events.filter(isTask("load", "scheduled", "e4")).length, 1);
      c.close();
    });

    it("sends one `resync` instead of a flood when more rows changed than a poll sends", async () => {
      const run = await triggerRun(store, "etl", { runId: "e_burst" });
      await waitUntil(() => hub().stats().clients === 0, "earlier clients to leave");
      const c = await open("/events");
      await c.waitFor((e) => e.event === "hello", "hello");
      await waitUntil(() => hub().stats().polls >= 1 && hub().stats().clients === 1, "the poller's first read");
      const restore = setLiveOptions({ maxRowsPerPoll: 1 });
      try {
        await store.db.updateTable("task_instance").set({ state: "scheduled", updated_at: Date.now() }).where("run_pk", "=", run.id).execute();
        const resync = await c.waitFor((e) => e.event === "resync", "the resync event");
        assert.match(resync.data.reason, /more than 1 changes/);
        assert.ok(!c.events.some(isTask("extract", "scheduled", "e_burst")), "no per-row events for the burst");
      } finally {
        setLiveOptions(restore);
      }
      // After a resync the poller goes on from there.
      await setTask("etl", "e_burst", "extract", { state: "queued", try_number: 1 });
      await c.waitFor(isTask("extract", "queued", "e_burst"), "the next change after the resync");
      c.close();
    });

    it("answers 404 for an unknown DAG filter and 400 for an empty one, as JSON", async () => {
      const missing = await call("GET", "/events?dagId=nope");
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, "DAG_NOT_FOUND");
      assert.equal((await call("GET", "/events?dagId=")).status, 400);
    });

    it("log tail: streams lines while the try runs, then the rest and `end`, then closes; Last-Event-ID resumes", async () => {
      await triggerRun(store, "etl", { runId: "e5" });
      const tiId = await setTask("etl", "e5", "extract", { state: "running", try_number: 1, start_date: Date.now() });
      const line = (n: number) => ({ ti_id: tiId, try_number: 1, ts: Date.now(), stream: "stdout", line: `line ${n}` });
      await store.logs.append([line(1), line(2), line(3)]);
      const path = "/dags/etl/runs/e5/tasks/extract/logs/stream";
      const c = await open(path);
      assert.equal(c.status, 200);
      const first = await c.waitFor((e) => e.event === "lines", "the first lines");
      assert.deepEqual(first.data.map((l: { line: string }) => l.line), ["line 1", "line 2", "line 3"]);
      assert.equal(first.id, String(first.data[2].id), "the event id is the last line id");
      await store.logs.append([line(4), line(5)]);
      const second = await c.waitFor((e) => e.event === "lines" && e.data[0].line === "line 4", "lines appended while open");
      assert.deepEqual(second.data.map((l: { line: string }) => l.line), ["line 4", "line 5"]);
      assert.ok(!c.ended, "the stream stays open while the try runs");
      // The attempt ends as executeAttempt ends it: last lines and final state in one commit.
      await store.transaction(async (tx) => {
        await tx.logs.append([line(6)]);
        await tx.tasks.cas(tiId, ["running"], { state: "success", end_date: Date.now(), updated_at: Date.now() }, 1);
      });
      const end = await c.waitFor((e) => e.event === "end", "the end event");
      assert.deepEqual(end.data, { tryNumber: 1, state: "success" });
      const lines = c.events.filter((e) => e.event === "lines").flatMap((e) => e.data.map((l: { line: string }) => l.line));
      assert.deepEqual(lines, ["line 1", "line 2", "line 3", "line 4", "line 5", "line 6"], "every line once, in order, before the end");
      await c.waitEnd();

      const resumed = await open(path, { "last-event-id": first.id! });
      await resumed.waitEnd();
      assert.deepEqual(
        resumed.events.map((e) => (e.event === "lines" ? e.data.map((l: { line: string }) => l.line).join(",") : e.event)),
        ["line 4,line 5,line 6", "end"],
        "a reconnect resumes after the last line it had",
      );
      const noTry = await call("GET", `${path}?try=2`);
      assert.equal(noTry.status, 404);
      assert.match(noTry.json.error.message, /no try 2/);
      assert.equal((await call("GET", `${path}?after=abc`)).status, 400);
      assert.equal((await call("GET", "/dags/etl/runs/e5/tasks/nope/logs/stream")).status, 404);
    });

    it("closing the server ends open streams instead of hanging, and stops its poller", async () => {
      const own = await freshStore(dialect, "events_close");
      const server = createApiServer({ store: own, config: defaultConfig(), log: pino({ level: "silent" }), onChange: () => {} });
      await createUser(own, { username: "v", role: "viewer", password: "correct horse battery" });
      const token = (await createToken(own, "v", "t")).token;
      const url = await server.listen({ host: "127.0.0.1", port: 0 });
      try {
        const c = await SseClient.open(`${url}${V1}/events`, { authorization: `Bearer ${token}` });
        clients.push(c);
        await c.waitFor((e) => e.event === "hello", "hello");
        assert.equal(liveHubOf(own)!.stats().clients, 1);
        await Promise.race([server.close(), new Promise((_, reject) => setTimeout(() => reject(new Error("server.close() hung")), 5_000))]);
        await c.waitEnd();
        assert.equal(liveHubOf(own), undefined, "the poller is gone with the server");
      } finally {
        await own.close();
      }
    });
  });
}
