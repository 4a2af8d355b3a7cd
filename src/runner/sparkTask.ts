import type { AttemptOutcome } from "./finishAttempt.js";
import type { CodeRunOptions } from "./codeRunOptions.js";

/** Run a Spark task's attempt (stub: implemented with the Spark runtime). */
export async function runSparkTask(o: CodeRunOptions, _inputs: Record<string, unknown>): Promise<AttemptOutcome> {
  return { kind: "failed", error: `Spark task "${o.def.spec.id}": not implemented yet.`, retryable: false };
}
