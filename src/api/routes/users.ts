import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for users (being written). */
export function userRoutes(_app: ApiApp, _deps: ApiDeps): void {}
