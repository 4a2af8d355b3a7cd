/**
 * The admin API on SQLite and PostgreSQL: pools, variables, connections and
 * users. What matters to an admin: CRUD round trips; secrets that never come
 * back over the API and are not in the database in clear; a key that changed
 * is reported with the fix; who may call what; bad input is a 400 naming the
 * field; and the guards (default pool, pool in use, last admin, yourself).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { checkPassword, createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { triggerRun } from "../../src/runs/createRun.js";
import { dag } from "../../src/sdk/dag.js";
import { SecretBox } from "../../src/secrets/secretBox.js";
import type { Store } from "../../src/store/store.js";
import { ADMIN_ROUTES } from "../helpers/apiRoutes.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const V1 = "/api/v1";
const PASSWORD = "correct horse battery";

// Plaintexts that must never appear in an answer or a database row.
const VAR_SECRET = "var-secret-9f3a1c";
const CONN_PASSWORD = "conn-password-77be02";
const EXTRA_KEY = "extra-api-key-c0ffee";
const EXTRA_NESTED = "nested-token-51d3";

const gpuDag = dag({ id: "train", schedule: null }, (d) => {
  d.task("fit", async () => 1, { pool: "gpu" });
});

type Method = "GET" | "POST" | "PATCH" | "DELETE";
interface Res {
  status: number;
  json: any;
  text: string;
}

function configWith(over: { home: string; key?: string; auth?: boolean }): SluiceConfig {
  const c = defaultConfig();
  return { ...c, home: over.home, secrets: { key: over.key }, api: { ...c.api, auth: over.auth ?? true } };
}

for (const dialect of DIALECTS) {
  describe(`admin API on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let config: SluiceConfig;
    const clock = T0;
    const tokens: Record<string, string> = {};
    /** Every answer body, to check at the end that no secret ever left the server. */
    const answers: string[] = [];

    const callOn = async (server: ApiApp, method: Method, url: string, o: { body?: unknown; as?: string; headers?: Record<string, string> } = {}): Promise<Res> => {
      const headers = o.headers ?? { authorization: `Bearer ${tokens[o.as ?? "admin"]}` };
      const res = await server.inject({ method, url: V1 + url, payload: o.body as object | undefined, headers });
      answers.push(res.body);
      return { status: res.statusCode, json: res.body ? res.json() : null, text: res.body };
    };
    const call = (method: Method, url: string, o: { body?: unknown; as?: string; headers?: Record<string, string> } = {}) => callOn(app, method, url, o);
    const ok = (r: Res, status = 200) => {
      assert.equal(r.status, status, r.text);
      return r.json;
    };
    const expectError = (r: Res, status: number, code: string, message?: RegExp) => {
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.error.code, code, r.text);
      assert.ok(r.json.error.message.length > 0);
      if (message) assert.match(r.json.error.message, message);
      return r.json.error;
    };
    /** 400 VALIDATION_FAILED naming the field. */
    const expectInvalid = (r: Res, field: string) => {
      const e = expectError(r, 400, "VALIDATION_FAILED");
      assert.ok(e.message.includes(field), `message names "${field}": ${e.message}`);
    };
    const rawVariable = (key: string) => store.db.selectFrom("variable").selectAll().where("key", "=", key).executeTakeFirst();
    const rawConnection = (id: string) => store.db.selectFrom("connection").selectAll().where("conn_id", "=", id).executeTakeFirst();

    before(async () => {
      store = await freshStore(dialect, "admin");
      const spec = gpuDag.toSpec("train.ts");
      await store.dags.upsert(spec, dagVersionHash(spec), T0, false);
      for (const role of ["viewer", "operator", "admin"] as const) {
        await createUser(store, { username: role, role, password: PASSWORD });
        tokens[role] = (await createToken(store, role, "test")).token;
      }
      config = configWith({ home: mkdtempSync(join(tmpdir(), "sluice-admin-")) });
      app = createApiServer({ store, config, log: pino({ level: "silent" }), now: () => clock });
      await app.ready();
    });
    after(async () => {
      await app?.close();
      await store?.close();
    });

    it("lets only admins manage variables, connections and users (reads included), and pools (writes)", async () => {
      const adminOnly: [Method, string, unknown][] = [
        ["GET", "/variables", undefined],
        ["GET", "/variables/x", undefined],
        ["POST", "/variables", { key: "by_role", value: "v" }],
        ["PATCH", "/variables/x", { value: "v" }],
        ["DELETE", "/variables/x", undefined],
        ["GET", "/connections", undefined],
        ["GET", "/connections/x", undefined],
        ["POST", "/connections", { connId: "by_role", connType: "http" }],
        ["PATCH", "/connections/x", { host: "h" }],
        ["DELETE", "/connections/x", undefined],
        ["GET", "/users", undefined],
        ["POST", "/users", { username: "by_role", role: "viewer" }],
        ["PATCH", "/users/viewer", { role: "admin" }],
        ["DELETE", "/users/admin", undefined],
        ["GET", "/users/viewer/tokens", undefined],
        ["POST", "/users/viewer/tokens", { name: "t" }],
        ["DELETE", "/users/viewer/tokens/1", undefined],
        ["POST", "/pools", { name: "by_role", slots: 1 }],
        ["PATCH", "/pools/default_pool", { slots: 1 }],
        ["DELETE", "/pools/default_pool", undefined],
      ];
      for (const as of ["viewer", "operator"]) {
        for (const [method, url, body] of adminOnly) {
          const e = expectError(await call(method, url, { body, as }), 403, "FORBIDDEN", /needs admin or higher/);
          assert.ok(e.message.includes(as), `${method} ${url}: ${e.message}`);
        }
      }
      assert.equal(await rawVariable("by_role"), undefined);
      assert.equal(await rawConnection("by_role"), undefined);
      assert.equal((await store.auth.userByName("viewer"))!.role, "viewer");
      assert.equal((await store.pools.get("default_pool"))!.slots, 128);
      assert.equal(await store.pools.get("by_role"), undefined);
      // Everyone may read pools.
      for (const as of ["viewer", "operator", "admin"]) assert.equal((await call("GET", "/pools", { as })).status, 200);
      assert.equal((await call("GET", "/pools/default_pool", { as: "viewer" })).status, 200);
      // Strangers get 401 on everything.
      expectError(await call("GET", "/variables", { headers: {} }), 401, "UNAUTHENTICATED");
      expectError(await call("GET", "/pools", { headers: {} }), 401, "UNAUTHENTICATED");
    });

    describe("pools", () => {
      it("lists the default pool, creates, reads, resizes and deletes a pool", async () => {
        const list = ok(await call("GET", "/pools"));
        const def = list.pools.find((p: any) => p.name === "default_pool");
        assert.deepEqual(def, {
          name: "default_pool",
          slots: 128,
          description: def.description,
          occupiedSlots: 0,
          runningSlots: 0,
          queuedSlots: 0,
          scheduledSlots: 0,
          openSlots: 128,
          isDefault: true,
        });
        const created = ok(await call("POST", "/pools", { body: { name: "warehouse", slots: 4, description: "DB connections" } }), 201);
        assert.equal(created.name, "warehouse");
        assert.equal(created.openSlots, 4);
        assert.equal(created.isDefault, false);
        assert.equal((await store.pools.get("warehouse"))!.slots, 4);
        expectError(await call("POST", "/pools", { body: { name: "warehouse", slots: 9 } }), 409, "POOL_EXISTS");
        assert.equal((await store.pools.get("warehouse"))!.slots, 4, "a duplicate create changes nothing");

        const patched = ok(await call("PATCH", "/pools/warehouse", { body: { slots: 8 } }));
        assert.equal(patched.slots, 8);
        assert.equal(patched.description, "DB connections", "omitted fields are unchanged");
        assert.equal(ok(await call("PATCH", "/pools/warehouse", { body: { description: null } })).description, null);
        assert.equal(ok(await call("GET", "/pools/warehouse")).slots, 8);
        assert.deepEqual(
          ok(await call("GET", "/pools")).pools.map((p: any) => p.name),
          ["default_pool", "warehouse"],
        );
        // The default pool may be resized but never deleted.
        assert.equal(ok(await call("PATCH", "/pools/default_pool", { body: { slots: 64 } })).slots, 64);
        expectError(await call("DELETE", "/pools/default_pool"), 409, "POOL_IS_DEFAULT", /cannot be deleted/);
        assert.ok(await store.pools.get("default_pool"));

        assert.equal((await call("DELETE", "/pools/warehouse")).status, 204);
        assert.equal(await store.pools.get("warehouse"), undefined);
        expectError(await call("GET", "/pools/warehouse"), 404, "POOL_NOT_FOUND", /GET \/api\/v1\/pools/);
        expectError(await call("PATCH", "/pools/warehouse", { body: { slots: 1 } }), 404, "POOL_NOT_FOUND");
        expectError(await call("DELETE", "/pools/warehouse"), 404, "POOL_NOT_FOUND");
      });

      it("answers 400 naming the field for bad pool input", async () => {
        expectInvalid(await call("POST", "/pools", { body: { name: "p", slots: -1 } }), "slots");
        expectInvalid(await call("POST", "/pools", { body: { name: "p", slots: "4" } }), "slots");
        expectInvalid(await call("POST", "/pools", { body: { name: "p", slots: 1.5 } }), "slots");
        expectInvalid(await call("POST", "/pools", { body: { name: "has space", slots: 1 } }), "name");
        expectInvalid(await call("POST", "/pools", { body: { slots: 1 } }), "name");
        expectInvalid(await call("POST", "/pools", { body: { name: "p", slots: 1, colour: "red" } }), "colour");
        expectInvalid(await call("PATCH", "/pools/default_pool", { body: { slots: null } }), "slots");
        assert.equal(await store.pools.get("p"), undefined);
      });

      it("shows a pool's use and refuses to delete a pool with queued or running tasks", async () => {
        ok(await call("POST", "/pools", { body: { name: "gpu", slots: 2 } }), 201);
        await triggerRun(store, "train", { runId: "r1", now: T0 });
        const ti = (await store.tasks.byKey("train", "r1", "fit"))!;
        assert.equal(ti.pool, "gpu");
        assert.ok(await store.tasks.cas(ti.id, [ti.state as never], { state: "queued", updated_at: T0 }));

        const gpu = ok(await call("GET", "/pools/gpu"));
        assert.equal(gpu.queuedSlots, 1);
        assert.equal(gpu.occupiedSlots, 1);
        assert.equal(gpu.openSlots, 1);
        const e = expectError(await call("DELETE", "/pools/gpu"), 409, "POOL_IN_USE", /1 queued/);
        assert.match(e.message, /Wait for them to finish/);
        assert.ok(await store.pools.get("gpu"), "still there");

        assert.ok(await store.tasks.cas(ti.id, ["queued"], { state: "running", updated_at: T0 }));
        assert.equal(ok(await call("GET", "/pools")).pools.find((p: any) => p.name === "gpu").runningSlots, 1);
        expectError(await call("DELETE", "/pools/gpu"), 409, "POOL_IN_USE", /1 running/);

        assert.ok(await store.tasks.cas(ti.id, ["running"], { state: "success", updated_at: T0 }));
        assert.equal((await call("DELETE", "/pools/gpu")).status, 204);
        assert.equal(await store.pools.get("gpu"), undefined);
      });
    });

    describe("variables", () => {
      it("round-trips a plain variable and pages the list by key", async () => {
        const v = ok(await call("POST", "/variables", { body: { key: "data_bucket", value: "s3://ml/raw", description: "Raw data" } }), 201);
        assert.deepEqual(v, { key: "data_bucket", value: "s3://ml/raw", isSecret: false, description: "Raw data", updatedAt: new Date(T0).toISOString() });
        assert.deepEqual(ok(await call("GET", "/variables/data_bucket")), v);
        assert.equal((await rawVariable("data_bucket"))!.value, "s3://ml/raw", "plain values are stored as they are");
        for (const key of ["b.x", "a-1", "c_2"]) ok(await call("POST", "/variables", { body: { key, value: key } }), 201);
        const page = ok(await call("GET", "/variables?limit=2&offset=1"));
        assert.equal(page.total, 4);
        assert.deepEqual(
          page.variables.map((x: any) => x.key),
          ["b.x", "c_2"],
        );
        assert.equal(page.limit, 2);
        assert.equal(page.offset, 1);

        const patched = ok(await call("PATCH", "/variables/data_bucket", { body: { value: "s3://ml/v2" } }));
        assert.equal(patched.value, "s3://ml/v2");
        assert.equal(patched.description, "Raw data");
        assert.equal(ok(await call("PATCH", "/variables/data_bucket", { body: { description: null } })).description, null);
        expectError(await call("POST", "/variables", { body: { key: "data_bucket", value: "other" } }), 409, "VARIABLE_EXISTS");
        assert.equal((await rawVariable("data_bucket"))!.value, "s3://ml/v2");
        for (const key of ["b.x", "a-1", "c_2"]) assert.equal((await call("DELETE", `/variables/${key}`)).status, 204);
        expectError(await call("GET", "/variables/a-1"), 404, "VARIABLE_NOT_FOUND");
        expectError(await call("PATCH", "/variables/a-1", { body: { value: "x" } }), 404, "VARIABLE_NOT_FOUND");
        expectError(await call("DELETE", "/variables/a-1"), 404, "VARIABLE_NOT_FOUND");
      });

      it("stores secret variables encrypted, returns them masked, and guesses secrecy from the key", async () => {
        const secret = ok(await call("POST", "/variables", { body: { key: "warehouse_PASSWORD", value: VAR_SECRET } }), 201);
        assert.equal(secret.isSecret, true, "a key containing 'password' is secret by default");
        assert.equal(secret.value, "***");
        const row = (await rawVariable("warehouse_PASSWORD"))!;
        assert.equal(row.is_secret, 1);
        assert.match(row.value, /^v1:/);
        assert.ok(!row.value.includes(VAR_SECRET));
        assert.equal(await new SecretBox(config).decrypt(row.value), VAR_SECRET, "the stored value decrypts to what was sent");
        assert.equal(ok(await call("GET", "/variables/warehouse_PASSWORD")).value, "***");

        for (const key of ["slack_token", "openai_api_key", "deploy_private_key", "gcp_credential", "my_secret"]) {
          assert.equal(ok(await call("POST", "/variables", { body: { key, value: VAR_SECRET } }), 201).isSecret, true, key);
        }
        assert.equal(ok(await call("POST", "/variables", { body: { key: "token_count", value: "12", isSecret: false } }), 201).value, "12", "an explicit isSecret wins");
        assert.equal(ok(await call("POST", "/variables", { body: { key: "region", value: VAR_SECRET, isSecret: true } }), 201).value, "***");

        // A new value stays secret and is re-encrypted.
        ok(await call("PATCH", "/variables/warehouse_PASSWORD", { body: { value: `${VAR_SECRET}-2` } }));
        const row2 = (await rawVariable("warehouse_PASSWORD"))!;
        assert.notEqual(row2.value, row.value);
        assert.equal(await new SecretBox(config).decrypt(row2.value), `${VAR_SECRET}-2`);
        // Making a secret plain needs its value: the API never decrypts a variable.
        expectError(await call("PATCH", "/variables/region", { body: { isSecret: false } }), 400, "VALUE_REQUIRED", /send its value/);
        assert.equal((await rawVariable("region"))!.is_secret, 1);
        const plain = ok(await call("PATCH", "/variables/region", { body: { isSecret: false, value: "eu-west-1" } }));
        assert.deepEqual([plain.isSecret, plain.value], [false, "eu-west-1"]);
        // Making a plain variable secret encrypts the value it has.
        const hidden = ok(await call("PATCH", "/variables/token_count", { body: { isSecret: true } }));
        assert.deepEqual([hidden.isSecret, hidden.value], [true, "***"]);
        const row3 = (await rawVariable("token_count"))!;
        assert.equal(await new SecretBox(config).decrypt(row3.value), "12");

        const list = ok(await call("GET", "/variables?limit=1000"));
        for (const v of list.variables) if (v.isSecret) assert.equal(v.value, "***", v.key);
        const all = await store.db.selectFrom("variable").select("value").execute();
        assert.ok(all.every((r) => !r.value.includes(VAR_SECRET)), "no secret is in the database in clear");
      });

      it("answers 400 naming the field for bad variable input", async () => {
        expectInvalid(await call("POST", "/variables", { body: { key: "n", value: 42 } }), "value");
        expectInvalid(await call("POST", "/variables", { body: { key: "bad key!", value: "v" } }), "key");
        expectInvalid(await call("POST", "/variables", { body: { key: "", value: "v" } }), "key");
        expectInvalid(await call("POST", "/variables", { body: { value: "v" } }), "key");
        expectInvalid(await call("POST", "/variables", { body: { key: "k", value: "v", isSecret: "yes" } }), "isSecret");
        expectInvalid(await call("POST", "/variables", { body: { key: "k", value: "v", secret: true } }), "secret");
        expectInvalid(await call("PATCH", "/variables/k", { body: { key: "renamed" } }), "key");
        expectInvalid(await call("GET", "/variables?limit=0"), "limit");
        assert.equal(await rawVariable("k"), undefined);
      });
    });

    describe("connections", () => {
      const full = {
        connId: "warehouse.pg-1",
        connType: "postgres",
        host: "db.internal",
        port: 5432,
        login: "etl",
        password: CONN_PASSWORD,
        schema: "analytics",
        extra: { sslmode: "require", api_key: EXTRA_KEY, nested: { client_secret: EXTRA_NESTED, timeout: 30 } },
        description: "Warehouse",
      };

      it("round-trips a connection: the password is write-only (hasPassword), extra comes back masked", async () => {
        const c = ok(await call("POST", "/connections", { body: full }), 201);
        const expected = {
          connId: "warehouse.pg-1",
          connType: "postgres",
          host: "db.internal",
          port: 5432,
          login: "etl",
          hasPassword: true,
          schema: "analytics",
          extra: { sslmode: "require", api_key: "***", nested: { client_secret: "***", timeout: 30 } },
          description: "Warehouse",
          updatedAt: new Date(T0).toISOString(),
        };
        assert.deepEqual(c, expected);
        assert.ok(!("password" in c));
        assert.deepEqual(ok(await call("GET", "/connections/warehouse.pg-1")), expected);
        const list = ok(await call("GET", "/connections"));
        assert.equal(list.total, 1);
        assert.deepEqual(list.connections, [expected]);

        const row = (await rawConnection("warehouse.pg-1"))!;
        for (const col of [row.password!, row.extra!]) {
          assert.match(col, /^v1:/);
          for (const secret of [CONN_PASSWORD, EXTRA_KEY, EXTRA_NESTED, "sslmode"]) assert.ok(!col.includes(secret), `${secret} is not stored in clear`);
        }
        const box = new SecretBox(config);
        assert.equal(await box.decrypt(row.password!), CONN_PASSWORD);
        assert.deepEqual(JSON.parse(await box.decrypt(row.extra!)), full.extra);

        const minimal = ok(await call("POST", "/connections", { body: { connId: "slack", connType: "slack" } }), 201);
        assert.deepEqual([minimal.hasPassword, minimal.extra, minimal.host, minimal.port], [false, null, null, null]);
        expectError(await call("POST", "/connections", { body: { connId: "slack", connType: "http" } }), 409, "CONNECTION_EXISTS");
        assert.equal((await rawConnection("slack"))!.conn_type, "slack");
        assert.deepEqual(
          ok(await call("GET", "/connections?limit=1&offset=1")).connections.map((x: any) => x.connId),
          ["warehouse.pg-1"],
        );
      });

      it("PATCH changes only what is sent; password: null clears it; a masked extra sent back keeps the stored secrets", async () => {
        const before = (await rawConnection("warehouse.pg-1"))!;
        const moved = ok(await call("PATCH", "/connections/warehouse.pg-1", { body: { host: "db2.internal", port: null } }));
        assert.deepEqual([moved.host, moved.port, moved.login, moved.hasPassword], ["db2.internal", null, "etl", true]);
        const after1 = (await rawConnection("warehouse.pg-1"))!;
        assert.equal(after1.password, before.password, "the password is untouched");
        assert.equal(after1.extra, before.extra, "and so is extra");

        // What the UI does: read (masked), edit one field, send everything back.
        const read = ok(await call("GET", "/connections/warehouse.pg-1"));
        const edited = { ...read.extra, sslmode: "verify-full", nested: { ...read.extra.nested, timeout: 60 } };
        const saved = ok(await call("PATCH", "/connections/warehouse.pg-1", { body: { extra: edited } }));
        assert.deepEqual(saved.extra, { sslmode: "verify-full", api_key: "***", nested: { client_secret: "***", timeout: 60 } });
        const box = new SecretBox(config);
        assert.deepEqual(JSON.parse(await box.decrypt((await rawConnection("warehouse.pg-1"))!.extra!)), {
          sslmode: "verify-full",
          api_key: EXTRA_KEY,
          nested: { client_secret: EXTRA_NESTED, timeout: 60 },
        });

        const newPassword = ok(await call("PATCH", "/connections/warehouse.pg-1", { body: { password: `${CONN_PASSWORD}-2` } }));
        assert.equal(newPassword.hasPassword, true);
        assert.equal(await box.decrypt((await rawConnection("warehouse.pg-1"))!.password!), `${CONN_PASSWORD}-2`);
        const cleared = ok(await call("PATCH", "/connections/warehouse.pg-1", { body: { password: null, extra: null } }));
        assert.deepEqual([cleared.hasPassword, cleared.extra], [false, null]);
        const row = (await rawConnection("warehouse.pg-1"))!;
        assert.deepEqual([row.password, row.extra], [null, null]);

        expectError(await call("PATCH", "/connections/nope", { body: { host: "h" } }), 404, "CONNECTION_NOT_FOUND");
        expectError(await call("GET", "/connections/nope"), 404, "CONNECTION_NOT_FOUND", /GET \/api\/v1\/connections/);
        assert.equal((await call("DELETE", "/connections/slack")).status, 204);
        assert.equal(await rawConnection("slack"), undefined);
        expectError(await call("DELETE", "/connections/slack"), 404, "CONNECTION_NOT_FOUND");
      });

      it("answers 400 naming the field for bad connection input", async () => {
        expectInvalid(await call("POST", "/connections", { body: { connId: "a b", connType: "http" } }), "connId");
        expectInvalid(await call("POST", "/connections", { body: { connId: "a/b", connType: "http" } }), "connId");
        expectInvalid(await call("POST", "/connections", { body: { connId: "p", connType: "http", port: 70000 } }), "port");
        expectInvalid(await call("POST", "/connections", { body: { connId: "p", connType: "http", port: 0 } }), "port");
        expectInvalid(await call("POST", "/connections", { body: { connId: "p", connType: "http", port: "5432" } }), "port");
        expectInvalid(await call("POST", "/connections", { body: { connId: "p", connType: "http", extra: ["not", "an", "object"] } }), "extra");
        expectInvalid(await call("POST", "/connections", { body: { connId: "p", connType: "http", extra: "{}" } }), "extra");
        expectInvalid(await call("POST", "/connections", { body: { connId: "p" } }), "connType");
        expectInvalid(await call("POST", "/connections", { body: { connId: "p", connType: "http", passwd: "x" } }), "passwd");
        expectInvalid(await call("PATCH", "/connections/warehouse.pg-1", { body: { connId: "renamed" } }), "connId");
        assert.equal(await rawConnection("p"), undefined);
      });

      it("reports a changed secrets key with the fix, and recovers when the secrets are set again", async () => {
        ok(await call("POST", "/connections", { body: { connId: "s3", connType: "s3", password: CONN_PASSWORD, extra: { region: "eu", secret_key: EXTRA_KEY } } }), 201);
        const stored = (await rawConnection("s3"))!.extra!;
        // The same database, served by a process whose key is different (a lost key file, a new SLUICE_SECRETS__KEY).
        const other = createApiServer({
          store,
          config: configWith({ home: config.home, key: randomBytes(32).toString("base64") }),
          log: pino({ level: "silent" }),
          now: () => clock,
        });
        await other.ready();
        try {
          for (const url of ["/connections/s3", "/connections"]) {
            const e = expectError(await callOn(other, "GET", url), 500, "SECRETS_KEY_MISMATCH", /secrets key is not the one it was encrypted with/);
            assert.match(e.message, /connection "s3"/);
            assert.match(e.message, /restore the previous key/i);
            assert.ok(!e.message.includes(stored.split(":")[3]), "the ciphertext is not in the message");
          }
          // Sending back a mask needs the old value, which this key cannot read: refused, nothing written.
          expectError(await callOn(other, "PATCH", "/connections/s3", { body: { extra: { region: "us", secret_key: "***" } } }), 500, "SECRETS_KEY_MISMATCH");
          assert.equal((await rawConnection("s3"))!.extra, stored);
          // Setting the secrets again with the new key is how an admin recovers.
          const fixed = ok(await callOn(other, "PATCH", "/connections/s3", { body: { extra: { region: "us", secret_key: "new" }, password: "new-password" } }));
          assert.deepEqual(fixed.extra, { region: "us", secret_key: "***" });
          assert.equal(ok(await callOn(other, "GET", "/connections/s3")).hasPassword, true);
          // …after which the old key is the wrong one.
          expectError(await call("GET", "/connections/s3"), 500, "SECRETS_KEY_MISMATCH");
        } finally {
          await other.close();
        }
        assert.equal((await call("DELETE", "/connections/s3")).status, 204);
      });
    });

    describe("users", () => {
      it("creates users (a generated password is returned once), lists them, changes role and password", async () => {
        const withPassword = ok(await call("POST", "/users", { body: { username: "ana", password: "ana-password-1", role: "operator" } }), 201);
        assert.deepEqual(withPassword, { user: { id: withPassword.user.id, username: "ana", role: "operator", createdAt: new Date(T0).toISOString(), tokens: 0 } });
        assert.ok(await checkPassword(store, "ana", "ana-password-1"));

        const generated = ok(await call("POST", "/users", { body: { username: "bob", role: "viewer" } }), 201);
        assert.equal(typeof generated.password, "string");
        assert.equal(generated.password.length, 20);
        assert.equal((await checkPassword(store, "bob", generated.password))?.role, "viewer");
        assert.ok(!(await store.auth.userByName("bob"))!.password_hash.includes(generated.password));

        expectError(await call("POST", "/users", { body: { username: "ana", role: "viewer" } }), 409, "USER_EXISTS");
        const usersRes = await call("GET", "/users");
        const users = ok(usersRes);
        assert.deepEqual(
          users.users.map((u: any) => [u.username, u.role, u.tokens]),
          [
            ["admin", "admin", 1],
            ["ana", "operator", 0],
            ["bob", "viewer", 0],
            ["operator", "operator", 1],
            ["viewer", "viewer", 1],
          ],
        );
        assert.ok(!usersRes.text.includes("scrypt$"), "no password hash is sent");
        for (const u of users.users) assert.deepEqual(Object.keys(u).sort(), ["createdAt", "id", "role", "tokens", "username"]);

        // A signed-in session of bob ends when an admin sets a new password.
        const login = await app.inject({ method: "POST", url: `${V1}/auth/login`, payload: { username: "bob", password: generated.password } });
        const cookie = String(login.headers["set-cookie"]).split(";")[0];
        assert.equal((await call("GET", "/auth/me", { headers: { cookie } })).status, 200);
        const promoted = ok(await call("PATCH", "/users/bob", { body: { role: "operator", password: "bob-new-password" } }));
        assert.equal(promoted.role, "operator");
        assert.equal(await checkPassword(store, "bob", generated.password), undefined);
        assert.equal((await checkPassword(store, "bob", "bob-new-password"))?.role, "operator");
        expectError(await call("GET", "/auth/me", { headers: { cookie } }), 401, "UNAUTHENTICATED");

        expectError(await call("PATCH", "/users/nobody", { body: { role: "admin" } }), 404, "USER_NOT_FOUND");
        expectError(await call("DELETE", "/users/nobody"), 404, "USER_NOT_FOUND");
        assert.equal((await call("DELETE", "/users/bob")).status, 204);
        assert.equal(await store.auth.userByName("bob"), undefined);
      });

      it("answers 400 for bad user input", async () => {
        expectInvalid(await call("POST", "/users", { body: { username: "eve", role: "root" } }), "role");
        expectInvalid(await call("POST", "/users", { body: { username: "eve", role: "viewer", password: "short" } }), "password");
        expectInvalid(await call("POST", "/users", { body: { username: "eve", role: "viewer", email: "e@x" } }), "email");
        expectInvalid(await call("PATCH", "/users/ana", { body: { role: "superuser" } }), "role");
        expectInvalid(await call("PATCH", "/users/ana", { body: { username: "renamed" } }), "username");
        expectError(await call("POST", "/users", { body: { username: "eve smith", role: "viewer" } }), 400, "USAGE", /letters, digits/);
        assert.equal(await store.auth.userByName("eve"), undefined);
        assert.equal(await store.auth.userByName("eve smith"), undefined);
      });

      it("creates API tokens (shown once), lists them without the secret, and revokes them", async () => {
        const t = ok(await call("POST", "/users/ana/tokens", { body: { name: "nightly" } }), 201);
        assert.match(t.token, /^slc_/);
        assert.equal(t.name, "nightly");
        const me = ok(await call("GET", "/auth/me", { headers: { authorization: `Bearer ${t.token}` } }));
        assert.equal(me.user.username, "ana");

        const listed = await call("GET", "/users/ana/tokens");
        assert.deepEqual(ok(listed).tokens, [{ id: t.id, name: "nightly", createdAt: new Date(T0).toISOString(), lastUsedAt: new Date(T0).toISOString() }]);
        assert.ok(!listed.text.includes(t.token), "a listed token never shows the token");
        assert.equal(ok(await call("GET", "/users")).users.find((u: any) => u.username === "ana").tokens, 1);

        // A token id of another user is not found under this one.
        const adminTokenId = (await store.auth.tokensOf((await store.auth.userByName("admin"))!.id))[0].id;
        expectError(await call("DELETE", `/users/ana/tokens/${adminTokenId}`), 404, "TOKEN_NOT_FOUND");
        assert.equal((await call("GET", "/pools")).status, 200, "the admin's token still works");
        expectInvalid(await call("DELETE", "/users/ana/tokens/abc"), "id");
        expectInvalid(await call("POST", "/users/ana/tokens", { body: { name: "" } }), "name");
        expectError(await call("POST", "/users/nobody/tokens", { body: { name: "x" } }), 404, "USER_NOT_FOUND");
        expectError(await call("GET", "/users/nobody/tokens"), 404, "USER_NOT_FOUND");

        assert.equal((await call("DELETE", `/users/ana/tokens/${t.id}`)).status, 204);
        expectError(await call("GET", "/auth/me", { headers: { authorization: `Bearer ${t.token}` } }), 401, "UNAUTHENTICATED");
        assert.deepEqual(ok(await call("GET", "/users/ana/tokens")).tokens, []);
        expectError(await call("DELETE", `/users/ana/tokens/${t.id}`), 404, "TOKEN_NOT_FOUND");
      });

      it("refuses to delete yourself or to delete or demote the last admin (409)", async () => {
        expectError(await call("DELETE", "/users/admin"), 409, "CANNOT_DELETE_SELF", /another admin/);
        expectError(await call("PATCH", "/users/admin", { body: { role: "operator" } }), 409, "LAST_ADMIN", /last admin/);
        assert.equal((await store.auth.userByName("admin"))!.role, "admin");
        // With API auth off there is no "yourself": the last-admin guard alone must hold.
        const open = createApiServer({ store, config: configWith({ home: config.home, auth: false }), log: pino({ level: "silent" }), now: () => clock });
        await open.ready();
        try {
          expectError(await callOn(open, "DELETE", "/users/admin", { headers: {} }), 409, "LAST_ADMIN");
          assert.ok(await store.auth.userByName("admin"));
        } finally {
          await open.close();
        }

        // With a second admin, either may be demoted or deleted by the other.
        ok(await call("PATCH", "/users/ana", { body: { role: "admin" } }));
        tokens.ana = (await createToken(store, "ana", "test")).token;
        assert.equal(ok(await call("PATCH", "/users/admin", { body: { role: "operator" }, as: "ana" })).role, "operator");
        expectError(await call("GET", "/users"), 403, "FORBIDDEN", /operator/);
        assert.equal(ok(await call("PATCH", "/users/admin", { body: { role: "admin" }, as: "ana" })).role, "admin");
        assert.equal((await call("DELETE", "/users/ana")).status, 204);
        expectError(await call("GET", "/users", { as: "ana" }), 401, "UNAUTHENTICATED");
      });
    });

    it("documents every admin route under the admin tag in the OpenAPI document", async () => {
      const doc = ok(await call("GET", "/openapi.json"));
      for (const [method, path] of ADMIN_ROUTES) {
        const op = doc.paths[`${V1}${path}`]?.[method];
        assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
        assert.deepEqual(op.tags, ["admin"], `${method} ${path}`);
        assert.ok(op.responses["403"], `${method} ${path} documents 403`);
      }
      const conn = JSON.stringify(doc.paths[`${V1}/connections/{connId}`].get.responses["200"]);
      assert.ok(conn.includes("hasPassword") && !conn.includes('"password"'), "the documented connection has hasPassword, no password");
    });

    it("never sent a secret in any answer", () => {
      assert.ok(answers.length > 100, `checked ${answers.length} answers`);
      for (const secret of [VAR_SECRET, CONN_PASSWORD, EXTRA_KEY, EXTRA_NESTED]) {
        const leak = answers.find((a) => a.includes(secret));
        assert.equal(leak, undefined, `"${secret}" leaked in: ${leak}`);
      }
    });
  });
}
