import type { AttemptOutcome } from "./finishAttempt.js";
import type { CodeRunOptions } from "./codeRunOptions.js";

/** Run a DuckDB task's attempt (stub: implemented with the DuckDB runtime). */
export async function runDuckdbTask(o: CodeRunOptions, _inputs: Record<string, unknown>): Promise<AttemptOutcome> {
  return { kind: "failed", error: `DuckDB task "${o.def.spec.id}": not implemented yet.`, retryable: false };
}
