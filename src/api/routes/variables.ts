import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for variables (being written). */
export function variableRoutes(_app: ApiApp, _deps: ApiDeps): void {}
