/**
 * The Spark page's tables: workers with their cores and memory in use,
 * applications and drivers with the task instance that launched each (a
 * link to its panel on the DAG page), and the small usage bar they share.
 */
import { Link } from "react-router";
import type { SparkApplication, SparkDriver, SparkTaskLink, SparkWorker } from "../../api/types";
import { DataTable, NoValue } from "../../components/DataTable";
import { Time } from "../../components/Time";
import { formatBytes } from "../../lib/bytes";
import { taskInstanceHref } from "../../lib/taskLinks";
import { formatDuration } from "../../lib/time";

/** Spark reports memory in MiB. */
export const formatMb = (mb: number) => formatBytes(mb * 1024 * 1024);

/** A bar of used / total, its numbers as its accessible name and tooltip. */
export function UsageBar({ used, total, what, format = String, wide }: { used: number; total: number; what: string; format?: (n: number) => string; wide?: boolean }) {
  const text = `${format(used)} of ${format(total)} ${what} in use`;
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  return (
    <div className={`meter spark-meter ${wide ? "spark-meter-wide" : ""}`} role="img" aria-label={text} title={text}>
      <span style={{ width: `${pct}%` }} data-full={pct >= 100 || undefined} />
    </div>
  );
}

function SparkState({ state }: { state: string }) {
  return (
    <span className="pill spark-state" data-spark-state={state}>
      {state}
    </span>
  );
}

/** The task instance that launched an application or driver, or a dash when Sluice did not. */
function TaskCell({ task }: { task: SparkTaskLink | null }) {
  if (!task) return <span className="muted" title="Not launched by a Sluice task (or launched before Sluice kept a record)">—</span>;
  const name = `${task.dagId}.${task.taskId}${task.mapIndex >= 0 ? `[${task.mapIndex}]` : ""}`;
  return (
    <span className="spark-task">
      <Link to={taskInstanceHref(task)} className="mono" title={`Open ${name} of run ${task.runId} (try ${task.tryNumber})`} data-testid="spark-task-link">
        {name}
      </Link>
      <span className="muted spark-task-run" title={task.runId}>
        {task.runId} · try {task.tryNumber}
      </span>
    </span>
  );
}

export function WorkersTable({ workers }: { workers: SparkWorker[] }) {
  if (workers.length === 0) return <p className="spark-none muted">No worker has registered with this master.</p>;
  return (
    <DataTable columns={["Worker", "Address", "State", "Cores", "Memory", "Last heartbeat"]}>
      {workers.map((w) => (
        <tr key={w.id} data-testid={`spark-worker-${w.id}`} data-state={w.state}>
          <td className="mono spark-id">
            {/* The worker's own web UI: its executors and their logs. */}
            <a href={w.webUiUrl} target="_blank" rel="noopener noreferrer" title="The worker's web UI">
              {w.id}
            </a>
          </td>
          <td className="mono">
            {w.host}:{w.port}
          </td>
          <td>
            <SparkState state={w.state} />
          </td>
          <td>
            <span className="spark-usage">
              <UsageBar used={w.coresUsed} total={w.cores} what="cores" />
              <span className="num">
                {w.coresUsed} / {w.cores}
              </span>
            </span>
          </td>
          <td>
            <span className="spark-usage">
              <UsageBar used={w.memoryUsedMb} total={w.memoryMb} what="memory" format={formatMb} />
              <span className="num">
                {formatMb(w.memoryUsedMb)} / {formatMb(w.memoryMb)}
              </span>
            </span>
          </td>
          <td>
            <Time value={w.lastHeartbeat} relative />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function Subhead({ title, count }: { title: string; count: number }) {
  return (
    <h3 className="spark-subhead">
      {title} <span className="muted">{count}</span>
    </h3>
  );
}

export function AppsTable({ title, apps, highlight, testId }: { title: string; apps: SparkApplication[]; highlight: ReadonlySet<string>; testId: string }) {
  return (
    <div className="spark-group" data-testid={testId}>
      <Subhead title={title} count={apps.length} />
      {apps.length === 0 ? (
        <p className="spark-none muted">No {title.toLowerCase()} applications.</p>
      ) : (
        <DataTable compact columns={["Application", "Name", "Launched by", { label: "Cores", num: true }, { label: "Memory per executor", num: true }, "Started", { label: "Duration", num: true }, "State"]}>
          {apps.map((a) => (
            <tr key={a.id} data-testid={`spark-app-${a.id}`} className={highlight.has(a.id) ? "row-selected" : undefined} aria-current={highlight.has(a.id) ? "true" : undefined}>
              <td className="mono spark-id">{a.id}</td>
              <td>
                {a.name}
                {a.user && <span className="muted"> · {a.user}</span>}
              </td>
              <td>
                <TaskCell task={a.task} />
              </td>
              <td className="num">{a.cores}</td>
              <td className="num">{a.memoryPerExecutorMb === null ? <NoValue /> : formatMb(a.memoryPerExecutorMb)}</td>
              <td>
                <Time value={a.startedAt} relative />
              </td>
              <td className="num">{formatDuration(a.durationMs)}</td>
              <td>
                <SparkState state={a.state} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}

/** The worker a driver runs on, by its address (the id's tail) when the master still lists it. */
function WorkerCell({ id, workers }: { id: string | null; workers: SparkWorker[] }) {
  if (!id) return <NoValue />;
  const w = workers.find((x) => x.id === id);
  return (
    <span className="mono spark-id" title={id}>
      {w ? `${w.host}:${w.port}` : id}
    </span>
  );
}

export function DriversTable({ title, drivers, workers, highlight, testId }: { title: string; drivers: SparkDriver[]; workers: SparkWorker[]; highlight: ReadonlySet<string>; testId: string }) {
  return (
    <div className="spark-group" data-testid={testId}>
      <Subhead title={title} count={drivers.length} />
      {drivers.length === 0 ? (
        <p className="spark-none muted">No {title.toLowerCase()} drivers.</p>
      ) : (
        <DataTable compact columns={["Driver", "Main class", "Launched by", "Worker", { label: "Cores", num: true }, { label: "Memory", num: true }, "Started", "State"]}>
          {drivers.map((d) => (
            <tr key={d.id} data-testid={`spark-driver-${d.id}`} className={highlight.has(d.id) ? "row-selected" : undefined} aria-current={highlight.has(d.id) ? "true" : undefined}>
              <td className="mono spark-id">{d.id}</td>
              <td className="mono spark-class" title={d.mainClass ?? undefined}>
                {d.mainClass ?? <NoValue />}
              </td>
              <td>
                <TaskCell task={d.task} />
              </td>
              <td>
                <WorkerCell id={d.workerId} workers={workers} />
              </td>
              <td className="num">{d.cores}</td>
              <td className="num">{formatMb(d.memoryMb)}</td>
              <td>
                <Time value={d.startedAt} relative />
              </td>
              <td>
                <SparkState state={d.state} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}
