import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for pools (being written). */
export function poolRoutes(_app: ApiApp, _deps: ApiDeps): void {}
