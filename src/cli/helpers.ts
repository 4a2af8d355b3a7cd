import { ErrorCode, SluiceError } from "../core/errors.js";
import type { DagRunRow } from "../store/runQueries.js";
import type { Store } from "../store/store.js";

export function parseConf(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new SluiceError(ErrorCode.Usage, `--conf is not valid JSON (${(err as Error).message}). Example: --conf '{"rows": 1000}'`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new SluiceError(ErrorCode.Usage, `--conf must be a JSON object, like '{"rows": 1000}'.`);
  return v as Record<string, unknown>;
}

export function parseDate(text: string, flag: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new SluiceError(ErrorCode.Usage, `${flag} "${text}" is not a date; use ISO 8601, like 2026-01-31 or 2026-01-31T02:00:00Z.`);
  return d;
}

/** Poll until every run is finished (success/failed). */
export async function waitForRuns(store: Store, pks: number[], timeoutMs: number): Promise<DagRunRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await Promise.all(pks.map((pk) => store.runs.byPk(pk)));
    if (runs.every((r) => r && (r.state === "success" || r.state === "failed"))) return runs as DagRunRow[];
    if (Date.now() > deadline) {
      throw new SluiceError(ErrorCode.Usage, `Gave up waiting after ${Math.round(timeoutMs / 1000)} s; the run(s) are still going. Is a scheduler running (sluice scheduler / sluice standalone)?`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
