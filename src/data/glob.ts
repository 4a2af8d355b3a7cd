/**
 * A small glob matcher (`*`, `?`, `**`) and the expansion of partition inputs
 * (a file, a directory or a glob) into a sorted list of files. Node 20 has no
 * fs.glob (22+), and the needs here are small enough not to add a package.
 */
import { readdir, stat } from "node:fs/promises";
import { isAbsolute, join, resolve, sep } from "node:path";
import { PartitionError } from "../core/partitions.js";

const GLOB_CHARS = /[*?]/;

/** True when the string contains a glob wildcard. */
export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

/**
 * Turn a glob over "/"-separated relative paths into a RegExp: `*` and `?` never
 * cross a "/", `**` matches any number of whole path segments (also none).
 */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        const atSegmentStart = i === 0 || pattern[i - 1] === "/";
        i++;
        if (atSegmentStart && pattern[i + 1] === "/") {
          i++;
          re += "(?:[^/]*/)*";
        } else {
          re += ".*";
        }
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") {
      re += "[^/]";
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const childRel = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(join(dir, e.name), childRel, out);
    else if (e.isFile()) out.push(childRel);
  }
}

/** Files matching a glob, sorted; the walk starts at the longest wildcard-free directory prefix. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const normalized = pattern.split(sep).join("/");
  const parts = normalized.split("/");
  const firstWild = parts.findIndex((p) => isGlob(p));
  const baseParts = parts.slice(0, firstWild);
  const base = baseParts.length === 0 ? "." : baseParts.join("/") || "/";
  const rest = parts.slice(firstWild).join("/");
  const matcher = globToRegExp(rest);
  const files: string[] = [];
  try {
    await walk(base, "", files);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return files
    .filter((f) => matcher.test(f))
    .map((f) => resolve(base, f))
    .sort();
}

/**
 * Expand inputs into files: a file stays itself, a directory gives its files
 * (not recursive) accepted by `accept`, a glob gives its matches. Missing
 * inputs and empty results are errors that name the input.
 */
export async function expandInputs(input: string | string[], accept: (path: string) => boolean): Promise<string[]> {
  const inputs = Array.isArray(input) ? input : [input];
  if (inputs.length === 0) throw new PartitionError("partition(): no input given; pass a file, a directory or a glob.");
  const out: string[] = [];
  for (const raw of inputs) {
    const abs = isAbsolute(raw) ? raw : resolve(raw);
    if (isGlob(raw)) {
      const matches = await expandGlob(abs);
      if (matches.length === 0) {
        throw new PartitionError(`partition(): the glob "${raw}" matches no file; check the pattern and the directory it starts from.`, { input: raw });
      }
      out.push(...matches);
      continue;
    }
    let st;
    try {
      st = await stat(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new PartitionError(`partition(): input "${abs}" does not exist; check the path (relative paths resolve against ${process.cwd()}).`, { input: raw });
      }
      throw err;
    }
    if (st.isDirectory()) {
      const names = (await readdir(abs, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(abs, e.name));
      const matches = names.filter(accept).sort();
      if (matches.length === 0) {
        throw new PartitionError(
          `partition(): directory "${abs}" holds no .csv, .tsv, .jsonl, .ndjson or .parquet file (subdirectories are not searched; use a glob such as "${abs}/**/*.csv").`,
          { input: raw },
        );
      }
      out.push(...matches);
    } else {
      out.push(abs);
    }
  }
  // Overlapping inputs (a file and a glob that also matches it) must not give its records twice.
  return [...new Set(out)];
}
