import { writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { conditionText } from "../../core/datasetSchedule.js";
import { describeSchedule, parseSchedule } from "../../core/schedule.js";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { dagSpecOf } from "../../store/dagQueries.js";
import { listDagFiles } from "../../parser/dagProcessor.js";
import { typeCheckDagFiles } from "../../parser/typeCheck.js";
import { ParserPool } from "../../parser/parserPool.js";
import { backfill, triggerRun } from "../../runs/createRun.js";
import { globals, resolveConfig, scanDags, withStore } from "../context.js";
import { iso, print, table } from "../format.js";
import { parseConf, parseDate, waitForRuns } from "../helpers.js";
import { testDag } from "../dagTest.js";

function scheduleWords(schedule: string | null, tz: string): string {
  try {
    return describeSchedule(parseSchedule(schedule, tz));
  } catch {
    return String(schedule);
  }
}

export function registerDags(program: Command): void {
  const dags = program.command("dags").description("List, check, trigger and test DAGs");

  dags
    .command("list")
    .description("List DAGs (the DAG folder is scanned first; unchanged files are not re-parsed)")
    .option("--no-scan", "show what the database knows without scanning the folder")
    .addHelpText("after", "\nExample:\n  $ sluice dags list --json")
    .action(async (opts: { scan: boolean }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store, config) => {
        if (opts.scan) await scanDags(store, config);
        const rows = await store.dags.list({ activeOnly: true });
        const errors = await store.dags.importErrors();
        const onDatasets = await store.datasets.schedulesOf(rows.map((r) => r.dag_id));
        const words = (dagId: string, schedule: string | null, timezone: string) => {
          const c = onDatasets.get(dagId);
          return c ? `on datasets: ${conditionText(c)}` : scheduleWords(schedule, timezone);
        };
        const data = rows.map((r) => ({
          dag_id: r.dag_id,
          file: r.fileloc,
          schedule: r.schedule,
          next_run: r.next_interval_end ? iso(r.next_interval_end) : null,
          paused: !!r.is_paused,
          owner: r.owner,
          tags: JSON.parse(r.tags) as string[],
          version: r.version_hash,
        }));
        print(!!g.json, { dags: data, importErrors: errors }, () => {
          let out = table(data.map((d) => ({ ...d, schedule: words(d.dag_id, d.schedule, rows.find((r) => r.dag_id === d.dag_id)!.timezone), tags: d.tags.join(",") })), ["dag_id", "file", "schedule", "paused", "owner", "tags"]);
          if (errors.length) out += `\n\n${errors.length} file(s) with import errors:\n${errors.map((e) => `  ${e.path}${e.line ? `:${e.line}` : ""}: ${e.message}`).join("\n")}`;
          return out;
        });
      });
    });

  dags
    .command("show <dagId>")
    .description("Show one DAG: schedule, options and tasks")
    .addHelpText("after", "\nExample:\n  $ sluice dags show hello")
    .action(async (dagId: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store, config) => {
        await scanDags(store, config);
        const row = await store.dags.get(dagId);
        if (!row) throw new SluiceError(ErrorCode.DagNotFound, `No DAG "${dagId}". \`sluice dags list\` shows the known DAGs.`);
        const spec = dagSpecOf(row);
        print(!!g.json, { ...spec, paused: !!row.is_paused, active: !!row.is_active, version: row.version_hash }, () =>
          [
            `DAG ${spec.id}  (${spec.fileloc}, version ${row.version_hash}${row.is_paused ? ", PAUSED" : ""}${row.is_active ? "" : ", INACTIVE"})`,
            spec.description ? `  ${spec.description}` : "",
            `  schedule: ${spec.datasetSchedule ? `on datasets: ${conditionText(spec.datasetSchedule)}` : scheduleWords(spec.schedule, spec.timezone)}; catchup ${spec.catchup}; max active runs ${spec.maxActiveRuns}; max active tasks ${spec.maxActiveTasks}`,
            spec.owner ? `  owner: ${spec.owner}` : "",
            spec.tags.length ? `  tags: ${spec.tags.join(", ")}` : "",
            Object.keys(spec.params).length ? `  params: ${JSON.stringify(spec.params)}` : "",
            "",
            table(
              spec.tasks.map((t) => ({ task: t.id, kind: t.kind, mapped: t.expand ? `over ${t.expand.from}` : "", upstream: t.upstream.join(","), rule: t.triggerRule, retries: t.retries, pool: t.pool, priority: t.priorityWeight })),
            ),
          ]
            .filter((l) => l !== "")
            .join("\n"),
        );
      });
    });

  dags
    .command("check")
    .description("Import every DAG file and report problems (for CI): exit code 1 if any file fails")
    .option("--junit <file>", "also write a JUnit XML report")
    .option("--types", "also type-check the DAG files with TypeScript (strict; needs the typescript package in the DAG repository)")
    .addHelpText("after", "\nExample:\n  $ sluice dags check --dags ./dags --types --junit dag-report.xml")
    .action(async (opts: { junit?: string; types?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const config = await resolveConfig(g);
      const files = await listDagFiles(config.dagsFolder);
      const pool = new ParserPool({ processes: config.parsing.processes, timeoutMs: config.parsing.timeoutMs });
      const results = await Promise.all(
        files.map(async (f) => {
          const t0 = performance.now();
          const r = await pool.parse(f, config.dagsFolder, String(Date.now()));
          return { file: relative(config.dagsFolder, f), ms: Math.round(performance.now() - t0), r };
        }),
      ).finally(() => pool.stop());
      const ids = new Map<string, string>();
      const report = results.map(({ file, ms, r }) => {
        if (!r.ok) return { file, ms, ok: false, dags: [] as string[], error: r.error.message, line: r.error.location?.line };
        for (const s of r.specs) {
          if (ids.has(s.id)) return { file, ms, ok: false, dags: [], error: `DAG id "${s.id}" is also declared in ${ids.get(s.id)}.`, line: undefined };
          ids.set(s.id, file);
        }
        return { file, ms, ok: true, dags: r.specs.map((s) => s.id), error: undefined, line: undefined };
      });
      if (opts.types) {
        const problems = await typeCheckDagFiles(config.dagsFolder, files);
        for (const r of report) {
          const p = problems.get(join(config.dagsFolder, r.file));
          problems.delete(join(config.dagsFolder, r.file));
          if (p && r.ok) Object.assign(r, { ok: false, error: `type errors:\n${p.messages.join("\n")}`, line: p.line });
        }
        // Helper modules the DAG files import: reported as files of their own.
        for (const [f, p] of problems) report.push({ file: relative(config.dagsFolder, f), ms: 0, ok: false, dags: [], error: `type errors:\n${p.messages.join("\n")}`, line: p.line });
      }
      const failed = report.filter((r) => !r.ok);
      if (opts.junit) await writeFile(opts.junit, junit(report));
      print(!!g.json, { files: report.length, failed: failed.length, report }, () =>
        [
          ...report.map((r) => (r.ok ? `ok    ${r.file}  (${r.dags.join(", ")}, ${r.ms} ms)` : `FAIL  ${r.file}${r.line ? `:${r.line}` : ""}\n      ${r.error}`)),
          `${report.length} file(s), ${ids.size} DAG(s), ${failed.length} failed`,
        ].join("\n"),
      );
      if (files.length === 0) process.stderr.write(`warning: no DAG files found in ${config.dagsFolder}\n`);
      if (failed.length) process.exitCode = 1;
    });

  dags
    .command("trigger <dagId>")
    .description("Create a manual run; conf is validated against the DAG's params")
    .option("--conf <json>", "run configuration as a JSON object", "{}")
    .option("--run-id <id>", "run id (default manual__<time>)")
    .option("--logical-date <date>", "logical date (ISO 8601; default now)")
    .option("--wait", "wait until the run finishes (a scheduler must be running); exit 1 if it fails")
    .option("--timeout <seconds>", "with --wait: give up after this long", "3600")
    .addHelpText("after", `\nExample:\n  $ sluice dags trigger ml_features --conf '{"rows": 5000}' --wait`)
    .action(async (dagId: string, opts: { conf: string; runId?: string; logicalDate?: string; wait?: boolean; timeout: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store, config) => {
        await scanDags(store, config);
        const run = await triggerRun(store, dagId, {
          conf: parseConf(opts.conf),
          runId: opts.runId,
          logicalDate: opts.logicalDate ? parseDate(opts.logicalDate, "--logical-date") : undefined,
        });
        if (!g.json) process.stdout.write(`Created run ${run.run_id} of ${dagId} (${run.state})\n`);
        if (opts.wait) {
          const [done] = await waitForRuns(store, [run.id], Number(opts.timeout) * 1000);
          print(!!g.json, done, () => `Run ${done.run_id}: ${done.state}`);
          if (done.state !== "success") process.exitCode = 1;
        } else if (g.json) print(true, run, () => "");
      });
    });

  for (const [name, paused] of [["pause", true], ["unpause", false]] as const) {
    dags
      .command(`${name} <dagId>`)
      .description(paused ? "Pause a DAG: no new runs start" : "Unpause a DAG")
      .addHelpText("after", `\nExample:\n  $ sluice dags ${name} hello`)
      .action(async (dagId: string, _o: unknown, cmd: Command) => {
        const g = globals(cmd);
        await withStore(g, async (store, config) => {
          await scanDags(store, config);
          if (!(await store.dags.setPaused(dagId, paused, Date.now()))) throw new SluiceError(ErrorCode.DagNotFound, `No DAG "${dagId}".`);
          print(!!g.json, { dagId, paused }, () => `${dagId} is ${paused ? "paused" : "unpaused"}`);
        });
      });
  }

  dags
    .command("test <dagId>")
    .description("Run a whole DAG once, in this process, against a throwaway database; print every task's state, duration and result")
    .option("--conf <json>", "run configuration as a JSON object", "{}")
    .option("--logical-date <date>", "logical date (ISO 8601; default now)")
    .addHelpText("after", `\nExample:\n  $ sluice dags test ml_features --conf '{"rows": 2000}'`)
    .action(async (dagId: string, opts: { conf: string; logicalDate?: string }, cmd: Command) => {
      const g = globals(cmd);
      const config = await resolveConfig(g);
      const report = await testDag(config, dagId, parseConf(opts.conf), opts.logicalDate ? parseDate(opts.logicalDate, "--logical-date") : undefined, !!g.json);
      print(!!g.json, report, () =>
        [
          table(report.tasks.map((t) => ({ task: t.mapIndex === undefined ? t.task : `${t.task}[${t.mapIndex}]`, state: t.state, tries: t.tries, duration: t.duration, result: t.result ?? t.error ?? "" }))),
          `Run ${report.runId}: ${report.state} in ${report.duration}`,
        ].join("\n"),
      );
      if (report.state !== "success") process.exitCode = 1;
    });

  dags
    .command("backfill <dagId>")
    .description("Create runs for every schedule interval starting between --from and --to (inclusive)")
    .requiredOption("--from <date>", "first logical date (ISO 8601)")
    .requiredOption("--to <date>", "last logical date (ISO 8601)")
    .option("--conf <json>", "run configuration as a JSON object", "{}")
    .option("--wait", "wait until all runs finish (a scheduler must be running)")
    .option("--timeout <seconds>", "with --wait: give up after this long", "86400")
    .addHelpText("after", "\nExample:\n  $ sluice dags backfill daily_features --from 2026-01-01 --to 2026-01-31")
    .action(async (dagId: string, opts: { from: string; to: string; conf: string; wait?: boolean; timeout: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store, config) => {
        await scanDags(store, config);
        const r = await backfill(store, dagId, parseDate(opts.from, "--from"), parseDate(opts.to, "--to"), { conf: parseConf(opts.conf) });
        if (!g.json) process.stdout.write(`Created ${r.created.length} backfill run(s) of ${dagId}${r.existing.length ? `; ${r.existing.length} interval(s) already had a run` : ""}\n`);
        if (opts.wait && r.created.length) {
          const done = await waitForRuns(store, r.created.map((c) => c.id), Number(opts.timeout) * 1000);
          const failed = done.filter((d) => d.state !== "success");
          print(!!g.json, { created: done, existing: r.existing }, () => `${done.length - failed.length} succeeded, ${failed.length} failed`);
          if (failed.length) process.exitCode = 1;
        } else if (g.json) print(true, r, () => "");
      });
    });
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

function junit(report: { file: string; ms: number; ok: boolean; error?: string; line?: number }[]): string {
  const failures = report.filter((r) => !r.ok).length;
  const cases = report
    .map((r) => {
      const head = `    <testcase classname="sluice.dags" name="${xml(r.file)}" time="${(r.ms / 1000).toFixed(3)}"`;
      return r.ok ? `${head}/>` : `${head}>\n      <failure message="${xml(r.error ?? "")}">${xml(`${r.file}${r.line ? `:${r.line}` : ""}: ${r.error}`)}</failure>\n    </testcase>`;
    })
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="sluice dags check" tests="${report.length}" failures="${failures}">\n${cases}\n  </testsuite>\n</testsuites>\n`;
}
