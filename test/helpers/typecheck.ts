/**
 * Type-check DAG files the way a user's project compiles them: ESM (NodeNext),
 * strict, `sluice` resolving to the built SDK's declarations. Used by the tests
 * that prove a mistake is a compile error.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url)); // dist/test/helpers -> repo root
export const SDK_TYPES = join(REPO, "dist", "src", "index.d.ts");

export interface FileDiagnostics {
  /** 1-based lines with an error, ascending. */
  lines: number[];
  messages: string[];
}

export interface TypecheckResult {
  /** The temp folder holding the fixtures (the caller removes it). */
  dir: string;
  byName: Map<string, FileDiagnostics>;
}

/**
 * Write `fixtures` (name -> source) into a fresh ESM project folder, add the
 * `extra` files (name -> existing path) and compile them together. Errors
 * outside these files (a broken SDK .d.ts, a module that does not resolve)
 * fail the assertion here.
 */
export function typecheckFixtures(fixtures: Record<string, string>, extra: Record<string, string> = {}): TypecheckResult {
  const dir = mkdtempSync(join(tmpdir(), "sluice-types-"));
  // A DAG project is ESM, like the SDK: without this, NodeNext would treat the fixtures as CommonJS.
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  const files = new Map<string, string>();
  for (const [name, text] of Object.entries(fixtures)) {
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, text);
    files.set(name, file);
  }
  for (const [name, file] of Object.entries(extra)) files.set(name, file);

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2023.d.ts"],
    types: ["node"],
    typeRoots: [join(REPO, "node_modules", "@types")],
    skipLibCheck: true,
  };
  // The fixtures' own `import "zod"` must resolve to the very declarations the
  // SDK's .d.ts files use, or the zod types would not be the same types.
  const zod = ts.resolveModuleName("zod", join(REPO, "dist", "src", "sdk", "params.d.ts"), options, ts.sys).resolvedModule;
  assert.ok(zod, "zod's types resolve from the built SDK");
  options.paths = { sluice: [SDK_TYPES], zod: [zod.resolvedFileName] };
  const program = ts.createProgram([...files.values()], options);
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);

  const byName = new Map<string, FileDiagnostics>();
  for (const [name, file] of files) {
    const mine = errors.filter((d) => d.file?.fileName === file);
    byName.set(name, {
      lines: [...new Set(mine.map((d) => d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1))].sort((a, b) => a - b),
      messages: mine.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
    });
  }
  const elsewhere = errors.filter((d) => ![...files.values()].includes(d.file?.fileName ?? ""));
  assert.deepEqual(elsewhere.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")), []);
  return { dir, byName };
}
