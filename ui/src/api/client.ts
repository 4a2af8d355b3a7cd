/**
 * The one way the UI talks to the API: same-origin fetch with the session
 * cookie, the CSRF token on writes, and every error turned into ApiError with
 * the server's `{ error: { code, message, details } }` so screens can show
 * the API's own message.
 */

export const API = "/api/v1";

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Field messages of a 400 (validation or params), keyed by field path. */
  get fields(): FieldError[] {
    const f = this.details?.fields;
    return Array.isArray(f) ? (f as FieldError[]).filter((x) => x && typeof x.field === "string") : [];
  }
}

let csrfToken: string | null = null;
/** Called with the token from login and /auth/me. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Listeners told when any request answers 401, so the shell can show the login page. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export function apiUrl(path: string, query?: Record<string, string | number | boolean | undefined | null>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
  const s = qs.toString();
  return `${API}${path}${s ? `?${s}` : ""}`;
}

/** Path segment: ids may hold ":" "+" "@" (run ids), which must not be read as URL syntax. */
export const seg = (s: string) => encodeURIComponent(s);

interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  /** Do not broadcast a 401 (the login form handles its own). */
  quiet401?: boolean;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(apiUrl(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "same-origin",
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK", "Cannot reach the Sluice API server. Is it running?");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, for instance: keep the status, say what came back.
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    const err = new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `${method} ${path} answered ${res.status} ${res.statusText}.`, e?.details);
    if (res.status === 401 && !opts.quiet401) for (const fn of unauthorizedListeners) fn();
    throw err;
  }
  return json as T;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
