/**
 * DAG files for the browser journey (ui.test.ts), written into a fresh
 * project next to copies of the hello and ml_features examples.
 *
 * Two tasks wait for a "gate" file that the test creates when it is ready to
 * watch: the test sees the task running in the grid first and only then lets
 * it finish, so "the cell turned green without a reload" cannot be satisfied
 * by a task that was already done when the page loaded.
 */
import { join } from "node:path";

export const TRAIN_DAG = "train_model";
export const REPORT_DAG = "nightly_report";
export const BROKEN_FILE = "broken_pipeline.ts";
/** Line of BROKEN_FILE that throws while the file is imported. */
export const BROKEN_LINE = 3;
export const BROKEN_MESSAGE = "broken_pipeline is broken on purpose";
/** What fetch_metrics throws on its first try, and what it logs on a later one. */
export const TRY1_ERROR = "warehouse query timed out after 30 s (simulated)";
export const TRY2_MARKER = "fetched 1204 metric rows";
/** The params schema's bounds, as the API's field message names them. */
export const EPOCHS_MAX = 50;

export interface Gates {
  dir: string;
  /** Lets wait_for_upload of this train_model run finish (one gate per run). */
  upload(runId: string): string;
  /** Lets nightly_report's fetch_metrics finish a try after the first. */
  retry: string;
}

/** A run id as a file name (run ids hold ":" and "+"); the fixture computes the same. */
const fileSafe = (runId: string) => runId.replace(/[^A-Za-z0-9_.-]/g, "_");

export function gatesIn(dir: string): Gates {
  return { dir, upload: (runId) => join(dir, `upload-${fileSafe(runId)}.ready`), retry: join(dir, "retry.ready") };
}

/** Polls for a file; the deadline keeps a forgotten gate from holding a task process for ever. */
const UNTIL = `const until = async (path: string, what: string) => {
  const deadline = Date.now() + 120_000;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(\`\${what} did not arrive within 120 s\`);
    await new Promise((r) => setTimeout(r, 100));
  }
};`;

/** File name -> text of each fixture DAG file. */
export function journeyDags(gates: Gates): Record<string, string> {
  return {
    "train_model.ts": `import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { dag } from "sluice";

${UNTIL}

export default dag(
  {
    id: "${TRAIN_DAG}",
    description: "Train the churn model once the day's upload has landed",
    schedule: null,
    tags: ["ml", "churn"],
    owner: "ml-platform",
    docs: "# train_model\\nWaits for the upload, trains a model with the given **params**, publishes it.",
    params: z.object({
      epochs: z.number().int().min(1).max(${EPOCHS_MAX}).default(10).describe("Training epochs"),
      model: z.enum(["linear", "tree", "boosted"]).default("linear").describe("Model family"),
    }),
  },
  (d) => {
    const upload = d.task("wait_for_upload", async (ctx) => {
      ctx.log.info("waiting for the upload");
      await until(join(${JSON.stringify(gates.dir)}, \`upload-\${ctx.runId.replace(/[^A-Za-z0-9_.-]/g, "_")}.ready\`), "the upload");
      ctx.log.info("the upload has landed", { rows: 1204 });
      return { rows: 1204 };
    });
    const train = d.task(
      "train",
      async (ctx) => {
        ctx.log.info("training", { epochs: ctx.params.epochs, model: ctx.params.model });
        return { model: ctx.params.model, epochs: ctx.params.epochs, auc: 0.91 };
      },
      { upstream: [upload] },
    );
    d.task("publish", async (ctx) => \`published the \${ctx.params.model} model\`, { upstream: [train] });
  },
);
`,
    "nightly_report.ts": `import { existsSync } from "node:fs";
import { dag } from "sluice";

${UNTIL}

export default dag(
  { id: "${REPORT_DAG}", description: "Fetch yesterday's metrics and render the report", schedule: null, tags: ["reporting"], owner: "analytics", retries: 0 },
  (d) => {
    // Fails on its first try (no retries), so only a user's clear runs it again.
    const fetch = d.task("fetch_metrics", async (ctx) => {
      ctx.log.info("querying the warehouse", { try: ctx.tryNumber });
      if (ctx.tryNumber === 1) throw new Error(${JSON.stringify(TRY1_ERROR)});
      await until(${JSON.stringify(gates.retry)}, "the warehouse answer");
      ctx.log.info(${JSON.stringify(TRY2_MARKER)}, { try: ctx.tryNumber });
      return { rows: 1204 };
    });
    d.task("render_report", async () => "report.html", { upstream: [fetch] });
  },
);
`,
    [BROKEN_FILE]: `import { dag } from "sluice";
// The next line throws while the file is imported.
throw new Error(${JSON.stringify(BROKEN_MESSAGE)});
export default dag({ id: "never_declared", schedule: null }, () => {});
`,
  };
}
