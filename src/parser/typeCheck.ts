/**
 * Type-check DAG files (`sluice dags check --types`): the TypeScript
 * compiler over the given files, strict, `sluice` resolving to the running
 * Sluice's declarations (as the runtime resolve hook does for the code), so
 * a task reading a result as the wrong type, a misspelled option or a bad
 * param default fails CI before the code reaches the scheduler.
 *
 * TypeScript is not a runtime dependency of Sluice: it is looked up from the
 * DAG folder first (a DAG repository that type-checks has it), then next to
 * Sluice itself; missing, the error names the install command.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ErrorCode, SluiceError } from "../core/errors.js";

export interface TypeProblem {
  /** 1-based line of the first error in the file. */
  line: number;
  /** "TS2322: Type 'number' is not assignable to type 'string'." lines, in source order. */
  messages: string[];
}

type Ts = typeof import("typescript");

const SDK_TYPES = fileURLToPath(new URL("../index.d.ts", import.meta.url));
const SDK_PARAMS_TYPES = fileURLToPath(new URL("../sdk/params.d.ts", import.meta.url));

/** Resolve `id` from the DAG folder, else from Sluice's own install; undefined when neither has it. */
function resolveFrom(dagsFolder: string, id: string): string | undefined {
  for (const base of [join(dagsFolder, "noop.js"), fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(base).resolve(id);
    } catch {
      /* try the next place */
    }
  }
  return undefined;
}

async function loadTypescript(dagsFolder: string): Promise<Ts> {
  const path = resolveFrom(dagsFolder, "typescript");
  if (!path) {
    throw new SluiceError(
      ErrorCode.Usage,
      `--types needs the typescript package, found neither in ${dagsFolder} nor next to Sluice; add it to the DAG repository: npm install --save-dev typescript`,
    );
  }
  const mod = (await import(pathToFileURL(path).href)) as Ts & { default?: Ts };
  return mod.default ?? mod;
}

/** Problems by file (absolute path; DAG files and the helper modules they import); files without errors are absent. */
export async function typeCheckDagFiles(dagsFolder: string, files: readonly string[]): Promise<Map<string, TypeProblem>> {
  const ts = await loadTypescript(dagsFolder);
  const nodeTypes = resolveFrom(dagsFolder, "@types/node/package.json");
  const options: import("typescript").CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    // Bundler resolution accepts the import styles the runtime loader does: "./lib/x", "./lib/x.js", "./lib/x.ts".
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    allowJs: true,
    lib: ["lib.es2023.d.ts"],
    types: nodeTypes ? ["node"] : [],
    typeRoots: nodeTypes ? [dirname(dirname(nodeTypes))] : [],
    skipLibCheck: true,
  };
  // A DAG's own `import { z } from "zod"` must be the zod the SDK's declarations use, or the types would differ.
  const zod = ts.resolveModuleName("zod", SDK_PARAMS_TYPES, options, ts.sys).resolvedModule;
  options.paths = { sluice: [SDK_TYPES], ...(zod ? { zod: [zod.resolvedFileName] } : {}) };
  const program = ts.createProgram([...files], options);
  const wanted = new Set(files);
  // Errors in the DAG files and in the helper modules of the DAG folder they import; not in installed packages.
  const ours = (f: string) => wanted.has(f) || (f.startsWith(join(dagsFolder, "/")) && !f.includes("/node_modules/"));
  const out = new Map<string, TypeProblem>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.category !== ts.DiagnosticCategory.Error || !d.file || !ours(d.file.fileName)) continue;
    const line = d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1;
    const text = `line ${line}: TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    const p = out.get(d.file.fileName);
    if (p) p.messages.push(text);
    else out.set(d.file.fileName, { line, messages: [text] });
  }
  return out;
}
