import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for sources (being written). */
export function sourceRoutes(_app: ApiApp, _deps: ApiDeps): void {}
