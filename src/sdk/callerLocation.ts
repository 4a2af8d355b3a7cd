import { fileURLToPath } from "node:url";
import type { ErrorLocation } from "../core/errors.js";

const SDK_DIR = fileURLToPath(new URL(".", import.meta.url));

/**
 * Where user code called into the SDK: the first stack frame outside this
 * folder. Used to point DAG errors at the line that declared the DAG.
 */
export function callerLocation(): ErrorLocation | undefined {
  const stack = new Error().stack?.split("\n").slice(1) ?? [];
  for (const frame of stack) {
    const m = /\(?((?:file:\/\/)?\/[^():]+(?:\?[^():]*)?):(\d+):(\d+)\)?\s*$/.exec(frame);
    if (!m) continue;
    let file = m[1].replace(/\?.*$/, "");
    if (file.startsWith("file://")) file = fileURLToPath(file);
    if (file.startsWith(SDK_DIR) || file.includes("/node_modules/")) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}
