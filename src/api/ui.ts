/**
 * Serves the web UI (the React single-page app built into dist/ui by
 * `npm run build`) at "/", next to the API under /api/v1.
 *
 * - Files under assets/ have content hashes in their names, so browsers may
 *   keep them for a year; index.html is revalidated on every load, so a new
 *   build is picked up at once.
 * - Any other GET outside /api/ that accepts text/html gets index.html: the
 *   SPA's router owns paths like /dags/etl/grid, and a reload there must work.
 * - The UI itself needs no auth (the auth hook guards /api/v1 only); the app
 *   shows its login page when /api/v1/auth/me answers 401.
 * - Without a build, "/" answers a short page saying how to make one, rather
 *   than a bare 404.
 */
import fastifyStatic from "@fastify/static";
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiApp } from "./types.js";

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

/**
 * The app loads nothing from other origins (fonts and icons are bundled), so
 * the page may only talk to this server: an injected script could not send
 * data elsewhere. Styles allow 'unsafe-inline' for libraries that set style
 * attributes; scripts do not.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.header("x-content-type-options", "nosniff").header("referrer-policy", "same-origin").header("x-frame-options", "DENY");
}

/**
 * dist/ui next to the compiled server (dist/src/api/ui.js -> dist/ui). Under
 * tsx the module is src/api/ui.ts, whose ../../ui is the UI's *source*
 * folder; the build output is then ../../dist/ui.
 */
export function defaultUiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const top = resolve(here, "../..");
  return basename(top) === "dist" ? join(top, "ui") : join(top, "dist", "ui");
}

const NO_BUILD_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice: web UI not built</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#17191c}code{background:#f0f2f5;padding:.1rem .3rem;border-radius:4px}</style></head>
<body><h1>The Sluice web UI is not built</h1>
<p>This server found no <code>dist/ui/index.html</code>. Run <code>npm run build</code> in the Sluice folder, then reload this page.</p>
<p>The REST API works without it: <a href="/api/v1/docs">/api/v1/docs</a>.</p></body></html>`;

function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? "";
  return accept.includes("text/html");
}

function isApiPath(url: string): boolean {
  return url === "/api" || url.startsWith("/api/") || url.startsWith("/api?");
}

/** A file of the build for this URL path, or null (never a path outside the build folder). */
function fileFor(root: string, urlPath: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath).replace(/^\/+/, "");
  } catch {
    return null;
  }
  if (rel === "" || rel.includes("\0")) return null;
  const full = normalize(join(root, rel));
  if (!full.startsWith(root + sep)) return null;
  try {
    return statSync(full).isFile() ? full.slice(root.length + 1) : null;
  } catch {
    return null;
  }
}

export interface UiOptions {
  /** Folder holding the built UI (default: dist/ui beside the compiled server). */
  dir?: string;
}

export function uiRoutes(app: ApiApp, opts: UiOptions = {}): void {
  const root = resolve(opts.dir ?? defaultUiDir());
  const built = existsSync(join(root, "index.html"));

  void app.register(async (ui) => {
    if (built) {
      // serve: false: only reply.sendFile; the route below decides what each path gets.
      await ui.register(fastifyStatic, { root, serve: false, cacheControl: false });
    }

    const sendIndex = (reply: FastifyReply) => {
      securityHeaders(reply).header("content-security-policy", UI_CSP).header("cache-control", REVALIDATE);
      return built ? reply.sendFile("index.html") : reply.code(200).type("text/html; charset=utf-8").send(NO_BUILD_PAGE);
    };

    ui.get("/", { schema: { hide: true } }, async (_req, reply) => sendIndex(reply));

    ui.get("/*", { schema: { hide: true } }, async (req, reply) => {
      const path = req.url.split("?")[0];
      // Unknown API paths keep their JSON 404 from the API's not-found handler.
      if (isApiPath(path)) return reply.callNotFound();
      const file = built ? fileFor(root, path) : null;
      if (file === "index.html") return sendIndex(reply);
      if (file) {
        const hashed = file.startsWith(`assets${sep}`);
        return securityHeaders(reply)
          .header("cache-control", hashed ? IMMUTABLE : "public, max-age=3600")
          .sendFile(file);
      }
      if (wantsHtml(req)) return sendIndex(reply);
      return reply.callNotFound();
    });
  });
}
