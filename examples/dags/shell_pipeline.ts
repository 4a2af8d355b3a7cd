import { dag } from "sluice";

/** Shell tasks: commands, environment, working directory, exit codes and trigger rules. */
export default dag(
  { id: "shell_pipeline", description: "A small ETL in shell commands", schedule: "30 * * * *", start: "2026-01-01", tags: ["shell", "example"] },
  (d) => {
    const fetch = d.shell("fetch", 'mkdir -p "$WORK" && seq 1 100 > "$WORK/numbers.txt" && wc -l < "$WORK/numbers.txt"', {
      env: { WORK: "/tmp/sluice-examples/shell_pipeline" },
    });
    const sum = d.shell("sum", "awk '{ s += $1 } END { print s }' numbers.txt", { upstream: [fetch], cwd: "/tmp/sluice-examples/shell_pipeline" });
    const check = d.shell("check", 'test "$(awk \'{ s += $1 } END { print s }\' numbers.txt)" -eq 5050 && echo ok', {
      upstream: [sum],
      cwd: "/tmp/sluice-examples/shell_pipeline",
    });
    // Runs whatever happened upstream: cleanup belongs in an all_done task.
    d.shell("cleanup", 'rm -f /tmp/sluice-examples/shell_pipeline/numbers.txt && echo cleaned', { upstream: [check], triggerRule: "all_done" });
  },
);
