/**
 * Dataset schedules: a DAG that runs when datasets update instead of on a
 * clock. The condition is a tree of URIs under "all" (every one must update)
 * and "any" (one is enough), stored as JSON in the DagSpec:
 *
 *   {"all":[{"uri":"s3://a"},{"any":[{"uri":"s3://b"},{"uri":"s3://c"}]}]}
 *
 * "Updated" means: at least one event was recorded for the URI since the
 * DAG's last dataset-triggered run (the store keeps that per DAG and URI in
 * dataset_dag_queue). Pure functions, no I/O.
 */
export type DatasetCondition = { uri: string } | { all: DatasetCondition[] } | { any: DatasetCondition[] };

/** Deepest nesting a stored condition may have: far beyond any hand-written one, and it bounds the recursion. */
export const MAX_CONDITION_DEPTH = 32;

function isLeaf(c: DatasetCondition): c is { uri: string } {
  return "uri" in c;
}

/** Every URI the condition mentions, once each, in order of first mention. */
export function conditionUris(c: DatasetCondition): string[] {
  const out = new Set<string>();
  const walk = (n: DatasetCondition): void => {
    if (isLeaf(n)) out.add(n.uri);
    else for (const child of "all" in n ? n.all : n.any) walk(child);
  };
  walk(c);
  return [...out];
}

/** Whether the DAG is due, given the URIs that updated since its last dataset-triggered run. */
export function evaluate(c: DatasetCondition, updatedUris: ReadonlySet<string>): boolean {
  if (isLeaf(c)) return updatedUris.has(c.uri);
  if ("all" in c) return c.all.every((child) => evaluate(child, updatedUris));
  return c.any.some((child) => evaluate(child, updatedUris));
}

/**
 * The same condition, simpler: a group nested in a group of its kind is
 * merged into it (all(a, all(b, c)) = all(a, b, c)), repeated members are
 * dropped, a group of one is that one. Equal conditions written differently
 * get the same spec, and so the same version hash and description.
 */
export function simplifyCondition(c: DatasetCondition): DatasetCondition {
  if (isLeaf(c)) return { uri: c.uri };
  const kind = "all" in c ? "all" : "any";
  const members: DatasetCondition[] = [];
  const seen = new Set<string>();
  const add = (m: DatasetCondition) => {
    // Each node has exactly one key, so JSON text is already canonical.
    const key = JSON.stringify(m);
    if (!seen.has(key)) {
      seen.add(key);
      members.push(m);
    }
  };
  for (const child of "all" in c ? c.all : c.any) {
    const s = simplifyCondition(child);
    if (kind in s) for (const m of (s as Record<string, DatasetCondition[]>)[kind]) add(m);
    else add(s);
  }
  if (members.length === 1) return members[0];
  return kind === "all" ? { all: members } : { any: members };
}

/** The condition as an expression: "s3://a and (s3://b or s3://c)". */
export function conditionText(c: DatasetCondition): string {
  const text = (n: DatasetCondition, nested: boolean): string => {
    if (isLeaf(n)) return n.uri;
    const [members, word] = "all" in n ? [n.all, " and "] : [n.any, " or "];
    const joined = members.map((m) => text(m, true)).join(word);
    return nested && members.length > 1 ? `(${joined})` : joined;
  };
  return text(c, false);
}

/** The condition in words: "when s3://a and (s3://b or s3://c) update". */
export function describeCondition(c: DatasetCondition): string {
  // "a and b update" but "a updates", "a or b updates": the verb follows the top of the tree.
  const plural = "all" in c && c.all.length > 1;
  return `when ${conditionText(c)} ${plural ? "update" : "updates"}`;
}

/**
 * Whether a stored value is a well-formed condition: leaves are non-empty
 * URI strings, groups non-empty arrays, no other keys, nesting bounded.
 * The SDK builds conditions that pass; this guards JSON read back from the
 * database or an older version.
 */
export function isDatasetCondition(value: unknown, depth = 0): value is DatasetCondition {
  if (depth > MAX_CONDITION_DEPTH || typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const v = (value as Record<string, unknown>)[keys[0]];
  if (keys[0] === "uri") return typeof v === "string" && v !== "";
  if (keys[0] !== "all" && keys[0] !== "any") return false;
  return Array.isArray(v) && v.length > 0 && v.every((m) => isDatasetCondition(m, depth + 1));
}
