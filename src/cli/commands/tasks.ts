import type { Command } from "commander";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import type { TaskState } from "../../core/states.js";
import { dagSpecOf } from "../../store/dagQueries.js";
import { loadDagFile } from "../../parser/loadDagFile.js";
import { executeAttempt } from "../../runner/executeAttempt.js";
import { clearTasks } from "../../runs/clearTasks.js";
import type { Store } from "../../store/store.js";
import { globals, withStore } from "../context.js";
import { duration, iso, print, table } from "../format.js";

async function findRun(store: Store, dagId: string, runId: string) {
  const run = await store.runs.get(dagId, runId);
  if (!run) throw new SluiceError(ErrorCode.RunNotFound, `DAG "${dagId}" has no run "${runId}". \`sluice runs list --dag ${dagId}\` lists its runs.`);
  return run;
}

export function registerTasks(program: Command): void {
  const tasks = program.command("tasks").alias("task").description("Task instances: list, logs, clear, run one attempt");

  tasks
    .command("list <dagId> <runId>")
    .description("Task instances of a run")
    .addHelpText("after", "\nExample:\n  $ sluice tasks list hello manual__2026-01-01T00:00:00.000Z --json")
    .action(async (dagId: string, runId: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await findRun(store, dagId, runId);
        const tis = await store.tasks.forRun(run.id);
        print(!!g.json, tis, () =>
          table(tis.map((t) => ({ task: t.task_id, state: t.state, try: t.try_number, max_tries: t.max_tries, started: iso(t.start_date), duration: duration(t.duration_ms), host: t.hostname, pid: t.pid }))),
        );
      });
    });

  tasks
    .command("logs <dagId> <runId> <taskId>")
    .description("Print the log of one try (default: the latest)")
    .option("--try <n>", "try number")
    .addHelpText("after", "\nExample:\n  $ sluice tasks logs flaky manual__2026-01-01T00:00:00.000Z call_api --try 1")
    .action(async (dagId: string, runId: string, taskId: string, opts: { try?: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await findRun(store, dagId, runId);
        const ti = await store.tasks.byKey(dagId, run.run_id, taskId);
        if (!ti) throw new SluiceError(ErrorCode.TaskNotFound, `Run "${runId}" has no task "${taskId}".`);
        const tryNumber = opts.try ? Number(opts.try) : ti.try_number;
        if (!Number.isInteger(tryNumber) || tryNumber < 1 || tryNumber > ti.try_number) {
          throw new SluiceError(ErrorCode.Usage, `--try must be between 1 and ${ti.try_number} (the tries this task has had).`);
        }
        const lines = await store.logs.read(ti.id, tryNumber, { limit: 1_000_000 });
        print(!!g.json, lines, () => lines.map((l) => `${iso(l.ts)} ${l.stream.padEnd(6)} ${l.line}`).join("\n") || "(no log lines)");
      });
    });

  tasks
    .command("clear <dagId> <runId>")
    .description("Clear task instances so they run again (all, some, or only failed ones)")
    .option("--task <taskId...>", "only these tasks")
    .option("--downstream", "also clear everything downstream of them")
    .option("--failed", "only failed and upstream_failed instances")
    .addHelpText("after", "\nExample:\n  $ sluice tasks clear etl scheduled__2026-01-01T00:00:00.000Z --failed")
    .action(async (dagId: string, runId: string, opts: { task?: string[]; downstream?: boolean; failed?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await findRun(store, dagId, runId);
        const spec = await store.dags.versionSpec(dagId, run.version_hash);
        if (!spec) throw new SluiceError(ErrorCode.DagNotFound, `The DAG version ${run.version_hash} of this run is not stored.`);
        const cleared = await clearTasks(store, run, spec, {
          taskIds: opts.task,
          downstream: opts.downstream,
          onlyStates: opts.failed ? ["failed", "upstream_failed"] : undefined,
        });
        print(!!g.json, { cleared }, () => (cleared.length ? `Cleared ${cleared.length} task instance(s): ${cleared.join(", ")}` : "Nothing to clear."));
      });
    });

  tasks
    .command("run")
    .description("Run exactly one attempt of one task instance in this process (the entrypoint executors launch)")
    .requiredOption("--dag <dagId>")
    .requiredOption("--run <runId>")
    .requiredOption("--task <taskId>")
    .option("--try <n>", "the try the scheduler queued; without it, a new try is started by hand")
    .addHelpText("after", "\nExample:\n  $ sluice tasks run --dag hello --run manual__2026-01-01T00:00:00.000Z --task greet")
    .action(async (opts: { dag: string; run: string; task: string; try?: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store, config) => {
        const run = await findRun(store, opts.dag, opts.run);
        const ti = await store.tasks.byKey(opts.dag, run.run_id, opts.task);
        if (!ti) {
          const dag = await store.dags.get(opts.dag);
          const ids = dag ? dagSpecOf(dag).tasks.map((t) => t.id) : [];
          const { suggestion } = await import("../../core/didYouMean.js");
          throw new SluiceError(ErrorCode.TaskNotFound, `Run "${opts.run}" has no task "${opts.task}"${suggestion(opts.task, ids)}`);
        }
        let tryNumber: number;
        if (opts.try) {
          tryNumber = Number(opts.try);
          if (ti.state !== "queued" || ti.try_number !== tryNumber) {
            throw new SluiceError(ErrorCode.StateConflict, `Task "${opts.task}" is ${ti.state} on try ${ti.try_number}, not queued on try ${tryNumber}: another process already ran or claimed it.`);
          }
        } else {
          if (ti.state === "running" || ti.state === "queued") throw new SluiceError(ErrorCode.StateConflict, `Task "${opts.task}" is ${ti.state}; it is already being run.`);
          tryNumber = ti.try_number + 1;
          const ok = await store.tasks.cas(ti.id, [ti.state as TaskState], { state: "queued", try_number: tryNumber, max_tries: Math.max(ti.max_tries, tryNumber), queued_at: Date.now(), updated_at: Date.now() }, ti.try_number);
          if (!ok) throw new SluiceError(ErrorCode.StateConflict, `Task "${opts.task}" changed state while starting; try again.`);
        }
        const report = await executeAttempt(
          { store, dagsFolder: config.dagsFolder, maxResultBytes: config.tasks.maxResultBytes, heartbeatIntervalMs: config.scheduler.heartbeatIntervalMs, secrets: { home: config.home, secrets: config.secrets }, loadDag: (p) => loadDagFile(p) },
          ti.id,
          tryNumber,
        );
        const after = await store.tasks.get(ti.id);
        print(!!g.json, after, () => `${opts.dag}.${opts.task} try ${tryNumber}: ${report.state ?? "not run (claimed elsewhere)"}${after?.error ? `\n${after.error}` : ""}`);
        if (report.state !== "success" && report.state !== "skipped") process.exitCode = 1;
      });
    });
}
