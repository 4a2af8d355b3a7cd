import { Command, CommanderError } from "commander";
import { ExitCode, SchemaTooNewError, SluiceError, ErrorCode, describeError } from "../core/errors.js";
import { registerAdmin } from "./commands/admin.js";
import { registerAlerts } from "./commands/alerts.js";
import { registerAutoscaler } from "./commands/autoscaler.js";
import { registerBundles } from "./commands/bundles.js";
import { registerDags } from "./commands/dags.js";
import { registerDeploy } from "./commands/deploy.js";
import { registerInit } from "./commands/init.js";
import { registerRuns } from "./commands/runs.js";
import { registerServe } from "./commands/serve.js";
import { registerTasks } from "./commands/tasks.js";
import { registerUsers } from "./commands/users.js";
import { registerWorker } from "./commands/worker.js";

const program = new Command();
program
  .name("sluice")
  .description("Sluice: TypeScript pipelines, scheduled and run.")
  .version("0.1.0")
  .option("-c, --config <file>", "config file (default: sluice.config.{json,ts,mjs,js} in the current directory)")
  .option("--dags <folder>", "DAG folder (overrides dagsFolder)")
  .option("--home <dir>", "state directory (overrides home / SLUICE_HOME)")
  .option("--json", "machine-readable output")
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

registerInit(program);
registerServe(program);
registerDags(program);
registerRuns(program);
registerTasks(program);
registerAdmin(program);
registerUsers(program);
registerWorker(program);
registerAutoscaler(program);
registerAlerts(program);
registerBundles(program);
registerDeploy(program);

// Every --help shows an example: leaf commands add their own; the root and the command groups get theirs here.
const GROUP_EXAMPLES: Record<string, string> = {
  dags: "sluice dags trigger hello --wait",
  runs: "sluice runs list --dag hello --state failed",
  tasks: "sluice tasks logs flaky manual__2026-01-01T00:00:00.000Z call_api --try 1",
  db: "sluice db migrate",
  config: "SLUICE_EXECUTOR__SLOTS=4 sluice config show",
  pools: "sluice pools set warehouse 4",
  users: "sluice users create ana --role operator && sluice users token ana",
};
program.addHelpText("after", "\nExample:\n  $ npx sluice init my-pipelines && cd my-pipelines && npx sluice standalone");
for (const cmd of program.commands) {
  const example = GROUP_EXAMPLES[cmd.name()];
  if (example) cmd.addHelpText("after", `\nExample:\n  $ ${example}`);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof SchemaTooNewError) return ExitCode.SchemaTooNew;
  if (err instanceof SluiceError && (err.code === ErrorCode.Usage || err.code === ErrorCode.ConfigInvalid || err.code === ErrorCode.ParamsInvalid)) return ExitCode.Usage;
  return ExitCode.Failure;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exit(err.exitCode === 0 ? 0 : ExitCode.Usage);
  }
  const json = process.argv.includes("--json");
  if (json) {
    const e = err as SluiceError;
    process.stderr.write(`${JSON.stringify({ error: { code: e.code ?? "INTERNAL", message: e.message, details: e.details } })}\n`);
  } else {
    process.stderr.write(`sluice: ${describeError(err)}\n`);
    if (!(err instanceof SluiceError)) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
  }
  process.exit(exitCodeFor(err));
}
