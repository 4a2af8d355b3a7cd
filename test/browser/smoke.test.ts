/**
 * The browser-test infrastructure on its own, independent of Sluice's UI:
 * Debian's Chromium starts headless through playwright-core, loads a page from
 * a tiny local HTTP server (with a strict Content-Security-Policy, as a real
 * app may send), a click runs the page's script, a screenshot lands in
 * test-artifacts/, axe-core finds nothing on a clean page and does find the
 * problems of a broken one, and close() leaves no profile directory behind.
 * Then the API-server helper on both dialects: a listening server with auth
 * on, users of each role with working tokens, and a session cookie put into
 * the browser that the server accepts.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { axe, launchBrowser, screenshot, SCREENSHOT_DIR, signIn, signInWithCookie, startApiServer, type Browser } from "../helpers/browser.js";
import { DIALECTS } from "../helpers/db.js";

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Smoke</title><script src="/app.js" defer></script></head>
<body>
  <main>
    <h1>Browser smoke test</h1>
    <button type="button" id="count">Count clicks</button>
    <p id="result" aria-live="polite">Not clicked yet</p>
  </main>
</body>
</html>`;

const APP_JS = `let n = 0;
document.getElementById("count").addEventListener("click", () => {
  n += 1;
  document.getElementById("result").textContent = "Clicked " + n + (n === 1 ? " time" : " times");
});`;

// An image without alt text and a button without a name: both "critical" in axe-core.
const BROKEN = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Broken</title></head>
<body><main><h1>Broken</h1><img src="/pixel.png"><button type="button"></button></main></body>
</html>`;

// The login contract the real UI follows (labels, button name, DAG rows), faked so signIn() is tested on its own.
const LOGIN = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title><script src="/login.js" defer></script></head>
<body><main>
  <form id="login"><h1>Sign in</h1>
    <label for="u">Username</label><input id="u" name="username" autocomplete="username">
    <label for="p">Password</label><input id="p" name="password" type="password" autocomplete="current-password">
    <button type="submit">Sign in</button>
  </form>
</main></body>
</html>`;

const LOGIN_JS = `document.getElementById("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const user = document.getElementById("u").value;
  const ok = (user === "ana" || user === "newbie") && document.getElementById("p").value === "right password";
  // Answer later than at once, as a real server round trip would.
  setTimeout(() => {
    document.querySelector("[role=alert]")?.remove();
    if (!ok) {
      const p = document.createElement("p");
      p.setAttribute("role", "alert");
      p.textContent = "Wrong username or password.";
      document.getElementById("login").append(p);
      return;
    }
    document.querySelector("main").innerHTML = user === "newbie"
      ? '<h1>DAGs</h1><p>No DAGs yet.</p>'
      : '<h1>DAGs</h1><table><tr><th>DAG</th></tr><tr data-testid="dag-row-etl"><td>etl</td></tr></table>';
  }, 150);
});`;

// A 1×1 transparent PNG.
const PIXEL = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", "base64");
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("browser test infrastructure", () => {
  let server: Server;
  let base: string;
  let browser: Browser;

  before(async () => {
    server = createServer((req, res) => {
      // No inline scripts allowed: the axe helper must work on pages that forbid them.
      res.setHeader("content-security-policy", "default-src 'self'");
      const body: Record<string, [string, string | Buffer]> = {
        "/": ["text/html; charset=utf-8", PAGE],
        "/app.js": ["text/javascript", APP_JS],
        "/broken": ["text/html; charset=utf-8", BROKEN],
        "/pixel.png": ["image/png", PIXEL],
        "/login": ["text/html; charset=utf-8", LOGIN],
        "/login.js": ["text/javascript", LOGIN_JS],
      };
      const hit = body[req.url ?? ""];
      if (!hit) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": hit[0] }).end(hit[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("loads a page, runs its script on a click, and saves a screenshot", async () => {
    const page = await browser.page();
    await page.goto(`${base}/`);
    assert.equal(await page.title(), "Smoke");
    const result = page.locator("#result");
    assert.equal(await result.innerText(), "Not clicked yet");
    const button = page.getByRole("button", { name: "Count clicks" });
    await button.click();
    await page.getByText("Clicked 1 time", { exact: true }).waitFor({ timeout: 5_000 });
    await button.click();
    await page.getByText("Clicked 2 times", { exact: true }).waitFor({ timeout: 5_000 });

    const file = await screenshot(page, "smoke-infrastructure");
    assert.equal(file, join(SCREENSHOT_DIR, "smoke-infrastructure.png"));
    const png = readFileSync(file);
    assert.deepEqual(png.subarray(0, 8), PNG_MAGIC, "the screenshot is a PNG file");
    // The viewport is 1440 px wide: a blank or failed capture would not be this wide.
    assert.equal(png.readUInt32BE(16), 1440, "PNG width from its IHDR chunk");
    await assert.rejects(screenshot(page, "../escape"), /must be letters/);
  });

  it("axe finds no serious or critical problems on a clean page", async () => {
    const page = await browser.page();
    await page.goto(`${base}/`);
    const report = await axe(page);
    assert.deepEqual(report.violations, [], report.text);
    assert.equal(report.text, "");
  });

  it("axe reports the critical problems of a broken page, readably", async () => {
    const page = await browser.page();
    await page.goto(`${base}/broken`);
    const report = await axe(page);
    const ids = report.violations.map((v) => v.id).sort();
    assert.deepEqual(ids, ["button-name", "image-alt"], report.text);
    assert.ok(report.violations.every((v) => v.impact === "critical"));
    assert.match(report.text, /\[critical\] image-alt: .*\n\s+- img:/);
    assert.match(report.text, /\[critical\] button-name: /);
    assert.match(report.text, new RegExp(`on ${base}/broken`));
    // Excluding the offending elements leaves nothing.
    assert.deepEqual((await axe(page, { exclude: ["img", "button"] })).violations, []);
  });

  it("signIn() fills the login form and waits for the DAG list, or fails with the page's error", async () => {
    // signIn opens baseUrl + "/": point it at the fake login page. A new tab each time: the fake keeps no session.
    const loginBase = `${base}/login#`;
    const tab = async <T>(fn: (page: Page) => Promise<T>): Promise<T> => {
      const page = await browser.context.newPage();
      try {
        return await fn(page);
      } finally {
        await page.close();
      }
    };
    await tab(async (page) => {
      await signIn(page, loginBase, "ana", "right password");
      assert.equal(await page.getByTestId("dag-row-etl").count(), 1);
    });
    await tab((page) => assert.rejects(signIn(page, loginBase, "ana", "wrong password"), /sign-in as "ana" failed: Wrong username or password\./));
    // Signed in, but the list has no rows: fails unless the caller expects an empty list.
    await tab((page) => assert.rejects(signIn(page, loginBase, "newbie", "right password", { timeoutMs: 1_500 }), /sign-in as "newbie" did not reach the DAG list within 1500 ms/));
    await tab(async (page) => {
      await signIn(page, loginBase, "newbie", "right password", { expectDags: false });
      assert.equal(await page.getByText("No DAGs yet.").count(), 1);
    });
  });

  it("close() stops Chromium and removes its profile directory", async () => {
    const other = await launchBrowser();
    const dir = other.userDataDir;
    assert.ok(existsSync(dir));
    const page = await other.page();
    await page.goto(`${base}/`);
    await other.close();
    assert.equal(existsSync(dir), false, "profile directory removed");
    await assert.rejects(page.title(), /closed/i, "the page is gone with the browser");
    await other.close(); // a second close is harmless
  });
});

for (const dialect of DIALECTS) {
  describe(`API server helper on ${dialect}`, () => {
    it("listens on loopback with auth on, creates users of each role, and signs a browser in with a session cookie", async () => {
      const server = await startApiServer({ dialect });
      const browser = await launchBrowser();
      try {
        assert.match(server.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
        const me = (token?: string) => fetch(`${server.baseUrl}/api/v1/auth/me`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        assert.equal((await me()).status, 401, "auth is on");
        for (const role of ["viewer", "operator", "admin"] as const) {
          const user = await server.createUser(role);
          const res = await me(user.token);
          assert.equal(res.status, 200);
          assert.deepEqual(((await res.json()) as { user: { username: string; role: string } }).user.role, role);
        }
        const ana = await server.createUser("operator", "ana", "ana's long password");

        const page = await browser.page();
        await page.goto(`${server.baseUrl}/api/v1/auth/me`);
        assert.match(await page.locator("body").innerText(), /UNAUTHENTICATED/, "the browser has no session yet");
        const csrf = await signInWithCookie(browser.context, server.baseUrl, ana.username, ana.password);
        assert.ok(csrf.length > 10);
        await page.goto(`${server.baseUrl}/api/v1/auth/me`);
        const body = JSON.parse(await page.locator("body").innerText()) as { user: { username: string; role: string }; csrfToken: string };
        assert.deepEqual([body.user.username, body.user.role, body.csrfToken], ["ana", "operator", csrf]);
        await assert.rejects(signInWithCookie(browser.context, server.baseUrl, "ana", "wrong password"), /answered 401/);
      } finally {
        await browser.close();
        await server.close();
      }
      await assert.rejects(fetch(`${server.baseUrl}/api/v1/health`), "the server stopped listening");
    });
  });
}
