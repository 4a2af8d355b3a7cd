/**
 * Browser tests and the grid benchmark: Debian's Chromium driven by
 * playwright-core (never a downloaded browser: scripts/ensureChromium.mjs),
 * a real API server on a loopback port serving the built UI, and small
 * helpers for screenshots, accessibility checks (axe-core) and signing in.
 *
 *   const server = await startApiServer({ dialect });
 *   const admin = await server.createUser("admin");
 *   const browser = await launchBrowser();
 *   const page = await browser.page();
 *   await signIn(page, server.baseUrl, admin.username, admin.password);
 *   …
 *   await browser.close();
 *   await server.close();
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pino from "pino";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { createApiServer } from "../../src/api/server.js";
import type { ApiApp } from "../../src/api/types.js";
import type { Role } from "../../src/auth/roles.js";
import { createToken, createUser } from "../../src/auth/users.js";
import { defaultConfig, type SluiceConfig } from "../../src/config/config.js";
import type { Store } from "../../src/store/store.js";
import { waitFor } from "../e2e/helpers.js";
import { freshStore, type TestDialect } from "./db.js";

/** The repository root (this file runs as dist/test/helpers/browser.js). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SCREENSHOT_DIR = join(REPO_ROOT, "test-artifacts", "screenshots");
/** dist/ui/index.html: present once the web UI has been built (`npm run build`). */
export const UI_INDEX = join(REPO_ROOT, "dist", "ui", "index.html");

// ---- Chromium ----

let chromiumPath: string | undefined;

/**
 * Debian's Chromium, installed with apt-get first when missing (as root).
 * scripts/test.mjs does this once and passes SLUICE_CHROMIUM to the tests;
 * the benchmark and a test run by hand come through here.
 */
export async function findChromium(): Promise<string> {
  if (chromiumPath) return chromiumPath;
  // A plain .mjs script shared with scripts/test.mjs, loaded at run time (it is not part of the TypeScript build).
  const mod = (await import(pathToFileURL(join(REPO_ROOT, "scripts", "ensureChromium.mjs")).href)) as { ensureChromium(): string };
  chromiumPath = mod.ensureChromium();
  return chromiumPath;
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export interface Browser {
  context: BrowserContext;
  /** The temporary Chromium profile; removed by close(). */
  userDataDir: string;
  /** The context's first tab (a persistent context opens with one). */
  page(): Promise<Page>;
  /** Close Chromium and remove its profile directory. */
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile in a temp directory, removed by close(). */
export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const executablePath = await findChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), "sluice-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1440, height: 900 },
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`Could not start Chromium (${executablePath}): ${(err as Error).message}`, { cause: err });
  }
  let closed = false;
  return {
    context,
    userDataDir,
    async page() {
      return context.pages()[0] ?? (await context.newPage());
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Save a full-page PNG to test-artifacts/screenshots/<name>.png (git-ignored) and return its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`screenshot name "${name}" must be letters, digits, "_", "-" or "." (it becomes a file name)`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// ---- accessibility ----

export interface AxeViolation {
  id: string;
  impact: "serious" | "critical";
  help: string;
  helpUrl: string;
  /** CSS selectors of the offending elements and axe's summary of what is wrong with each. */
  nodes: { target: string; summary: string }[];
}

export interface AxeReport {
  /** Violations of impact "serious" or "critical" only: the ones a test fails on. */
  violations: AxeViolation[];
  /** The violations as readable lines, for an assertion message. Empty when there are none. */
  text: string;
}

let axeSource: string | undefined;

/**
 * Run axe-core on the page as it is now and return its serious and critical
 * violations. `exclude` takes CSS selectors to skip (third-party widgets).
 *
 *   const a11y = await axe(page);
 *   assert.equal(a11y.violations.length, 0, a11y.text);
 */
export async function axe(page: Page, opts: { exclude?: string[] } = {}): Promise<AxeReport> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  // Evaluated as a script, not via addScriptTag: a page's Content-Security-Policy would block an inline <script>.
  const hasAxe = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === "object");
  if (!hasAxe) await page.evaluate(axeSource);
  const raw = (await page.evaluate(async (exclude: string[]) => {
    const a = (globalThis as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: any[] }> } }).axe;
    const context = exclude.length ? { include: [["html"]], exclude: exclude.map((s) => [s]) } : { include: [["html"]] };
    const r = await a.run(context, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n: { target: unknown[]; failureSummary?: string }) => ({ target: n.target.map(String).join(" "), summary: n.failureSummary ?? "" })),
    }));
  }, opts.exclude ?? [])) as (Omit<AxeViolation, "impact"> & { impact: string | null })[];
  const violations = raw.filter((v): v is AxeViolation => v.impact === "serious" || v.impact === "critical");
  const text = violations
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 5)
        .map((n) => `    - ${n.target}: ${n.summary.replace(/\s*\n\s*/g, " ")}`)
        .join("\n");
      const more = v.nodes.length > 5 ? `\n    … and ${v.nodes.length - 5} more` : "";
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}${more}`;
    })
    .join("\n");
  return { violations, text: violations.length ? `axe found ${violations.length} serious/critical violation(s) on ${page.url()}:\n${text}` : "" };
}

// ---- a real API server ----

export interface TestUser {
  username: string;
  password: string;
  role: Role;
  /** An API token for Authorization: Bearer. */
  token: string;
}

export interface RunningApi {
  /** e.g. "http://127.0.0.1:43123" (no trailing slash). */
  baseUrl: string;
  app: ApiApp;
  store: Store;
  config: SluiceConfig;
  /** A user with this role; username defaults to the role's name, password to a fixed test password. */
  createUser(role: Role, username?: string, password?: string): Promise<TestUser>;
  /** Stop listening; closes the store too when this helper opened it. */
  close(): Promise<void>;
}

export const TEST_PASSWORD = "correct horse battery staple";

/**
 * createApiServer() (which also serves the built UI from dist/ui) on a fresh
 * store of `dialect`, or on `store` (then the caller closes it), listening on
 * 127.0.0.1 on a free port, auth on.
 */
export async function startApiServer(opts: { dialect?: TestDialect; store?: Store; config?: (c: SluiceConfig) => void; onChange?: () => void }): Promise<RunningApi> {
  if (!opts.store && !opts.dialect) throw new Error("startApiServer: pass a dialect (fresh store) or a store");
  const ownStore = !opts.store;
  const store = opts.store ?? (await freshStore(opts.dialect!, "browser"));
  const config = defaultConfig();
  config.api.auth = true;
  opts.config?.(config);
  const app = createApiServer({ store, config, log: pino({ level: "silent" }), onChange: opts.onChange });
  try {
    await app.listen({ host: "127.0.0.1", port: 0 });
  } catch (err) {
    await app.close().catch(() => {});
    if (ownStore) await store.close();
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;
  let closed = false;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    app,
    store,
    config,
    async createUser(role, username = role, password = TEST_PASSWORD) {
      await createUser(store, { username, role, password });
      const { token } = await createToken(store, username, "browser-test");
      return { username, password, role, token };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await app.close();
      } finally {
        if (ownStore) await store.close();
      }
    },
  };
}

// ---- signing in ----

/**
 * Sign in through the UI's login page (labels "Username" and "Password",
 * button "Sign in") and wait until the DAG list shows (a DAG row, or the
 * list's empty state when `expectDags` is false). Fails with the page's error
 * message when the login is refused.
 */
export async function signIn(page: Page, baseUrl: string, username: string, password: string, opts: { expectDags?: boolean; timeoutMs?: number } = {}): Promise<void> {
  const timeout = opts.timeoutMs ?? 15_000;
  await page.goto(`${baseUrl}/`);
  await page.getByLabel("Username").fill(username, { timeout });
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const listed = opts.expectDags === false ? page.getByLabel("Password").waitFor({ state: "detached", timeout }) : page.locator('[data-testid^="dag-row-"]').first().waitFor({ state: "visible", timeout });
  const refused = page.getByRole("alert").first().waitFor({ state: "visible", timeout });
  const outcome = await Promise.race([listed.then(() => "ok" as const), refused.then(() => "alert" as const)]).catch((err: Error) => err);
  // Whichever lost the race is still waiting: let it end quietly.
  listed.catch(() => {});
  refused.catch(() => {});
  if (outcome === "ok") return;
  if (outcome === "alert" && (await page.getByLabel("Password").count()) > 0) {
    throw new Error(`sign-in as "${username}" failed: ${(await page.getByRole("alert").first().innerText()).trim()}`);
  }
  if (outcome === "alert") {
    // An alert outside the login form (e.g. an import-error banner) is no failure: wait for the list itself.
    await listed;
    return;
  }
  throw new Error(`sign-in as "${username}" did not reach the DAG list within ${timeout} ms (now at ${page.url()}): ${outcome.message}`);
}

/**
 * Sign in without the login page: POST /api/v1/auth/login and put the session
 * cookie into the browser context. For benchmarks and tests that are not about
 * the login page. Returns the CSRF token the session needs for writes.
 */
export async function signInWithCookie(context: BrowserContext, baseUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`POST /api/v1/auth/login as "${username}" answered ${res.status}: ${await res.text()}`);
  const cookie = res.headers.get("set-cookie") ?? "";
  const m = /^sluice_session=([^;]+)/.exec(cookie);
  if (!m) throw new Error(`login answered 200 without a sluice_session cookie (Set-Cookie: ${cookie || "none"})`);
  await context.addCookies([{ name: "sluice_session", value: m[1], url: baseUrl, httpOnly: true, sameSite: "Strict" }]);
  return ((await res.json()) as { csrfToken: string }).csrfToken;
}

/**
 * The step helpers of a browser journey against a `sluice standalone`:
 * `ui(what, p)` awaits a page step and, when it fails, takes a screenshot and
 * adds the standalone's output tail to the error; `until(what, check)` polls
 * with the same context. `page` and `output` are read when a step fails (the
 * page and the process are created in the suite's before()).
 */
export function journeySteps(o: {
  failureShot: string;
  page: () => Page;
  output: () => string;
  progressMs: number;
}) {
  const context = () => `--- standalone output (tail) ---\n${o.output().slice(-5000)}`;
  async function ui<T>(what: string, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      await screenshot(o.page(), o.failureShot).catch(() => {});
      throw new Error(`${what}: ${(err as Error).message}\n${context()}`, { cause: err });
    }
  }
  const until = <T>(what: string, check: () => Promise<T | undefined | false>) => waitFor(what, check, { timeoutMs: o.progressMs, intervalMs: 100, context });
  return { context, ui, until };
}
