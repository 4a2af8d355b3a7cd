import { ErrorCode, SluiceError, type ErrorLocation } from "./errors.js";
import { suggestion } from "./didYouMean.js";

interface Node {
  id: string;
  upstream: readonly string[];
}

/**
 * Find a dependency cycle and return it as a path that starts and ends on the
 * same task (`a -> b -> a`), or undefined. Iterative DFS: DAGs with thousands
 * of tasks must not blow the stack.
 */
export function findCycle(tasks: readonly Node[]): string[] | undefined {
  const up = new Map(tasks.map((t) => [t.id, t.upstream]));
  const color = new Map<string, 0 | 1 | 2>(); // 0 new, 1 on stack, 2 done
  for (const root of tasks) {
    if (color.get(root.id)) continue;
    const stack: { id: string; i: number }[] = [{ id: root.id, i: 0 }];
    color.set(root.id, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const deps = up.get(top.id) ?? [];
      if (top.i >= deps.length) {
        color.set(top.id, 2);
        stack.pop();
        continue;
      }
      const next = deps[top.i++];
      const c = color.get(next) ?? 0;
      if (c === 1) {
        // The cycle is the part of the stack from `next` to the top. Edges in the
        // stack go downstream -> upstream, so reverse it to read in run order.
        const start = stack.findIndex((f) => f.id === next);
        const path = stack.slice(start).map((f) => f.id).reverse();
        return [...path, path[0]];
      }
      if (c === 0 && up.has(next)) {
        color.set(next, 1);
        stack.push({ id: next, i: 0 });
      }
    }
  }
  return undefined;
}

/**
 * Structural checks of a DAG: unknown upstream references (with a suggestion)
 * and cycles. Throws a SluiceError naming the DAG, the file and the fix.
 */
export function validateDagStructure(dagId: string, tasks: readonly Node[], where?: ErrorLocation): void {
  const ids = new Set(tasks.map((t) => t.id));
  const file = where?.file ? ` (${where.file})` : "";
  for (const t of tasks) {
    for (const u of t.upstream) {
      if (u === t.id) {
        throw new SluiceError(ErrorCode.DagCycle, `DAG "${dagId}"${file}: task "${t.id}" depends on itself.`, { location: where });
      }
      if (!ids.has(u)) {
        throw new SluiceError(
          ErrorCode.DagUnknownTask,
          `DAG "${dagId}"${file}: task "${t.id}" depends on "${u}", which does not exist${suggestion(u, ids)}`,
          { location: where, details: { task: t.id, missing: u } },
        );
      }
    }
  }
  const cycle = findCycle(tasks);
  if (cycle) {
    throw new SluiceError(ErrorCode.DagCycle, `DAG "${dagId}"${file} has a dependency cycle: ${cycle.join(" -> ")}. Remove one of these dependencies.`, {
      location: where,
      details: { cycle },
    });
  }
}

// --- dataset URIs ---

/** Longest dataset URI accepted (it is a primary-key column and shown in the UI). */
export const MAX_DATASET_URI_LENGTH = 1000;
/** Largest JSON a task may attach to one dataset event (ctx.outletExtra): metadata, not data. */
export const MAX_DATASET_EXTRA_BYTES = 16_384;

const URI_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/;

/**
 * Check a dataset URI and normalise it (the scheme is case-insensitive, so it
 * is lower-cased; the rest is kept as written). Returns the problem in words
 * when it is not acceptable, for the caller to wrap with the DAG and task.
 */
export function checkDatasetUri(uri: unknown): { ok: true; uri: string } | { ok: false; problem: string } {
  const bad = (problem: string) => ({ ok: false as const, problem });
  if (typeof uri !== "string") return bad(`must be a URI string like "s3://bucket/path", got ${uri === null ? "null" : typeof uri}`);
  if (uri.length > MAX_DATASET_URI_LENGTH) return bad(`is ${uri.length} characters long; dataset URIs are limited to ${MAX_DATASET_URI_LENGTH}`);
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return bad("contains whitespace or a control character; percent-encode it (a space is %20)");
  const m = URI_RE.exec(uri);
  if (!m) return bad('has no scheme: write it as scheme://location, e.g. "s3://bucket/key", "file:///data/x.parquet", "postgres://host/db/table" or "sluice://team/name"');
  const [, scheme, rest] = m;
  if (rest === "") return bad(`has nothing after "${scheme}://"; name the location, e.g. "${scheme.toLowerCase()}://bucket/path"`);
  // URIs are stored in the database and shown to every viewer: no passwords in them.
  const authority = rest.split(/[/?#]/, 1)[0];
  const at = authority.lastIndexOf("@");
  if (at >= 0 && authority.slice(0, at).includes(":")) {
    return bad("contains a password (user:password@host); dataset URIs are stored and shown in the UI, so leave the credentials out");
  }
  return { ok: true, uri: `${scheme.toLowerCase()}://${rest}` };
}
