import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for connections (being written). */
export function connectionRoutes(_app: ApiApp, _deps: ApiDeps): void {}
