/**
 * Resolve the config once: defaults < config file < SLUICE_* env < overrides.
 * env and cwd are arguments (never process.env) so tests and embedders control
 * them. Every problem is collected and reported together with where the bad
 * value came from, because fixing config one error per run is miserable.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { suggestion } from "../core/didYouMean.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import {
  configLeaves,
  expectation,
  keysAt,
  schemaAt,
  sqlitePathOf,
  SluiceConfigSchema,
  type ConfigOverrides,
  type SluiceConfig,
} from "./config.js";

export { describeConfig, maskSecrets, resolveDbUrl } from "./config.js";
export type { ConfigRow, DbTarget } from "./config.js";

/** Looked for in cwd, in this order, when no configPath is given. */
export const CONFIG_FILE_NAMES = ["sluice.config.json", "sluice.config.ts", "sluice.config.mjs", "sluice.config.js"];
/** SLUICE_* variables with these prefixes belong to someone else (tests) and are not config. */
export const IGNORED_ENV_PREFIXES = ["SLUICE_TEST_"];
/** Short env names kept for convenience; every leaf also has a generic SLUICE_<SECTION>__<KEY> name. */
const ENV_ALIASES: Record<string, string> = { SLUICE_DB_URL: "db.url" };
const OVERRIDES = "overrides";

export interface LoadConfigOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Explicit config file (relative to cwd); it is an error if it does not exist. */
  configPath?: string;
  /** Applied last, e.g. CLI flags; undefined values are ignored. */
  overrides?: ConfigOverrides;
}

export interface LoadedConfig {
  config: SluiceConfig;
  /** Where values came from, lowest precedence first: "defaults", the file path, env var names, "overrides". */
  sources: string[];
}

interface Origin {
  source: string;
  /** Relative paths from this source are resolved against it. */
  baseDir: string;
}
interface Problem {
  key: string;
  message: string;
  source: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const cwd = path.resolve(opts.cwd);
  const raw: Obj = {};
  // Dotted key -> the source that last set it (objects and leaves), for error messages and path bases.
  const origins = new Map<string, Origin>();
  const sources = ["defaults"];
  const problems: Problem[] = [];

  /** The object at keyPath, created as needed. */
  const objectAt = (keyPath: string[]): Obj => {
    let target = raw;
    keyPath.forEach((seg, i) => {
      const here = target[seg];
      if (here !== undefined && !isObj(here)) {
        // A value written earlier where a section belongs would otherwise vanish silently.
        const key = keyPath.slice(0, i + 1).join(".");
        problems.push({ key, message: `expected an object, got ${show(here)}`, source: origins.get(key)?.source ?? "defaults" });
      }
      if (!isObj(here)) target[seg] = {};
      target = target[seg] as Obj;
    });
    return target;
  };
  /** Deep-assign value at keyPath, recording the origin of every key it sets. */
  const set = (keyPath: string[], value: unknown, origin: Origin): void => {
    if (value === undefined) return;
    const key = keyPath.join(".");
    if (isObj(value)) {
      objectAt(keyPath);
      if (keyPath.length > 0) origins.set(key, origin);
      for (const [k, v] of Object.entries(value)) set([...keyPath, k], v, origin);
      return;
    }
    objectAt(keyPath.slice(0, -1))[keyPath[keyPath.length - 1]] = value;
    // A leaf replacing an object: forget what was recorded beneath it.
    for (const k of origins.keys()) if (k.startsWith(`${key}.`)) origins.delete(k);
    origins.set(key, origin);
  };

  const file = findConfigFile(cwd, opts.configPath);
  if (file) {
    set([], await readConfigFile(file, cwd, opts.env), { source: file, baseDir: path.dirname(file) });
    sources.push(file);
  }

  for (const [name, value] of envEntries(opts.env)) {
    const key = envKeys().get(name);
    if (!key) {
      const hint = suggestion(name, envKeys().keys());
      problems.push({ key: name, message: `not a known setting${hint}`, source: "environment" });
      continue;
    }
    set(key.split("."), coerceEnv(value, schemaAt(key.split("."))), { source: name, baseDir: cwd });
    sources.push(name);
  }

  if (opts.overrides && Object.values(opts.overrides).some((v) => v !== undefined)) {
    set([], opts.overrides, { source: OVERRIDES, baseDir: cwd });
    sources.push(OVERRIDES);
  }

  const originOf = (keyPath: string[]): Origin => {
    for (let n = keyPath.length; n > 0; n--) {
      const o = origins.get(keyPath.slice(0, n).join("."));
      if (o) return o;
    }
    return { source: "defaults", baseDir: cwd };
  };

  const result = SluiceConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const at = issue.path.map(String);
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) {
          const full = [...at, k];
          problems.push({ key: full.join("."), message: `unknown key${unknownKeyHint(at, k)}`, source: originOf(full).source });
        }
        continue;
      }
      const message =
        issue.code === "custom"
          ? issue.message
          : `expected ${expectation(schemaAt(at))}, got ${show(valueAt(raw, at))}`;
      problems.push({ key: at.join(".") || "(root)", message, source: originOf(at).source });
    }
  }
  if (problems.length > 0) throw configError(problems);

  const config = result.data!;
  // Relative paths mean "relative to where they were written": the config file's folder, else cwd.
  config.home = path.resolve(originOf(["home"]).baseDir, config.home);
  config.dagsFolder = path.resolve(originOf(["dagsFolder"]).baseDir, config.dagsFolder);
  if (config.db.url !== undefined) config.db.url = absoluteDbUrl(config.db.url, originOf(["db", "url"]).baseDir);
  return { config, sources };
}

// ---- config file ----

function findConfigFile(cwd: string, configPath: string | undefined): string | undefined {
  if (configPath !== undefined) {
    const file = path.resolve(cwd, configPath);
    if (!existsSync(file)) throw new SluiceError(ErrorCode.ConfigInvalid, `Config file not found: ${file}`);
    return file;
  }
  return CONFIG_FILE_NAMES.map((n) => path.join(cwd, n)).find((f) => existsSync(f));
}

async function readConfigFile(file: string, cwd: string, env: LoadConfigOptions["env"]): Promise<Obj> {
  let value: unknown;
  if (file.endsWith(".json")) {
    const text = (await readFile(file, "utf8")).replace(/^\uFEFF/, "");
    try {
      value = JSON.parse(text);
    } catch (err) {
      const { line, column } = lineColumn(text, jsonErrorOffset(text));
      throw new SluiceError(
        ErrorCode.ConfigInvalid,
        `Invalid JSON in config file ${file} at line ${line}, column ${column}: ${(err as Error).message}`,
        { cause: err, location: { file, line, column } },
      );
    }
  } else {
    let mod: Obj;
    try {
      const url = pathToFileURL(file).href;
      // tsx is only loaded when a TS config exists; it is heavy for plain startups.
      mod = file.endsWith(".ts") ? await (await import("tsx/esm/api")).tsImport(url, import.meta.url) : await import(url);
    } catch (err) {
      throw new SluiceError(ErrorCode.ConfigInvalid, `Could not load config file ${file}: ${(err as Error)?.message ?? err}`, {
        cause: err,
        location: { file },
      });
    }
    value = mod.default;
    // A TS/JS file compiled as CommonJS arrives as { default: { __esModule, default } }.
    if (isObj(value) && value.__esModule && "default" in value) value = value.default;
    if (typeof value === "function") value = await value({ cwd, env });
  }
  if (!isObj(value)) {
    throw new SluiceError(
      ErrorCode.ConfigInvalid,
      `Config file ${file} must ${file.endsWith(".json") ? "contain" : "default-export"} an object${
        file.endsWith(".json") ? "" : " (or a function returning one)"
      }, got ${show(value)}.`,
      { location: { file } },
    );
  }
  return value;
}

/** Offset of the first JSON syntax error (V8's messages do not always include one). */
function jsonErrorOffset(s: string): number {
  let i = 0;
  const ws = () => {
    while (i < s.length && " \t\n\r".includes(s[i])) i++;
  };
  const expect = (c: string) => {
    if (s[i] !== c) throw i;
    i++;
  };
  const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const str = () => {
    expect('"');
    while (s[i] !== '"') {
      if (i >= s.length || s[i] < " ") throw i;
      i += s[i] === "\\" ? 2 : 1;
    }
    i++;
  };
  const value = (): void => {
    ws();
    if (s[i] === "{" || s[i] === "[") {
      const close = s[i] === "{" ? "}" : "]";
      i++;
      ws();
      if (s[i] === close) return void i++;
      for (;;) {
        if (close === "}") {
          ws();
          str();
          ws();
          expect(":");
        }
        value();
        ws();
        if (s[i] === ",") i++;
        else return expect(close);
      }
    }
    if (s[i] === '"') return str();
    literal.lastIndex = i;
    if (!literal.test(s)) throw i;
    i = literal.lastIndex;
  };
  try {
    value();
    ws();
    return i < s.length ? i : s.length;
  } catch (at) {
    if (typeof at === "number") return Math.min(at, s.length);
    throw at;
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

// ---- environment ----

/** "scheduler.loopIntervalMs" -> "SLUICE_SCHEDULER__LOOP_INTERVAL_MS". */
export function envNameFor(key: string): string {
  return `SLUICE_${key.split(".").map((seg) => seg.replace(/([A-Z])/g, "_$1").toUpperCase()).join("__")}`;
}

let envKeyCache: Map<string, string> | undefined;
/** Env var name -> dotted key, for every leaf plus the short aliases. */
function envKeys(): Map<string, string> {
  envKeyCache ??= new Map([...configLeaves().map((l) => [envNameFor(l.key), l.key] as const), ...Object.entries(ENV_ALIASES)]);
  return envKeyCache;
}

/** SLUICE_* entries that are config, sorted so results do not depend on env order. Empty means unset. */
function envEntries(env: LoadConfigOptions["env"]): [string, string][] {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[0].startsWith("SLUICE_") && typeof e[1] === "string" && e[1] !== "")
    .filter(([name]) => !IGNORED_ENV_PREFIXES.some((p) => name.startsWith(p)))
    .sort(([a], [b]) => a.localeCompare(b));
}

/** Env values are strings; convert only when the target is numeric/boolean and the text really is one. */
function coerceEnv(value: string, schema: unknown): unknown {
  const t = value.trim();
  if (schema && (schema as { type?: string }).type === "number" && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (schema && (schema as { type?: string }).type === "boolean" && /^(true|false|1|0)$/i.test(t)) return /^(true|1)$/i.test(t);
  // Lists: JSON ("[{…}]", needed for lists of objects like bundles) or comma-separated strings ("default,highmem").
  if (schema && (schema as { type?: string }).type === "array") {
    if (t.startsWith("[")) {
      try {
        return JSON.parse(t);
      } catch {
        return value; // the schema reports the bad value with the variable's name
      }
    }
    return t === "" ? [] : t.split(",").map((x) => x.trim());
  }
  return value;
}

// ---- errors and paths ----

/** Suggest a sibling key, or the full key when a nested option was written at the wrong level. */
function unknownKeyHint(at: string[], key: string): string {
  const sibling = suggestion(key, keysAt(at));
  if (sibling) return sibling;
  const elsewhere = configLeaves().find((l) => l.key.split(".").pop() === key);
  return elsewhere ? ` — did you mean "${elsewhere.key}"?` : "";
}

function valueAt(obj: unknown, keyPath: string[]): unknown {
  return keyPath.reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), obj);
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "function") return "a function";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function configError(problems: Problem[]): SluiceError {
  const lines = problems.map((p) => `  - ${p.key}: ${p.message} (from ${p.source})`);
  return new SluiceError(
    ErrorCode.ConfigInvalid,
    `Invalid Sluice configuration:\n${lines.join("\n")}\n` +
      "Fix each value where it comes from (config file, SLUICE_* environment variable or command-line flag); " +
      "run `sluice config show` to list every option with its default and meaning.",
    { details: { problems } },
  );
}

/** Make a sqlite path absolute (keeping its "sqlite:" form); postgres URLs and :memory: are left alone. */
function absoluteDbUrl(url: string, baseDir: string): string {
  if (/^postgres(ql)?:\/\//i.test(url)) return url;
  const file = sqlitePathOf(url);
  if (file === ":memory:" || file === "") return url;
  const abs = path.resolve(baseDir, file);
  return /^sqlite:/i.test(url) ? `sqlite:${abs}` : abs;
}
