/**
 * Set-up shared by the task API tests: a store with one DAG (from a real DAG
 * file, so `sluice task run --remote` can load it from a dags folder) and a
 * run, the API server on 127.0.0.1, and attempt tokens signed with its key.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AttemptTokens } from "../../src/auth/attemptToken.js";
import { dagVersionHash } from "../../src/core/dagSpec.js";
import { loadDagFile } from "../../src/parser/loadDagFile.js";
import { triggerRun } from "../../src/runs/createRun.js";
import type { TaskInstanceTable } from "../../src/store/schema.js";
import type { Store } from "../../src/store/store.js";
import { makeProject, type Project } from "../e2e/helpers.js";

/**
 * produce -> consume (consume logs and returns what it got); flaky fails on
 * try 1 and succeeds after (retries: 1, no delay); hold writes "<dir>/started-<try>"
 * then waits for "<dir>/go" (what the lost-connection and kill -9 tests control).
 */
export const DAG_SOURCE = `
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dag } from "sluice";
const dir = process.env.REMOTE_TEST_DIR ?? "/nonexistent";
export default dag({ id: "remote", schedule: null }, (d) => {
  const produce = d.task("produce", async () => ({ n: 41 }));
  d.task("consume", async (ctx, { produce: p }) => {
    ctx.log.info("consume got", { p });
    console.log("plain stdout line from the task");
    return { n: p.n + 1, try: ctx.tryNumber };
  }, { upstream: [produce] });
  d.task("flaky", async (ctx) => {
    if (ctx.tryNumber === 1) throw new Error("flaky fails on its first try");
    return "ok on try " + ctx.tryNumber;
  }, { retries: 1, retryDelay: 0 });
  d.task("hold", async (ctx) => {
    writeFileSync(join(dir, "started-" + ctx.tryNumber), String(process.pid));
    while (!existsSync(join(dir, "go"))) await new Promise((r) => setTimeout(r, 20));
    ctx.log.info("hold released");
    return "held";
  }, { retries: 1, retryDelay: 0 });
});
`;

export interface Fixture {
  project: Project;
  runPk: number;
  runId: string;
}

/** A project folder with the DAG file, the DAG stored, and one run with every instance "none". */
export async function seedDag(store: Store, runId = "r1"): Promise<Fixture> {
  const project = makeProject();
  writeFileSync(join(project.dags, "remote.ts"), DAG_SOURCE);
  const [d] = await loadDagFile(join(project.dags, "remote.ts"));
  const spec = d.toSpec("remote.ts");
  await store.dags.upsert(spec, dagVersionHash(spec), Date.now(), false);
  const run = await triggerRun(store, "remote", { runId });
  await store.runs.setState(run.id, ["queued"], { state: "running", start_date: Date.now() });
  return { project, runPk: run.id, runId };
}

/** Put an instance in a state directly (set-up, not what is under test); returns its id. */
export async function setTi(store: Store, runId: string, taskId: string, patch: Partial<Omit<TaskInstanceTable, "id">>): Promise<number> {
  const ti = (await store.tasks.byKey("remote", runId, taskId))!;
  await store.db.updateTable("task_instance").set(patch).where("id", "=", ti.id).execute();
  return ti.id;
}

export function tokensFor(home: string): AttemptTokens {
  return new AttemptTokens({ home, api: { taskTokenKey: undefined } });
}
