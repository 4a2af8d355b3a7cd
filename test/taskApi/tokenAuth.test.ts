/**
 * Attempt tokens and how the task API and the rest of the API treat them:
 * sign/verify/expiry/tamper, 401 for missing, expired, forged and API
 * tokens/sessions, 403 for another attempt's token, an attempt token refused
 * by the normal API, the heartbeat's refreshed token, and idempotent claim
 * and finish (SQLite and PostgreSQL).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { AttemptTokens, signAttemptToken, tokenLifetimeMs, verifyAttemptToken, DEFAULT_TOKEN_LIFETIME_MS, TOKEN_MARGIN_MS } from "../../src/auth/attemptToken.js";
import { createSession, createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";
import { seedDag, setTi, tokensFor, type Fixture } from "./helpers.js";

const KEY = Buffer.alloc(32, 7);
const T0 = Date.parse("2026-03-01T12:00:00Z");

describe("attempt tokens", () => {
  it("sign and verify: the payload comes back; expiry, tampering, another key and junk are refused", () => {
    const t = signAttemptToken(KEY, { tiId: 12, tryNumber: 3 }, 60_000, T0);
    const ok = verifyAttemptToken(KEY, t, T0 + 59_999);
    assert.ok(ok.ok);
    assert.deepEqual(ok.payload, { tiId: 12, tryNumber: 3, iat: T0, exp: T0 + 60_000, aud: "task-api" });
    const expired = verifyAttemptToken(KEY, t, T0 + 60_000);
    assert.equal(expired.ok, false);
    assert.equal(!expired.ok && expired.reason, "expired");
    // Another attempt's claims with the old signature.
    const [body, sig] = t.split(".");
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), tiId: 13 })).toString("base64url");
    assert.deepEqual(verifyAttemptToken(KEY, `${forged}.${sig}`, T0), { ok: false, reason: "bad-signature" });
    assert.deepEqual(verifyAttemptToken(Buffer.alloc(32, 8), t, T0), { ok: false, reason: "bad-signature" });
    assert.deepEqual(verifyAttemptToken(KEY, `${body}.${sig.slice(0, -2)}`, T0), { ok: false, reason: "bad-signature" });
    for (const junk of ["", "abc", "a.b.c", "slc_abcdef", `${body}.`]) assert.equal(verifyAttemptToken(KEY, junk, T0).ok, false, junk);
    // Signed by the key but not a token's shape (e.g. another audience).
    const other = Buffer.from(JSON.stringify({ tiId: 1, tryNumber: 1, iat: T0, exp: T0 + 1000, aud: "other" })).toString("base64url");
    const otherSig = signAttemptToken(KEY, { tiId: 1, tryNumber: 1 }, 1, 0).split(".")[1];
    assert.equal(verifyAttemptToken(KEY, `${other}.${otherSig}`, T0).ok, false);
  });

  it("lifetime: the task's timeout plus a margin, else one hour", () => {
    assert.equal(tokenLifetimeMs(undefined), DEFAULT_TOKEN_LIFETIME_MS);
    assert.equal(tokenLifetimeMs(120_000), 120_000 + TOKEN_MARGIN_MS);
  });

  it("the key file <home>/task-token.key is created once (mode 0600) and shared; a configured key wins", async () => {
    const home = mkdtempSync(join(tmpdir(), "sluice-tokkey-"));
    try {
      const a = tokensFor(home);
      const b = tokensFor(home);
      const t = await a.issue({ tiId: 1, tryNumber: 1 }, 60_000);
      assert.ok((await b.verify(t)).ok, "a second process with the same home verifies it");
      assert.equal(statSync(join(home, "task-token.key")).mode & 0o777, 0o600);
      assert.equal(Buffer.from(readFileSync(join(home, "task-token.key"), "utf8").trim(), "base64").length, 32);
      const configured = new AttemptTokens({ home, api: { taskTokenKey: KEY.toString("base64") } });
      assert.equal((await configured.verify(t)).ok, false, "a different configured key does not accept the file key's tokens");
      assert.ok(verifyAttemptToken(KEY, await configured.issue({ tiId: 1, tryNumber: 1 }, 60_000), Date.now()).ok);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

for (const dialect of DIALECTS) {
  describe(`task API authentication and idempotency on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let fx: Fixture;
    let config: SluiceConfig;
    let tokens: AttemptTokens;
    let apiToken: string;
    let session: { secret: string; csrfToken: string };
    let clock = Date.now();
    let tiId: number;
    const base = (id: number, tryNumber: number) => `/api/v1/task-api/attempts/${id}/${tryNumber}`;
    const call = async (method: "GET" | "POST", url: string, headers: Record<string, string> = {}, payload?: object) => {
      const r = await app.inject({ method, url, headers, payload });
      return { status: r.statusCode, json: r.body ? (r.json() as any) : null };
    };
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

    before(async () => {
      store = await freshStore(dialect, "task_api_auth");
      fx = await seedDag(store);
      config = defaultConfig();
      config.home = join(fx.project.dir, "home");
      tokens = tokensFor(config.home);
      app = createApiServer({ store, config, log: pino({ level: "silent" }), now: () => clock, ui: false });
      const { user } = await createUser(store, { username: "admin", role: "admin", password: "correct horse battery" });
      apiToken = (await createToken(store, "admin", "t")).token;
      session = await createSession(store, user, clock);
      tiId = await setTi(store, fx.runId, "consume", { state: "queued", try_number: 1, queued_at: clock });
    });
    after(async () => {
      await app.close();
      await store.close();
    });

    it("missing, forged, API-token and session credentials get 401 on the task API", async () => {
      for (const headers of [{}, bearer("nonsense"), bearer(apiToken), { cookie: `sluice_session=${session.secret}`, "x-csrf-token": session.csrfToken }] as Record<string, string>[]) {
        const r = await call("GET", `${base(tiId, 1)}/context`, headers);
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.json.error.code, "UNAUTHENTICATED");
        assert.match(r.json.error.message, /attempt token/);
      }
      // The API token itself works on the normal API (so the 401 above is the task API's rule).
      assert.equal((await call("GET", "/api/v1/dags", bearer(apiToken))).status, 200);
    });

    it("an expired token gets 401 saying it expired; another attempt's token 403", async () => {
      const old = await tokens.issue({ tiId, tryNumber: 1 }, 1_000, clock - 5_000);
      const r = await call("POST", `${base(tiId, 1)}/heartbeat`, bearer(old), {});
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, "TOKEN_EXPIRED");
      assert.match(r.json.error.message, /expired at/);
      const otherTry = await tokens.issue({ tiId, tryNumber: 2 }, 60_000, clock);
      const otherTi = await tokens.issue({ tiId: tiId + 1, tryNumber: 1 }, 60_000, clock);
      for (const t of [otherTry, otherTi]) {
        const x = await call("POST", `${base(tiId, 1)}/claim`, bearer(t), { hostname: "h", pid: 1 });
        assert.equal(x.status, 403);
        assert.equal(x.json.error.code, "WRONG_ATTEMPT");
      }
      assert.equal((await store.tasks.get(tiId))!.state, "queued", "nothing was claimed");
    });

    it("an attempt token is refused (401) by every other endpoint", async () => {
      const t = await tokens.issue({ tiId, tryNumber: 1 }, 60_000, clock);
      for (const [method, url] of [["GET", "/api/v1/dags"], ["GET", "/api/v1/auth/me"], ["GET", `/api/v1/dags/remote/runs/${fx.runId}`], ["POST", "/api/v1/dags/remote/runs"]] as const) {
        const r = await call(method, url, bearer(t), method === "POST" ? {} : undefined);
        assert.equal(r.status, 401, `${method} ${url}`);
      }
    });

    it("context, claim (idempotent for the same runner), heartbeat with a fresh token, logs, finish (idempotent)", async () => {
      const t = await tokens.issue({ tiId, tryNumber: 1 }, 60_000, clock);
      const producer = await setTi(store, fx.runId, "produce", { state: "success", try_number: 1, result: JSON.stringify({ n: 41 }) });
      const ctx = await call("GET", `${base(tiId, 1)}/context`, bearer(t));
      assert.equal(ctx.status, 200, JSON.stringify(ctx.json));
      assert.equal(ctx.json.ti.task_id, "consume");
      assert.equal(ctx.json.fileloc, "remote.ts");
      assert.deepEqual(ctx.json.upstream, { taskIds: ["produce"], rows: [{ task_id: "produce", map_index: -1, result: JSON.stringify({ n: 41 }) }] });
      assert.ok(producer > 0);

      assert.equal((await call("POST", `${base(tiId, 1)}/heartbeat`, bearer(t), {})).json.ours, false, "not running yet");
      const c1 = await call("POST", `${base(tiId, 1)}/claim`, bearer(t), { hostname: "pod-1", pid: 7 });
      assert.deepEqual(c1.json, { claimed: true, state: "running" });
      assert.deepEqual((await call("POST", `${base(tiId, 1)}/claim`, bearer(t), { hostname: "pod-1", pid: 7 })).json, { claimed: true, state: "running" }, "a retried claim of the same runner");
      assert.deepEqual((await call("POST", `${base(tiId, 1)}/claim`, bearer(t), { hostname: "pod-2", pid: 7 })).json, { claimed: false, state: "running" }, "another runner loses");

      clock += 10_000;
      const hb = await call("POST", `${base(tiId, 1)}/heartbeat`, bearer(t), {});
      assert.equal(hb.json.ours, true);
      const fresh = await tokens.verify(hb.json.token, clock);
      assert.ok(fresh.ok && fresh.payload.exp === clock + 60_000, "the refreshed token lives as long again from now");
      assert.equal((await store.tasks.get(tiId))!.heartbeat_at, clock);

      const bad = await call("POST", `${base(tiId, 1)}/logs`, bearer(t), { lines: [{ ts: 1, stream: "log" }] });
      assert.equal(bad.status, 400, "zod validation");
      assert.equal((await call("POST", `${base(tiId, 1)}/logs`, bearer(t), { lines: [{ ts: clock, stream: "log", line: "hello" }] })).status, 204);

      const conn = await call("GET", `${base(tiId, 1)}/connections/nope`, bearer(t));
      assert.equal(conn.status, 404);
      assert.equal(conn.json.error.code, "CONNECTION_NOT_FOUND");

      const finish = { outcome: { kind: "success", result: "42" }, policy: { retryDelayMs: 0, retryExponentialBackoff: false, maxRetryDelayMs: 0 }, lines: [{ ts: clock, stream: "log", line: "last" }] };
      assert.deepEqual((await call("POST", `${base(tiId, 1)}/finish`, bearer(t), finish)).json, { state: "success", alreadyFinished: false });
      assert.deepEqual((await call("POST", `${base(tiId, 1)}/finish`, bearer(t), { ...finish, resend: true })).json, { state: "success", alreadyFinished: true }, "a repeated finish answers the state written");
      assert.deepEqual((await store.logs.read(tiId, 1)).map((l) => l.line), ["hello", "last"], "the resend did not store its lines twice");
      assert.equal((await store.tasks.tries(tiId)).length, 1, "one try recorded");
      assert.equal((await store.tasks.get(tiId))!.result, "42");
      const late = await call("GET", `${base(tiId, 1)}/connections/nope`, bearer(t));
      assert.equal(late.status, 409, "no connections once the attempt ended");
      assert.equal((await call("POST", `${base(tiId, 1)}/heartbeat`, bearer(t), {})).json.token, null, "no fresh token for a finished attempt");
    });
  });
}
