/**
 * Deepest nesting of arrays/objects in a parsed JSON value, walked with an
 * explicit stack: a body nested thousands of levels deep parses fine but
 * overflows the call stack of JSON.stringify and zod later, which would turn
 * user input into a 500. Stops counting past `limit`.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/** Nesting allowed in request bodies: far beyond any real conf or connection extra. */
export const MAX_BODY_DEPTH = 64;
