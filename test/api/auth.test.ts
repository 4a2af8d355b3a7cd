/**
 * Auth for the REST API on SQLite and PostgreSQL: who may call what (401 for
 * strangers, 403 for a role that is too low), sessions (cookie flags, CSRF,
 * logout, expiry), API tokens (work until their user is deleted), the
 * failed-login limiter, how secrets are stored, migration of a version-1
 * database, and the CLI (`sluice users …`, the first-start admin of
 * `sluice standalone`).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { verifyPassword } from "../../src/auth/password.js";
import { sha256 } from "../../src/auth/secrets.js";
import { createToken, createUser, deleteUser, SESSION_TTL_MS } from "../../src/auth/users.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag } from "../../src/sdk/dag.js";
import { openDb } from "../../src/store/db.js";
import { migrate } from "../../src/store/migrate.js";
import { m0001_init } from "../../src/store/migrations/0001_init.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "../../src/store/migrations/index.js";
import { openStore, type Store } from "../../src/store/store.js";
import { DIALECTS, freshStore, freshTarget, targetUrl } from "../helpers/db.js";
import { json, killLeftovers, makeProject, runSluice, show, sluiceEnv, startStandalone, waitFor } from "../e2e/helpers.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const V1 = "/api/v1";
const PASSWORD = "correct horse battery";

const etl = dag({ id: "etl", schedule: null }, (d) => {
  d.task("extract", async () => 1);
});

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
interface Res {
  status: number;
  json: any;
  headers: Record<string, unknown>;
}

/** The session cookie's "name=value" from a login answer's Set-Cookie header. */
function cookieOf(res: Res): string {
  const header = String(res.headers["set-cookie"]);
  return header.split(";")[0];
}

for (const dialect of DIALECTS) {
  describe(`REST API auth on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let clock = T0;
    const tokens: Record<string, string> = {};

    const call = async (method: Method, url: string, o: { body?: unknown; headers?: Record<string, string>; ip?: string } = {}): Promise<Res> => {
      const res = await app.inject({ method, url: V1 + url, payload: o.body as object | undefined, headers: o.headers, remoteAddress: o.ip });
      return { status: res.statusCode, json: res.body ? res.json() : null, headers: res.headers };
    };
    const bearer = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });
    const login = (username: string, password: string, ip?: string) => call("POST", "/auth/login", { body: { username, password }, ip });
    const expectError = (r: Res, status: number, code: string) => {
      assert.equal(r.status, status, JSON.stringify(r.json));
      assert.equal(r.json.error.code, code);
      assert.ok(r.json.error.message.length > 0);
    };

    before(async () => {
      store = await freshStore(dialect, "auth");
      const spec = etl.toSpec("etl.ts");
      await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      for (const role of ["viewer", "operator", "admin"] as const) {
        await createUser(store, { username: role, role, password: PASSWORD });
        tokens[role] = (await createToken(store, role, "test")).token;
      }
      app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }), now: () => clock });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await store?.close();
    });

    it("answers 401 with the standard error shape without credentials; only health and login are open", async () => {
      for (const [method, url] of [
        ["GET", "/version"],
        ["GET", "/openapi.json"],
        ["GET", "/dags"],
        ["GET", "/dags/etl/runs"],
        ["POST", "/dags/etl/runs"],
        ["PATCH", "/dags/etl"],
        ["GET", "/auth/me"],
        ["GET", "/no/such/route"],
      ] as const) {
        expectError(await call(method, url, { body: method === "GET" ? undefined : {} }), 401, "UNAUTHENTICATED");
      }
      expectError(await call("GET", "/dags", { headers: { authorization: "Bearer slc_not-a-real-token" } }), 401, "UNAUTHENTICATED");
      expectError(await call("GET", "/dags", { headers: { authorization: "Basic YWRtaW46eA==" } }), 401, "UNAUTHENTICATED");
      expectError(await call("GET", "/dags", { headers: { cookie: "sluice_session=forged" } }), 401, "UNAUTHENTICATED");
      assert.equal((await store.runs.list({ dagId: "etl" })).length, 0, "the unauthenticated trigger created nothing");

      assert.equal((await call("GET", "/health")).status, 200);
      const rootHealth = await app.inject({ method: "GET", url: "/health" });
      assert.equal(rootHealth.statusCode, 200, "probes also find /health at the server root");
      assert.equal((JSON.parse(rootHealth.body) as { database: { ok: boolean } }).database.ok, true);
      assert.equal((await app.inject({ method: "GET", url: `${V1}/docs/` })).statusCode, 401, "the browsable docs need a signed-in user too");
      assert.equal((await call("GET", "/version", { headers: bearer("viewer") })).status, 200);
      const doc = await call("GET", "/openapi.json", { headers: bearer("viewer") });
      assert.equal(doc.status, 200);
      assert.ok(doc.json.paths[`${V1}/dags`].get.responses["401"], "the OpenAPI document says protected routes answer 401");
      assert.deepEqual(doc.json.paths[`${V1}/health`].get.security, [], "and that /health needs no credentials");
      assert.equal((await app.inject({ method: "GET", url: `${V1}/docs/`, headers: bearer("viewer") })).statusCode, 200);
    });

    it("answers 404, not a role error, for a route that does not exist; malformed URLs and over-deep bodies get a 400 in the standard shape", async () => {
      expectError(await call("PUT", "/dags/etl", { body: {}, headers: bearer("viewer") }), 404, "NOT_FOUND");
      expectError(await call("DELETE", "/no/such/route", { headers: bearer("viewer") }), 404, "NOT_FOUND");
      const badUrl = await app.inject({ method: "GET", url: `${V1}/dags/%ZZ`, headers: bearer("viewer") });
      assert.equal(badUrl.statusCode, 400);
      assert.equal(typeof (JSON.parse(badUrl.body) as { error: { message: string } }).error.message, "string");
      // 5,000 levels parse, but would overflow the stack of JSON.stringify when stored: refused up front.
      const deep = `{"runId":"deep","conf":{"a":${"[".repeat(5000)}1${"]".repeat(5000)}}}`;
      const r = await call("POST", "/dags/etl/runs", { body: deep, headers: { ...bearer("operator"), "content-type": "application/json" } });
      expectError(r, 400, "INVALID_BODY");
      assert.match(r.json.error.message, /nested more than 64 levels/);
      assert.equal(await store.runs.get("etl", "deep"), undefined);
      const shallow = await call("POST", "/dags/etl/runs", { body: { runId: "shallow", conf: { a: [[[1]]] } }, headers: bearer("operator") });
      assert.equal(shallow.status, 201, JSON.stringify(shallow.json));
    });

    it("logs in with the right password: a session cookie (HttpOnly, SameSite=Strict, Path=/) that authenticates", async () => {
      const r = await login("operator", PASSWORD);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.user.username, "operator");
      assert.equal(r.json.user.role, "operator");
      assert.equal(typeof r.json.csrfToken, "string");
      const setCookie = String(r.headers["set-cookie"]);
      assert.match(setCookie, /^sluice_session=[A-Za-z0-9_-]{20,};/);
      const flags = setCookie.split(";").map((f) => f.trim().toLowerCase());
      assert.ok(flags.includes("httponly"), setCookie);
      assert.ok(flags.includes("samesite=strict"), setCookie);
      assert.ok(flags.includes("path=/"), setCookie);
      const me = await call("GET", "/auth/me", { headers: { cookie: cookieOf(r) } });
      assert.equal(me.status, 200);
      assert.equal(me.json.user.username, "operator");
      assert.equal(me.json.csrfToken, r.json.csrfToken, "/auth/me gives the CSRF token back (e.g. after a page reload)");
      assert.equal((await call("GET", "/dags", { headers: { cookie: `theme=dark; ${cookieOf(r)}` } })).status, 200, "other cookies do not get in the way");
    });

    it("refuses a wrong password or an unknown user with the same 401 and no cookie", async () => {
      const wrong = await login("admin", "not the password", "10.0.0.1");
      expectError(wrong, 401, "BAD_CREDENTIALS");
      assert.equal(wrong.headers["set-cookie"], undefined);
      const unknown = await login("nobody", PASSWORD, "10.0.0.1");
      expectError(unknown, 401, "BAD_CREDENTIALS");
      assert.equal(unknown.json.error.message, wrong.json.error.message, "the answer does not reveal which usernames exist");
      expectError(await call("POST", "/auth/login", { body: { username: "admin" } }), 400, "VALIDATION_FAILED");
    });

    it("requires X-CSRF-Token on cookie-authenticated writes, not on bearer ones", async () => {
      const r = await login("operator", PASSWORD);
      const cookie = cookieOf(r);
      expectError(await call("POST", "/dags/etl/runs", { body: { runId: "csrf_none" }, headers: { cookie } }), 403, "CSRF_FAILED");
      expectError(await call("POST", "/dags/etl/runs", { body: { runId: "csrf_bad" }, headers: { cookie, "x-csrf-token": "guess" } }), 403, "CSRF_FAILED");
      const other = await login("admin", PASSWORD);
      expectError(
        await call("POST", "/dags/etl/runs", { body: { runId: "csrf_other" }, headers: { cookie, "x-csrf-token": other.json.csrfToken } }),
        403,
        "CSRF_FAILED",
      );
      assert.equal(await store.runs.get("etl", "csrf_none"), undefined);
      assert.equal(await store.runs.get("etl", "csrf_bad"), undefined);
      assert.equal(await store.runs.get("etl", "csrf_other"), undefined);
      const ok = await call("POST", "/dags/etl/runs", { body: { runId: "csrf_ok" }, headers: { cookie, "x-csrf-token": r.json.csrfToken } });
      assert.equal(ok.status, 201, JSON.stringify(ok.json));
      assert.equal((await call("GET", "/dags", { headers: { cookie } })).status, 200, "reads need no CSRF token");
      const viaToken = await call("POST", "/dags/etl/runs", { body: { runId: "bearer_ok" }, headers: bearer("operator") });
      assert.equal(viaToken.status, 201, JSON.stringify(viaToken.json));
    });

    it("a viewer can read but not trigger, pause, clear or mark (403); an operator can", async () => {
      await triggerRun(store, "etl", { runId: "roles" });
      const ti = (await store.tasks.byKey("etl", "roles", "extract"))!;
      assert.ok(await store.tasks.cas(ti.id, [ti.state as never], { state: "failed", try_number: 1, updated_at: clock }));
      for (const url of ["/dags", "/dags/etl", "/dags/etl/runs", "/dags/etl/runs/roles/tasks", "/dags/etl/runs/roles/tasks/extract/logs", "/import-errors", "/auth/me"]) {
        assert.equal((await call("GET", url, { headers: bearer("viewer") })).status, 200, url);
      }
      const writes: [Method, string, unknown][] = [
        ["POST", "/dags/etl/runs", { runId: "by_viewer" }],
        ["PATCH", "/dags/etl", { paused: true }],
        ["POST", "/dags/etl/runs/roles/clear", { onlyFailed: true }],
        ["POST", "/dags/etl/runs/roles/tasks/extract/mark", { state: "success" }],
      ];
      for (const [method, url, body] of writes) {
        const r = await call(method, url, { body, headers: bearer("viewer") });
        expectError(r, 403, "FORBIDDEN");
        assert.match(r.json.error.message, /viewer/);
      }
      assert.equal(await store.runs.get("etl", "by_viewer"), undefined);
      assert.equal((await store.dags.get("etl"))!.is_paused, 0);
      assert.equal((await store.tasks.byKey("etl", "roles", "extract"))!.state, "failed");

      const trig = await call("POST", "/dags/etl/runs", { body: { runId: "by_operator" }, headers: bearer("operator") });
      assert.equal(trig.status, 201, JSON.stringify(trig.json));
      assert.equal((await call("PATCH", "/dags/etl", { body: { paused: true }, headers: bearer("operator") })).json.paused, true);
      assert.equal((await call("PATCH", "/dags/etl", { body: { paused: false }, headers: bearer("admin") })).json.paused, false);
      assert.equal((await call("POST", "/dags/etl/runs/roles/tasks/extract/mark", { body: { state: "success" }, headers: bearer("operator") })).status, 200);
      const cleared = await call("POST", "/dags/etl/runs/roles/clear", { body: {}, headers: bearer("operator") });
      assert.deepEqual(cleared.json.cleared, ["extract"]);
    });

    it("rate-limits failed logins per username and address: the 6th try within a minute gets 429 with Retry-After", async () => {
      const ip = "192.0.2.7";
      for (let i = 0; i < 5; i++) expectError(await login("admin", `wrong ${i}`, ip), 401, "BAD_CREDENTIALS");
      const limited = await login("admin", PASSWORD, ip);
      expectError(limited, 429, "TOO_MANY_ATTEMPTS");
      const retryAfter = Number(limited.headers["retry-after"]);
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${limited.headers["retry-after"]}`);
      assert.equal(limited.headers["set-cookie"], undefined, "even the right password is refused while limited");
      assert.equal((await login("admin", PASSWORD, "192.0.2.8")).status, 200, "another address is not limited");
      assert.equal((await login("operator", PASSWORD, ip)).status, 200, "another username from that address is not limited");
      clock += retryAfter * 1000;
      assert.equal((await login("admin", PASSWORD, ip)).status, 200, "once the window has passed, the right password works again");
    });

    it("an API token works until its user is deleted; so does the user's session", async () => {
      await createUser(store, { username: "temp", role: "operator", password: PASSWORD });
      const { token } = await createToken(store, "temp", "script");
      assert.match(token, /^slc_/);
      const headers = { authorization: `Bearer ${token}` };
      assert.equal((await call("GET", "/dags", { headers })).status, 200);
      const me = await call("GET", "/auth/me", { headers });
      assert.equal(me.json.user.username, "temp");
      assert.equal(me.json.csrfToken, null);
      const session = await login("temp", PASSWORD);
      const cookie = cookieOf(session);
      assert.equal((await call("GET", "/dags", { headers: { cookie } })).status, 200);
      await deleteUser(store, "temp");
      expectError(await call("GET", "/dags", { headers }), 401, "UNAUTHENTICATED");
      expectError(await call("GET", "/dags", { headers: { cookie } }), 401, "UNAUTHENTICATED");
      expectError(await login("temp", PASSWORD), 401, "BAD_CREDENTIALS");
    });

    it("logout ends the session and clears the cookie; sessions expire", async () => {
      const r = await login("viewer", PASSWORD);
      const cookie = cookieOf(r);
      expectError(await call("POST", "/auth/logout", { headers: { cookie } }), 403, "CSRF_FAILED");
      const out = await call("POST", "/auth/logout", { headers: { cookie, "x-csrf-token": r.json.csrfToken } });
      assert.equal(out.status, 204);
      assert.match(String(out.headers["set-cookie"]), /^sluice_session=;.*Max-Age=0/);
      expectError(await call("GET", "/dags", { headers: { cookie } }), 401, "UNAUTHENTICATED");

      const again = await login("viewer", PASSWORD);
      const c2 = cookieOf(again);
      clock += SESSION_TTL_MS - 1000;
      assert.equal((await call("GET", "/dags", { headers: { cookie: c2 } })).status, 200);
      clock += 2000;
      expectError(await call("GET", "/dags", { headers: { cookie: c2 } }), 401, "UNAUTHENTICATED");
    });

    it("stores passwords as salted scrypt hashes and tokens and sessions only as SHA-256", async () => {
      await createUser(store, { username: "twin", role: "viewer", password: PASSWORD });
      const rows = await store.db.selectFrom("app_user").select(["username", "password_hash"]).where("username", "in", ["viewer", "twin"]).execute();
      assert.equal(rows.length, 2);
      for (const { password_hash } of rows) {
        assert.match(password_hash, /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
        assert.ok(!password_hash.includes(PASSWORD));
        for (const part of password_hash.split("$")) assert.ok(!Buffer.from(part, "base64").toString("utf8").includes(PASSWORD), "no part decodes to the password");
        assert.equal(await verifyPassword(PASSWORD, password_hash), true);
        assert.equal(await verifyPassword(`${PASSWORD}!`, password_hash), false);
      }
      assert.notEqual(rows[0].password_hash, rows[1].password_hash, "the same password hashes differently (random salt)");

      const { token } = await createToken(store, "twin", "hashcheck");
      const stored = await store.db.selectFrom("api_token").select("token_hash").where("name", "=", "hashcheck").executeTakeFirstOrThrow();
      assert.equal(stored.token_hash, sha256(token));
      const secret = cookieOf(await login("twin", PASSWORD)).split("=")[1];
      const after = await store.db.selectFrom("app_session").select("id").execute();
      assert.ok(after.some((s) => s.id === sha256(secret)), "the session is stored under the SHA-256 of its secret");
      assert.ok(!after.some((s) => s.id === secret), "the cookie's secret itself is not stored");
    });

    it("with api.auth = false, every route is open (local experiments)", async () => {
      const base = defaultConfig();
      const config: SluiceConfig = { ...base, api: { ...base.api, auth: false } };
      const open = createApiServer({ store, config, log: pino({ level: "silent" }) });
      try {
        assert.equal((await open.inject({ method: "GET", url: `${V1}/dags` })).statusCode, 200);
        assert.equal((await open.inject({ method: "POST", url: `${V1}/dags/etl/runs`, payload: { runId: "no_auth" } })).statusCode, 201);
      } finally {
        await open.close();
      }
    });

    it("migrations 2 and later apply to a database created at version 1 and keep its data", async () => {
      const target = await freshTarget(dialect, "auth_v1");
      const h = openDb(target);
      try {
        // What Sluice at schema version 1 left behind (the schema table as migrate() creates it).
        await h.db.schema
          .createTable("sluice_schema")
          .addColumn("version", "integer", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("applied_at", "bigint", (c) => c.notNull())
          .execute();
        await m0001_init.up(h.db, h.dialect);
        await h.db.insertInto("sluice_schema").values({ version: 1, name: "init", applied_at: T0 }).execute();
        await h.db.insertInto("pool").values({ name: "warehouse", slots: 3, description: null }).execute();
        assert.deepEqual(await migrate(h.db, h.dialect), { from: 1, to: LATEST_SCHEMA_VERSION, applied: MIGRATIONS.slice(1).map((m) => `${m.version}_${m.name}`) });
      } finally {
        await h.destroy();
      }
      const upgraded = await openStore(target);
      try {
        assert.deepEqual(
          (await upgraded.pools.list()).map((p) => [p.name, p.slots]),
          [["warehouse", 3]],
        );
        await createUser(upgraded, { username: "ana", role: "admin", password: PASSWORD });
        await assert.rejects(upgraded.db.insertInto("app_user").values({ username: "bob", role: "superuser", password_hash: "x", created_at: T0 }).execute(), "the role is checked by the database");
        const { token } = await createToken(upgraded, "ana", "t");
        await deleteUser(upgraded, "ana");
        assert.equal(await upgraded.auth.userByTokenHash(sha256(token), T0), undefined);
        const left = await upgraded.db.selectFrom("api_token").select("id").execute();
        assert.equal(left.length, 0, "deleting a user deletes its tokens (cascade)");
      } finally {
        await upgraded.close();
      }
    });
  });
}

describe("sluice users and the first-start admin (CLI)", () => {
  after(async () => {
    assert.deepEqual(await killLeftovers(), [], "no process outlives the test");
  });

  it("users create|list|token|delete manage accounts; the printed token and password work against the API", async () => {
    const project = makeProject();
    const env = sluiceEnv({ home: project.home });
    const cli = (...args: string[]) => runSluice(args, env, { cwd: project.dir });

    const created = await cli("users", "create", "ana", "--role", "operator", "--json");
    assert.equal(created.code, 0, show(created));
    const { password } = json<{ password: string }>(created);
    assert.ok(password.length >= 16, "a random password is generated and printed");
    const fixed = await cli("users", "create", "bob", "--role", "viewer", "--password", "bobs-password-1");
    assert.equal(fixed.code, 0, show(fixed));
    assert.doesNotMatch(fixed.stdout, /bobs-password-1/, "a password given on the command line is not echoed");
    const badRole = await cli("users", "create", "eve", "--role", "root");
    assert.equal(badRole.code, 2, show(badRole));
    assert.match(badRole.stderr, /viewer, operator, admin/);
    const dup = await cli("users", "create", "ana", "--role", "viewer");
    assert.equal(dup.code, 2, show(dup));
    assert.match(dup.stderr, /already exists/);

    const tok = await cli("users", "token", "ana", "--name", "nightly", "--json");
    assert.equal(tok.code, 0, show(tok));
    const { token } = json<{ token: string }>(tok);
    const list = json<{ username: string; role: string; tokens: number }[]>(await cli("users", "list", "--json"));
    assert.deepEqual(
      list.map((u) => [u.username, u.role, u.tokens]),
      [
        ["ana", "operator", 1],
        ["bob", "viewer", 0],
      ],
    );

    const store = await openStore({ dialect: "sqlite", path: `${project.home}/sluice.db` });
    const app = createApiServer({ store, config: defaultConfig(), log: pino({ level: "silent" }) });
    try {
      assert.equal((await app.inject({ method: "GET", url: `${V1}/auth/me`, headers: { authorization: `Bearer ${token}` } })).json().user.username, "ana");
      assert.equal((await app.inject({ method: "POST", url: `${V1}/auth/login`, payload: { username: "ana", password } })).statusCode, 200);
      const del = await cli("users", "delete", "ana");
      assert.equal(del.code, 0, show(del));
      assert.equal((await app.inject({ method: "GET", url: `${V1}/dags`, headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
      const again = await cli("users", "delete", "ana");
      assert.equal(again.code, 2, show(again));
    } finally {
      await app.close();
      await store.close();
    }
  });

  it("sluice standalone creates admin with a random password on first start, printed once; it signs in", async () => {
    const project = makeProject();
    const target = await freshTarget("sqlite", "first_start");
    const env = sluiceEnv({ home: project.home, dbUrl: targetUrl(target) });
    const first = startStandalone(project.dags, env, project.dir);
    const printed = await waitFor("the admin password", () => /password: (\S+)/.exec(first.output())?.[1], { context: () => first.output() });
    const address = await waitFor("the API address", () => /REST API on (http:\/\/\S+?)\/api\/v1/.exec(first.output())?.[1], { context: () => first.output() });
    assert.match(first.output(), /username: admin/);
    const res = await fetch(`${address}${V1}/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: printed }) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { user: { role: string } }).user.role, "admin");
    const stopped = await first.stop();
    assert.equal(stopped.code, 0, first.output());
    assert.deepEqual(stopped.leftovers, []);

    const second = startStandalone(project.dags, env, project.dir);
    await waitFor("the second start's API", () => /REST API on/.test(second.output()), { context: () => second.output() });
    assert.doesNotMatch(second.output(), /password:/, "the password is printed on the first start only");
    const stopped2 = await second.stop();
    assert.deepEqual(stopped2.leftovers, []);
    const store = await openStore(target);
    try {
      assert.deepEqual((await store.auth.listUsers()).map((u) => u.username), ["admin"]);
    } finally {
      await store.close();
    }
  });
});
