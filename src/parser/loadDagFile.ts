import { register } from "node:module";
import { relative } from "node:path";
import { pathToFileURL } from "node:url";
import { register as registerTsx } from "tsx/esm/api";
import type { DagSpec } from "../core/dagSpec.js";
import { coerceError, ErrorCode, SluiceError, type ErrorLocation } from "../core/errors.js";
import { collectDags, Dag } from "../sdk/dag.js";

let installed = false;

/** Install the TypeScript loader and the "sluice" resolver once per process. */
export function installDagLoader(): void {
  if (installed) return;
  installed = true;
  // Stack traces of DAG code point at TypeScript lines, not transpiled ones.
  process.setSourceMapsEnabled(true);
  register(new URL("./sluiceResolveHook.js", import.meta.url), {
    data: { sdkUrl: new URL("../index.js", import.meta.url).href },
  });
  registerTsx();
}

/**
 * Import one DAG file and return the DAGs it declares: every dag() call made
 * during the import, plus any Dag among its exports. `version` busts Node's
 * module cache so an edited file is really re-imported.
 */
export async function loadDagFile(absPath: string, version = ""): Promise<Dag[]> {
  installDagLoader();
  const url = pathToFileURL(absPath).href + (version ? `?v=${version}` : "");
  const { value, dags } = await collectDags(() => import(url) as Promise<Record<string, unknown>>);
  const found = new Set<Dag>(dags);
  for (const exp of Object.values(value ?? {})) if (Dag.is(exp)) found.add(exp);
  return [...found];
}

export interface ParsedFile {
  specs: DagSpec[];
}

export interface ParseFailure {
  /** The failure may not be the file's fault (timeout on a busy machine, parser crash): check it again next scan. */
  transient?: boolean;
  message: string;
  location?: ErrorLocation;
  stack?: string;
}

/** Load a file and serialize its DAGs, or describe why it could not be loaded. */
export async function parseDagFile(absPath: string, dagsFolder: string, version: string): Promise<{ ok: true; specs: DagSpec[] } | { ok: false; error: ParseFailure }> {
  const fileloc = relative(dagsFolder, absPath);
  try {
    const dags = await loadDagFile(absPath, version);
    const ids = new Set<string>();
    for (const d of dags) {
      if (ids.has(d.id)) throw new SluiceError(ErrorCode.DagDuplicate, `DAG id "${d.id}" is declared twice in ${fileloc}; DAG ids must be unique.`);
      ids.add(d.id);
    }
    return { ok: true, specs: dags.map((d) => d.toSpec(fileloc)) };
  } catch (thrown) {
    return { ok: false, error: describeImportFailure(thrown, absPath, fileloc) };
  }
}

/** Turn whatever an import threw into a message and a file:line location. */
export function describeImportFailure(thrown: unknown, absPath: string, fileloc: string): ParseFailure {
  const err = coerceError(thrown);
  if (err instanceof SluiceError && err.location) {
    return { message: err.message, location: { ...err.location, file: fileloc }, stack: err.stack };
  }
  // esbuild (via tsx) reports syntax errors as "<file>:<line>:<col>: ERROR: <text>".
  const esb = /:(\d+):(\d+): ERROR: ([^\n]*)/.exec(err.message);
  if (esb) {
    return { message: `${fileloc} does not compile: ${esb[3]} (line ${esb[1]}, column ${esb[2]})`, location: { file: fileloc, line: Number(esb[1]), column: Number(esb[2]) } };
  }
  const frame = err.stack?.split("\n").find((l) => l.includes(absPath));
  const m = frame && /:(\d+):(\d+)\)?\s*$/.exec(frame);
  const location: ErrorLocation = m ? { file: fileloc, line: Number(m[1]), column: Number(m[2]) } : { file: fileloc };
  const where = location.line ? `${fileloc}:${location.line}` : fileloc;
  const isSyntax = err.name === "SyntaxError";
  return {
    message: isSyntax ? `${where} does not compile: ${err.message}` : `${where} failed to import: ${err.name === "Error" ? "" : `${err.name}: `}${err.message}`,
    location,
    stack: err.stack,
  };
}
