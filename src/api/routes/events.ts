import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for events (being written). */
export function eventRoutes(_app: ApiApp, _deps: ApiDeps): void {}
