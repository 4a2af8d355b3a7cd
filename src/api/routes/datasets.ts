import type { ApiApp, ApiDeps } from "../types.js";

/** Routes for datasets (being written). */
export function datasetRoutes(_app: ApiApp, _deps: ApiDeps): void {}
