import type { Command } from "commander";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { isRunState, type RunState } from "../../core/states.js";
import { globals, withStore } from "../context.js";
import { duration, iso, print, table } from "../format.js";

export function registerRuns(program: Command): void {
  const runs = program.command("runs").description("Inspect DAG runs");

  runs
    .command("list")
    .description("List runs, newest first")
    .option("--dag <dagId>", "only this DAG")
    .option("--state <state>", "only runs in this state (queued, running, success, failed)")
    .option("--limit <n>", "at most this many", "50")
    .addHelpText("after", "\nExample:\n  $ sluice runs list --dag hello --state failed")
    .action(async (opts: { dag?: string; state?: string; limit: string }, cmd: Command) => {
      const g = globals(cmd);
      if (opts.state && !isRunState(opts.state)) throw new SluiceError(ErrorCode.Usage, `--state "${opts.state}" is not a run state; use queued, running, success or failed.`);
      await withStore(g, async (store) => {
        const rows = await store.runs.list({ dagId: opts.dag, states: opts.state ? [opts.state as RunState] : undefined, limit: Number(opts.limit) || 50 });
        print(!!g.json, rows, () =>
          table(
            rows.map((r) => ({
              dag_id: r.dag_id,
              run_id: r.run_id,
              type: r.run_type,
              state: r.state,
              logical_date: iso(r.logical_date),
              started: iso(r.start_date),
              duration: r.start_date ? duration((r.end_date ?? Date.now()) - r.start_date) : "",
            })),
          ),
        );
      });
    });

  runs
    .command("show <dagId> <runId>")
    .description("Show one run and its task instances")
    .addHelpText("after", "\nExample:\n  $ sluice runs show hello manual__2026-01-01T00:00:00.000Z")
    .action(async (dagId: string, runId: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const run = await store.runs.get(dagId, runId);
        if (!run) throw new SluiceError(ErrorCode.RunNotFound, `DAG "${dagId}" has no run "${runId}". \`sluice runs list --dag ${dagId}\` lists its runs.`);
        const tis = await store.tasks.forRun(run.id);
        print(!!g.json, { ...run, conf: JSON.parse(run.conf), params: JSON.parse(run.params), tasks: tis }, () =>
          [
            `Run ${run.run_id} of ${run.dag_id}: ${run.state.toUpperCase()} (${run.run_type}, version ${run.version_hash})`,
            `  logical date ${iso(run.logical_date)}; data interval ${iso(run.interval_start)} .. ${iso(run.interval_end)}`,
            `  started ${iso(run.start_date) || "-"}; ended ${iso(run.end_date) || "-"}${run.note ? `; ${run.note}` : ""}`,
            "",
            table(tis.map((t) => ({ task: t.task_id, state: t.state, try: t.try_number, duration: duration(t.duration_ms), result: t.result, error: t.error?.split("\n")[0] }))),
          ].join("\n"),
        );
      });
    });
}
