import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag } from "sluice";

/**
 * Shell tasks: commands, environment, working directory, exit codes and
 * trigger rules. Each run works in its own directory (keyed by the run id
 * Sluice puts in the environment), so overlapping runs never share files.
 */
const work = '"$WORK_ROOT/$SLUICE_RUN_ID"';

export default dag(
  { id: "shell_pipeline", description: "A small ETL in shell commands", schedule: "30 * * * *", start: "2026-01-01", tags: ["shell", "example"] },
  (d) => {
    const env = { WORK_ROOT: join(tmpdir(), "sluice-examples", "shell_pipeline") };
    const fetch = d.shell("fetch", `mkdir -p ${work} && seq 1 100 > ${work}/numbers.txt && wc -l < ${work}/numbers.txt`, { env });
    const sum = d.shell("sum", `cd ${work} && awk '{ s += $1 } END { print s }' numbers.txt`, { upstream: [fetch], env });
    // cwd: the command runs in that folder (default: the DAG file's folder).
    const check = d.shell("check", `test "$(awk '{ s += $1 } END { print s }' ${work}/numbers.txt)" -eq 5050 && echo ok`, {
      upstream: [sum],
      env,
      cwd: tmpdir(),
    });
    // Runs whatever happened upstream: cleanup belongs in an all_done task.
    d.shell("cleanup", `rm -rf ${work} && echo cleaned`, { upstream: [check], env, triggerRule: "all_done" });
  },
);
