/**
 * SQL text the runtime writes around user SQL: quoted identifiers and string
 * literals, and the split of a script into statements (so setup statements
 * can run before the query whose result is written to Parquet).
 */

/** A double-quoted identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single-quoted string literal. */
export function str(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A DuckDB list of string literals: ['a', 'b']. */
export function strList(values: readonly string[]): string {
  return `[${values.map(str).join(", ")}]`;
}

/**
 * Split a script at top-level semicolons. Knows the places a semicolon does
 * not end a statement: '...' strings (with '' inside), "..." identifiers,
 * $tag$...$tag$ strings, -- line comments and nested block comments.
 * Statements that are only whitespace or comments are dropped.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let hasCode = false;
  let i = 0;
  const n = sql.length;
  const flush = (end: number) => {
    if (hasCode) out.push(sql.slice(start, end).trim());
    start = end + 1;
    hasCode = false;
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === "/" && sql[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (sql[i] === "*" && sql[i + 1] === "/") {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    if (c === "'" || c === '"') {
      hasCode = true;
      i++;
      while (i < n) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i++;
      continue;
    }
    if (c === "$") {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (m) {
        hasCode = true;
        const close = sql.indexOf(m[0], i + m[0].length);
        i = close < 0 ? n : close + m[0].length;
        continue;
      }
    }
    if (c === ";") {
      flush(i);
      i++;
      continue;
    }
    if (!/\s/.test(c)) hasCode = true;
    i++;
  }
  flush(n);
  return out;
}
