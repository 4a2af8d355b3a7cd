/**
 * "Parsing 1,000 generated DAG files": a cold scan (fresh store, new parser
 * processes, files tsx has never transpiled) and a re-scan with nothing
 * changed (content hashes match: no file is imported again).
 *
 * The parser pool is wrapped to note when the last file finished importing,
 * which splits the cold scan into "import in child processes" and "write to
 * the store" without touching src/.
 */
import { join } from "node:path";
import { defaultConfig } from "../src/config/config.js";
import { DagProcessor } from "../src/parser/dagProcessor.js";
import { ParserPool, type ParseResult } from "../src/parser/parserPool.js";
import { openStore } from "../src/store/store.js";
import { freshDbUrl, median, min, round, type Benchmark } from "./common.js";
import { writeRealisticDags } from "./dagFiles.js";

const FILES = 1000;
const RESCANS = 5;

class TimedParserPool extends ParserPool {
  lastParseDone = 0;
  override async parse(absPath: string, dagsFolder: string, version: string): Promise<ParseResult> {
    const r = await super.parse(absPath, dagsFolder, version);
    this.lastParseDone = performance.now();
    return r;
  }
}

export const parse1000: Benchmark = {
  id: "parse1000",
  title: "Parsing 1,000 generated DAG files",
  async run(ctx) {
    const dir = ctx.scope.tempDir("parse1000");
    const dagsFolder = join(dir, "dags");
    writeRealisticDags(dagsFolder, FILES, { start: "2026-01-01" });
    const url = await freshDbUrl(ctx, dir, "parse1000");
    const store = await openStore(url.startsWith("postgres") ? { dialect: "postgres", url } : { dialect: "sqlite", path: url }, { migrate: true });
    ctx.scope.defer("close store", () => store.close());
    const cfg = defaultConfig();
    const pool = new TimedParserPool({ processes: cfg.parsing.processes, timeoutMs: cfg.parsing.timeoutMs });
    ctx.scope.defer("stop parser pool", () => pool.stop());
    const processor = new DagProcessor(store, pool, dagsFolder);

    const t0 = performance.now();
    const cold = await processor.scan();
    const coldMs = performance.now() - t0;
    const importMs = pool.lastParseDone - t0;
    if (cold.errors > 0) {
      const e = (await store.dags.importErrors())[0];
      throw new Error(`${cold.errors} generated DAG file(s) failed to import, e.g. ${e?.path}: ${e?.message}`);
    }
    if (cold.parsed !== FILES || cold.dags !== FILES) throw new Error(`cold scan parsed ${cold.parsed} files / ${cold.dags} DAGs, expected ${FILES}`);
    ctx.progress(`cold scan ${Math.round(coldMs)} ms (imports done after ${Math.round(importMs)} ms)`);

    const rescans: number[] = [];
    for (let i = 0; i < RESCANS; i++) {
      const t = performance.now();
      const s = await processor.scan();
      rescans.push(performance.now() - t);
      if (s.parsed !== 0 || s.unchanged !== FILES) throw new Error(`re-scan ${i + 1} parsed ${s.parsed} files (expected 0) and found ${s.unchanged} unchanged (expected ${FILES})`);
    }
    ctx.progress(`re-scans: ${rescans.map((x) => Math.round(x)).join(", ")} ms`);

    return {
      metrics: [
        { name: "cold scan", value: round(coldMs / 1000, 2), unit: "s", target: { op: "<=", value: 10 } },
        { name: "cold: imports (child processes)", value: round(importMs / 1000, 2), unit: "s", note: "part of the cold scan" },
        { name: "cold: store writes after imports", value: round((coldMs - importMs) / 1000, 2), unit: "s", note: "part of the cold scan" },
        { name: `re-scan, unchanged (median of ${RESCANS})`, value: round(median(rescans), 0), unit: "ms", target: { op: "<=", value: 1000 } },
        { name: `re-scan, unchanged (min of ${RESCANS})`, value: round(min(rescans), 0), unit: "ms" },
      ],
      samples: { coldMs: [round(coldMs, 1)], coldImportMs: [round(importMs, 1)], rescanMs: rescans.map((x) => round(x, 1)) },
      details: {
        workload: `${FILES} generated TypeScript DAG files in 10 folders, 5-10 tasks each (function tasks with typed inputs + a shell task), cron schedules`,
        measured: "DagProcessor.scan() with a ParserPool built from config defaults, on a fresh store; then scan() again with no file changed",
        parserProcesses: cfg.parsing.processes,
        tsxCache: "cold for the cold scan (each file carries a per-run nonce)",
      },
    };
  },
};
