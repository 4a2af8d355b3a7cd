/**
 * The web UI's static serving (src/api/ui.ts) through the real API server:
 * index.html at "/" and for any HTML navigation outside /api (the SPA's own
 * routes), hashed assets cached for a year, index.html revalidated, the
 * Content-Security-Policy on the page, no auth needed for the UI, API paths
 * still answered by the API, nothing served from outside the build folder,
 * and a helpful page when no build exists.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import { defaultUiDir, UI_CSP } from "../../src/api/ui.js";
import { defaultConfig } from "../../src/config/config.js";
import type { Store } from "../../src/store/store.js";
import { DIALECTS, freshStore } from "../helpers/db.js";

const INDEX = '<!doctype html><html><head><title>Sluice</title></head><body><div id="root"></div></body></html>';
const ASSET = "console.log('app');";
const HTML = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

/** A fake build: the layout vite writes into dist/ui, plus a file beside it that must never be served. */
function fakeBuild(): string {
  const top = mkdtempSync(join(tmpdir(), "sluice-ui-test-"));
  writeFileSync(join(top, "secret.txt"), "do not serve me");
  const dir = join(top, "ui");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), INDEX);
  writeFileSync(join(dir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  writeFileSync(join(dir, "assets", "index-Ab12Cd34.js"), ASSET);
  return dir;
}

for (const dialect of DIALECTS) {
  describe(`web UI serving on ${dialect}`, () => {
    let store: Store;
    let app: ApiApp;
    let bare: ApiApp;
    let apiOnly: ApiApp;

    before(async () => {
      store = await freshStore(dialect, "ui");
      const base = { store, config: defaultConfig(), log: pino({ level: "silent" }) };
      app = createApiServer({ ...base, ui: { dir: fakeBuild() } });
      bare = createApiServer({ ...base, ui: { dir: mkdtempSync(join(tmpdir(), "sluice-ui-none-")) } });
      apiOnly = createApiServer({ ...base, ui: false });
      await Promise.all([app.ready(), bare.ready(), apiOnly.ready()]);
    });
    after(async () => {
      await Promise.all([app?.close(), bare?.close(), apiOnly?.close()]);
      await store?.close();
    });

    it("serves index.html at / without auth, revalidated, with the CSP and security headers", async () => {
      const r = await app.inject({ method: "GET", url: "/", headers: HTML });
      assert.equal(r.statusCode, 200);
      assert.equal(r.body, INDEX);
      assert.match(String(r.headers["content-type"]), /^text\/html/);
      assert.equal(r.headers["cache-control"], "no-cache");
      assert.equal(r.headers["content-security-policy"], UI_CSP);
      assert.match(UI_CSP, /script-src 'self'(;|$)/, "no inline or remote scripts");
      assert.match(UI_CSP, /connect-src 'self'/, "the page talks to this server only");
      assert.equal(r.headers["x-frame-options"], "DENY");
      assert.equal(r.headers["x-content-type-options"], "nosniff");
    });

    it("answers the SPA's own routes with index.html (a reload on /dags/etl/grid works)", async () => {
      for (const url of ["/dags/etl/grid?run=manual__1&task=load", "/datasets", "/admin/users", "/index.html"]) {
        const r = await app.inject({ method: "GET", url, headers: HTML });
        assert.equal(r.statusCode, 200, url);
        assert.equal(r.body, INDEX, url);
        assert.equal(r.headers["cache-control"], "no-cache", url);
      }
    });

    it("serves hashed assets with a year-long immutable cache and other files for an hour", async () => {
      const js = await app.inject({ method: "GET", url: "/assets/index-Ab12Cd34.js" });
      assert.equal(js.statusCode, 200);
      assert.equal(js.body, ASSET);
      assert.match(String(js.headers["content-type"]), /javascript/);
      assert.equal(js.headers["cache-control"], "public, max-age=31536000, immutable");
      const icon = await app.inject({ method: "GET", url: "/favicon.svg" });
      assert.equal(icon.statusCode, 200);
      assert.match(String(icon.headers["content-type"]), /^image\/svg\+xml/);
      assert.equal(icon.headers["cache-control"], "public, max-age=3600");
    });

    it("answers a missing file that is not a page navigation with the API's JSON 404", async () => {
      const r = await app.inject({ method: "GET", url: "/assets/gone-123.js", headers: { accept: "*/*" } });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().error.code, "NOT_FOUND");
    });

    it("leaves /api to the API: JSON answers, never the page", async () => {
      const health = await app.inject({ method: "GET", url: "/api/v1/health", headers: HTML });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().status, "ok");
      // An unknown API path with a browser's Accept header still gets JSON (the auth hook answers first: 401).
      const unknown = await app.inject({ method: "GET", url: "/api/v1/no-such-route", headers: HTML });
      assert.equal(unknown.statusCode, 401);
      assert.match(String(unknown.headers["content-type"]), /^application\/json/);
      const outside = await app.inject({ method: "GET", url: "/api/other", headers: HTML });
      assert.equal(outside.statusCode, 404);
      assert.equal(outside.json().error.code, "NOT_FOUND");
    });

    it("never serves a file from outside the build folder", async () => {
      for (const url of ["/..%2fsecret.txt", "/assets/..%2f..%2fsecret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e%2f%2e%2e%2fsecret.txt"]) {
        for (const headers of [HTML, { accept: "*/*" }]) {
          const r = await app.inject({ method: "GET", url, headers });
          assert.ok(!r.body.includes("do not serve me"), `${url} leaked the file`);
          assert.ok(r.statusCode === 404 || (r.statusCode === 200 && r.body === INDEX), `${url}: ${r.statusCode}`);
        }
      }
    });

    it("only answers GET and HEAD", async () => {
      const head = await app.inject({ method: "HEAD", url: "/" });
      assert.equal(head.statusCode, 200);
      const post = await app.inject({ method: "POST", url: "/dags/etl", headers: HTML, payload: {} });
      assert.equal(post.statusCode, 404);
    });

    it("without a build, / explains how to make one and assets are 404", async () => {
      const r = await bare.inject({ method: "GET", url: "/", headers: HTML });
      assert.equal(r.statusCode, 200);
      assert.match(r.body, /npm run build/);
      assert.match(r.body, /\/api\/v1\/docs/);
      const page = await bare.inject({ method: "GET", url: "/dags/etl/grid", headers: HTML });
      assert.match(page.body, /npm run build/);
      const asset = await bare.inject({ method: "GET", url: "/assets/index-Ab12Cd34.js" });
      assert.equal(asset.statusCode, 404);
    });

    it("ui: false serves the API alone", async () => {
      const r = await apiOnly.inject({ method: "GET", url: "/", headers: HTML });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().error.code, "NOT_FOUND");
      assert.equal((await apiOnly.inject({ method: "GET", url: "/api/v1/health" })).statusCode, 200);
    });
  });
}

describe("defaultUiDir", () => {
  it("is dist/ui beside the compiled server", () => {
    // This test runs compiled, from dist/test/api: the server module is dist/src/api/ui.js.
    assert.match(defaultUiDir(), /[\\/]dist[\\/]ui$/);
  });
});
