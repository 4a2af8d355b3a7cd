import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for grid (being written). */
export function gridRoutes(_app: ApiApp, _deps: ApiDeps): void {}
