import { readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag, dataset, Skip } from "sluice";

/**
 * Scheduled on a dataset, not a clock: it runs each time ml_features'
 * "transform" task publishes new features (an event on this URI), once per
 * batch of updates. The URI is the one ml_features declares as an outlet.
 */
const FEATURES = dataset("sluice://examples/ml_features/features");

/** Where ml_features writes each run's files (see its "extract" task). */
const OUTPUT_ROOT = join(tmpdir(), "sluice-examples", "ml_features");

type ColumnStats = { column: string; mean: number; std: number; min: number; max: number };

export default dag(
  {
    id: "features_report",
    description: "Summarise the newest feature set each time ml_features publishes one",
    schedule: [FEATURES],
    tags: ["ml", "example"],
    owner: "ml-platform",
    maxActiveRuns: 1,
  },
  (d) => {
    const latest = d.task(
      "find_latest",
      async (ctx) => {
        const runs = await readdir(OUTPUT_ROOT).catch(() => [] as string[]);
        const files = await Promise.all(
          runs.map(async (run) => {
            const path = join(OUTPUT_ROOT, run, "features.csv");
            const s = await stat(path).catch(() => null);
            return s ? { path, modified: s.mtimeMs } : null;
          }),
        );
        const newest = files.filter((f): f is { path: string; modified: number } => f !== null).sort((a, b) => b.modified - a.modified)[0];
        // Triggered by hand before ml_features ever ran: nothing to report, and that is not a failure.
        if (!newest) throw new Skip(`no features file under ${OUTPUT_ROOT} yet; run ml_features first`);
        ctx.log.info("newest features", newest);
        return { path: newest.path, modified: new Date(newest.modified).toISOString() };
      },
      { inlets: [FEATURES] },
    );

    d.task(
      "summarise",
      async (ctx, { file }) => {
        const [header, ...lines] = (await readFile(file.path, "utf8")).trim().split("\n");
        const columns = header.split(",");
        const values = lines.map((l) => l.split(",").map(Number));
        const stats: ColumnStats[] = columns.map((column, i) => {
          const col = values.map((v) => v[i]);
          const mean = col.reduce((s, v) => s + v, 0) / col.length;
          const std = Math.sqrt(col.reduce((s, v) => s + (v - mean) ** 2, 0) / col.length);
          const r = (v: number) => Number(v.toFixed(4));
          return { column, mean: r(mean), std: r(std), min: r(col.reduce((m, v) => Math.min(m, v), Infinity)), max: r(col.reduce((m, v) => Math.max(m, v), -Infinity)) };
        });
        ctx.log.info("feature summary", { rows: values.length, file: file.path });
        // An array of objects: the UI shows the result as a table.
        return stats;
      },
      { inputs: { file: latest } },
    );
  },
);
