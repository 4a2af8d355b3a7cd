import type { Command } from "commander";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import type { TaskState } from "../../core/states.js";
import { dagSpecOf } from "../../store/dagQueries.js";
import { loadDagFile } from "../../parser/loadDagFile.js";
import { executeAttempt } from "../../runner/executeAttempt.js";
import { clearTasks } from "../../runs/clearTasks.js";
import { rerunOnLatest } from "../../runs/rerunOnLatest.js";
import type { Store } from "../../store/store.js";
import { HttpBackend } from "../../runner/httpBackend.js";
import { globals, resolveConfig, withStore, type GlobalOptions } from "../context.js";
import { duration, iso, print, table } from "../format.js";

async function findRun(store: Store, dagId: string, runId: string) {
  const run = await store.runs.get(dagId, runId);
  if (!run) throw new SluiceError(ErrorCode.RunNotFound, `DAG "${dagId}" has no run "${runId}". \`sluice runs list --dag ${dagId}\` lists its runs.`);
  return run;
}

/** --map-index as a number (-1 when absent: an unmapped task). */
function mapIndexOpt(value: string | undefined): number {
  if (value === undefined) return -1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new SluiceError(ErrorCode.Usage, `--map-index must be an integer >= 0, got "${value}".`);
  return n;
}

/** One instance of a task of a run; the error says how to address a mapped task. */
async function findInstance(store: Store, runPk: number, dagId: string, runId: string, taskId: string, mapIndex: number) {
  const ti = await store.tasks.byKey(dagId, runId, taskId, mapIndex);
  if (ti) return ti;
  const counts = await store.mapped.stateCounts(runPk, taskId);
  const n = Object.values(counts).reduce((a, b) => a + b, 0);
  if (n > 0) throw new SluiceError(ErrorCode.TaskNotFound, `Task "${taskId}" is mapped with ${n} instances: pass --map-index 0..${n - 1}.`);
  if (mapIndex >= 0 && (await store.tasks.byKey(dagId, runId, taskId))) throw new SluiceError(ErrorCode.TaskNotFound, `Task "${taskId}" is not mapped: leave out --map-index.`);
  throw new SluiceError(ErrorCode.TaskNotFound, `Run "${runId}" has no task "${taskId}".`);
}

/** Rows of `tasks list`: one per instance, or a mapped task's instances folded into one row with counts by state. */
function listRows(tis: Awaited<ReturnType<Store["tasks"]["forRun"]>>, expand: boolean) {
  const rows: Record<string, unknown>[] = [];
  const folded = new Map<string, Record<string, unknown> & { counts: Map<string, number> }>();
  for (const t of tis) {
    if (t.map_index >= 0 && !expand) {
      let row = folded.get(t.task_id);
      if (!row) {
        row = { task: t.task_id, map: "", state: "", try: "", max_tries: "", started: "", duration: "", host: "", pid: "", counts: new Map() };
        folded.set(t.task_id, row);
        rows.push(row);
      }
      row.counts.set(t.state, (row.counts.get(t.state) ?? 0) + 1);
      continue;
    }
    rows.push({ task: t.task_id, map: t.map_index >= 0 ? t.map_index : "", state: t.state, try: t.try_number, max_tries: t.max_tries, started: iso(t.start_date), duration: duration(t.duration_ms), host: t.hostname, pid: t.pid });
  }
  for (const row of folded.values()) {
    const n = [...row.counts.values()].reduce((a, b) => a + b, 0);
    row.map = `${n} mapped`;
    row.state = [...row.counts].map(([s, c]) => `${s} ${c}`).join(", ");
  }
  return rows.map(({ counts: _c, ...r }) => r);
}

export function registerTasks(program: Command): void {
  const tasks = program.command("tasks").alias("task").description("Task instances: list, logs, clear, run one attempt");

  tasks
    .command("list <dagId> <runId>")
    .description("Task instances of a run (a mapped task's instances folded into one line with counts by state)")
    .option("--expand", "one line per mapped instance")
    .addHelpText("after", "\nExample:\n  $ sluice tasks list hello manual__2026-01-01T00:00:00.000Z --json")
    .action(async (dagId: string, runId: string, opts: { expand?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await findRun(store, dagId, runId);
        const tis = (await store.tasks.forRun(run.id)).sort((a, b) => a.id - b.id || a.map_index - b.map_index);
        print(!!g.json, tis, () => table(listRows(tis, !!opts.expand)));
      });
    });

  tasks
    .command("result <dagId> <runId> <taskId>")
    .description("Print the JSON result of a task instance (a mapped task: one instance with --map-index)")
    .option("--map-index <n>", "map index of a mapped task's instance")
    .addHelpText("after", "\nExample:\n  $ sluice tasks result ml_pipeline manual__2026-01-01T00:00:00.000Z clean --map-index 3")
    .action(async (dagId: string, runId: string, taskId: string, opts: { mapIndex?: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await findRun(store, dagId, runId);
        const ti = await findInstance(store, run.id, dagId, run.run_id, taskId, mapIndexOpt(opts.mapIndex));
        if (ti.state !== "success") throw new SluiceError(ErrorCode.TaskNotFound, `Task "${taskId}" has no result: it is ${ti.state}. A result is stored when a try succeeds.`);
        const value = ti.result === null ? null : (JSON.parse(ti.result) as unknown);
        print(!!g.json, value, () => JSON.stringify(value, null, 2));
      });
    });

  tasks
    .command("logs <dagId> <runId> <taskId>")
    .description("Print the log of one try (default: the latest)")
    .option("--try <n>", "try number")
    .option("--map-index <n>", "map index of a mapped task's instance")
    .addHelpText("after", "\nExample:\n  $ sluice tasks logs flaky manual__2026-01-01T00:00:00.000Z call_api --try 1")
    .action(async (dagId: string, runId: string, taskId: string, opts: { try?: string; mapIndex?: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await findRun(store, dagId, runId);
        const ti = await findInstance(store, run.id, dagId, run.run_id, taskId, mapIndexOpt(opts.mapIndex));
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
    .option("--map-index <n>", "only this instance of the given mapped task(s)")
    .option("--latest", "rerun on latest: first move the run to the DAG's current version and git commit (a run otherwise keeps the commit it was created on)")
    .addHelpText("after", "\nExamples:\n  $ sluice tasks clear etl scheduled__2026-01-01T00:00:00.000Z --failed\n  $ sluice tasks clear etl manual__2026-01-01T00:00:00.000Z --failed --latest   # after pushing a fix")
    .action(async (dagId: string, runId: string, opts: { task?: string[]; downstream?: boolean; failed?: boolean; mapIndex?: string; latest?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await findRun(store, dagId, runId);
        const clearOpts = {
          taskIds: opts.task,
          mapIndex: opts.mapIndex === undefined ? undefined : mapIndexOpt(opts.mapIndex),
          downstream: opts.downstream,
          onlyStates: opts.failed ? (["failed", "upstream_failed"] as TaskState[]) : undefined,
        };
        if (opts.latest) {
          const r = await rerunOnLatest(store, run, clearOpts);
          const cleared = [...new Set(r.cleared.map((c) => c.taskId))];
          const at = `version ${r.versionHash.slice(0, 12)}${r.bundleVersion ? `, commit ${r.bundleVersion.slice(0, 12)}` : ""}`;
          print(!!g.json, { cleared, versionHash: r.versionHash, bundleVersion: r.bundleVersion, moved: r.moved }, () =>
            `${r.moved ? `Moved the run to ${at}.` : `The run already is on the latest code (${at}).`} ` +
            (cleared.length ? `Cleared ${cleared.length} task instance(s): ${cleared.join(", ")}` : "Nothing to clear."),
          );
          return;
        }
        const spec = await store.dags.versionSpec(dagId, run.version_hash);
        if (!spec) throw new SluiceError(ErrorCode.DagNotFound, `The DAG version ${run.version_hash} of this run is not stored.`);
        const cleared = await clearTasks(store, run, spec, clearOpts);
        print(!!g.json, { cleared }, () => (cleared.length ? `Cleared ${cleared.length} task instance(s): ${cleared.join(", ")}` : "Nothing to clear."));
      });
    });

  tasks
    .command("run")
    .description("Run exactly one attempt of one task instance in this process (the entrypoint executors launch)")
    .option("--dag <dagId>")
    .option("--run <runId>")
    .option("--task <taskId>")
    .option("--try <n>", "the try the scheduler queued; without it, a new try is started by hand")
    .option("--map-index <n>", "map index of a mapped task's instance")
    .option("--remote <apiUrl>", "run the attempt named by --token through the task API at this URL, without database access (env SLUICE_API_URL)")
    .option("--token <token>", "the attempt token for --remote (env SLUICE_TASK_TOKEN)")
    .addHelpText(
      "after",
      "\nExamples:\n  $ sluice tasks run --dag hello --run manual__2026-01-01T00:00:00.000Z --task greet\n  $ sluice task run --remote http://sluice-api:8080 --token \"$SLUICE_TASK_TOKEN\"",
    )
    .action(async (opts: { dag?: string; run?: string; task?: string; try?: string; mapIndex?: string; remote?: string; token?: string }, cmd: Command) => {
      const g = globals(cmd);
      const remote = opts.remote ?? (opts.dag === undefined ? process.env.SLUICE_API_URL : undefined);
      if (remote !== undefined) return runRemote(g, remote, opts.token);
      if (opts.dag === undefined || opts.run === undefined || opts.task === undefined) {
        throw new SluiceError(ErrorCode.Usage, "Pass --dag, --run and --task (or --remote <api-url> with --token to run an attempt through the task API).");
      }
      const o = { ...opts, dag: opts.dag, run: opts.run, task: opts.task };
      await withStore(g, async (store, config) => {
        const opts = o;
        const run = await findRun(store, opts.dag, opts.run);
        const ti = await store.tasks.byKey(opts.dag, run.run_id, opts.task, mapIndexOpt(opts.mapIndex));
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
          { store, dagsFolder: config.dagsFolder, bundles: { home: config.home, list: config.bundles }, maxResultBytes: config.tasks.maxResultBytes, heartbeatIntervalMs: config.scheduler.heartbeatIntervalMs, secrets: { home: config.home, secrets: config.secrets }, loadDag: (p) => loadDagFile(p) },
          ti.id,
          tryNumber,
        );
        const after = await store.tasks.get(ti.id);
        print(!!g.json, after, () => `${opts.dag}.${opts.task} try ${tryNumber}: ${report.state ?? "not run (claimed elsewhere)"}${after?.error ? `\n${after.error}` : ""}`);
        if (report.state !== "success" && report.state !== "skipped") process.exitCode = 1;
      });
    });
}

/**
 * `sluice task run --remote`: one attempt through the task API with an
 * attempt token, no database configuration (what a Kubernetes pod runs). The
 * DAG files come from the local dags folder; the limits from the server.
 */
async function runRemote(g: GlobalOptions, apiUrl: string, tokenOpt: string | undefined): Promise<void> {
  const token = tokenOpt ?? process.env.SLUICE_TASK_TOKEN;
  // Not config keys; and the task's code (and the shell commands it starts) must not inherit the token.
  delete process.env.SLUICE_TASK_TOKEN;
  delete process.env.SLUICE_API_URL;
  if (!token) throw new SluiceError(ErrorCode.Usage, "--remote needs the attempt token: pass --token <token> or set SLUICE_TASK_TOKEN.");
  const config = await resolveConfig(g);
  const backend = new HttpBackend({ apiUrl, token, onRetry: (what, err) => process.stderr.write(`sluice: task API ${what} failed (${(err as Error).message}); retrying\n`) });
  const { tiId, tryNumber } = backend.attempt;
  const ctx = await backend.remoteContext();
  const report = await executeAttempt(
    { backend, dagsFolder: config.dagsFolder, bundles: { home: config.home, list: config.bundles }, maxResultBytes: ctx.limits.maxResultBytes, heartbeatIntervalMs: ctx.limits.heartbeatIntervalMs, loadDag: (p) => loadDagFile(p) },
    tiId,
    tryNumber,
  );
  const what = `${ctx.ti.dag_id}.${ctx.ti.task_id}${ctx.ti.map_index >= 0 ? `[${ctx.ti.map_index}]` : ""} try ${tryNumber}`;
  print(!!g.json, { tiId, tryNumber, state: report.state }, () => `${what}: ${report.state ?? "not run (claimed or finished elsewhere)"}`);
  if (report.state !== "success" && report.state !== "skipped") process.exitCode = 1;
}
