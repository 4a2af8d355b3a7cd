/**
 * One standalone master's cluster, read from the API (which reads the
 * master's /json/) every few seconds while the page is open: the master's
 * status, a summary of workers, cores and memory, the workers, and the
 * running and completed applications and drivers. While the master does not
 * answer, an error panel with the API's message stands in for all of it:
 * numbers from before it went away would look current.
 */
import { Link } from "react-router";
import { useAuth } from "../../api/auth";
import { ApiError } from "../../api/client";
import { SPARK_REFRESH_MS, useSparkCluster } from "../../api/hooks";
import type { SparkClusterStatus } from "../../api/types";
import { SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { Time } from "../../components/Time";
import { AppsTable, DriversTable, formatMb, UsageBar, WorkersTable } from "./SparkTables";

function Unreachable({ error, connId, onRetry }: { error: unknown; connId: string; onRetry: () => void }) {
  const { can } = useAuth();
  const unreachable = error instanceof ApiError && error.code === "SPARK_MASTER_UNREACHABLE";
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="banner banner-error spark-error" role="alert" data-testid="spark-error">
      <Icon name="alert" />
      <div className="banner-body">
        <strong>{unreachable ? "The Spark master is unreachable" : "Could not read the Spark cluster"}</strong>
        <span data-testid="spark-error-message">{message}</span>
        {unreachable && (
          <span className="muted">
            Sluice asks again every {SPARK_REFRESH_MS / 1000} s. If the master is running, check that <code>extra.webUiUrl</code> of connection{" "}
            <span className="mono">{connId}</span> is its web UI ({can("admin") ? <Link to="/admin/connections">Admin &gt; Connections</Link> : "Admin > Connections"}).
          </span>
        )}
      </div>
      <button type="button" className="btn btn-sm" onClick={onRetry}>
        Retry now
      </button>
    </div>
  );
}

function Summary({ s }: { s: SparkClusterStatus }) {
  const running = s.applications.running.length;
  return (
    <div className="spark-summary" data-testid="spark-summary">
      <div className="spark-stat">
        <span className="spark-stat-label">Alive workers</span>
        <span className="spark-stat-value" data-testid="spark-alive-workers">
          {s.aliveWorkers}
          <span className="muted"> of {s.workers.length}</span>
        </span>
      </div>
      <div className="spark-stat">
        <span className="spark-stat-label">Cores in use</span>
        <span className="spark-stat-value" data-testid="spark-cores">
          {s.cores.used}
          <span className="muted"> / {s.cores.total}</span>
        </span>
        <UsageBar used={s.cores.used} total={s.cores.total} what="cores" wide />
      </div>
      <div className="spark-stat">
        <span className="spark-stat-label">Memory in use</span>
        <span className="spark-stat-value" data-testid="spark-memory">
          {formatMb(s.memoryMb.used)}
          <span className="muted"> / {formatMb(s.memoryMb.total)}</span>
        </span>
        <UsageBar used={s.memoryMb.used} total={s.memoryMb.total} what="memory" format={formatMb} wide />
      </div>
      <div className="spark-stat">
        <span className="spark-stat-label">Applications</span>
        <span className="spark-stat-value">
          {running}
          <span className="muted"> running · {s.applications.completed.length} completed</span>
        </span>
      </div>
    </div>
  );
}

export function ClusterView({ connId, highlight }: { connId: string; highlight: ReadonlySet<string> }) {
  const q = useSparkCluster(connId);
  const s = q.data;
  const updated = q.dataUpdatedAt ? new Date(q.dataUpdatedAt).toISOString() : null;

  return (
    <div className="spark-cluster" data-testid="spark-cluster">
      <section className="card" aria-labelledby="spark-master-h">
        <div className="card-head spark-master-head">
          <div className="spark-master-title">
            <h2 id="spark-master-h" className="mono">
              {connId}
            </h2>
            {s && !q.error && (
              <>
                <span className="mono muted">{s.master}</span>
                <span className="pill spark-state" data-spark-state={s.status} data-testid="spark-master-status" title="The master's own status">
                  {s.status}
                </span>
              </>
            )}
          </div>
          <div className="spark-master-meta">
            {updated && !q.error && (
              <span className="muted spark-updated" title={`Read again every ${SPARK_REFRESH_MS / 1000} s while this page is open`}>
                Updated <Time value={updated} kind="time" />
              </span>
            )}
            {s && (
              <a className="btn btn-sm" href={s.webUiUrl} target="_blank" rel="noopener noreferrer">
                Master web UI <Icon name="external" size={14} />
              </a>
            )}
          </div>
        </div>
        <div className="card-body">
          {q.error ? (
            <Unreachable error={q.error} connId={connId} onRetry={() => void q.refetch()} />
          ) : s ? (
            <Summary s={s} />
          ) : (
            <SkeletonRows rows={2} cols={4} />
          )}
        </div>
      </section>
      {s && !q.error && (
        <>
          <section className="card" aria-labelledby="spark-workers-h">
            <div className="card-head">
              <h2 id="spark-workers-h">Workers</h2>
              <span className="muted">{s.workers.length}</span>
            </div>
            <WorkersTable workers={s.workers} />
          </section>
          <section className="card" aria-labelledby="spark-apps-h">
            <div className="card-head">
              <h2 id="spark-apps-h">Applications</h2>
            </div>
            <AppsTable title="Running" apps={s.applications.running} highlight={highlight} testId="spark-apps-running" />
            <AppsTable title="Completed" apps={s.applications.completed} highlight={highlight} testId="spark-apps-completed" />
          </section>
          <section className="card" aria-labelledby="spark-drivers-h">
            <div className="card-head">
              <h2 id="spark-drivers-h">Drivers</h2>
              <span className="muted">cluster deploy mode</span>
            </div>
            <DriversTable title="Running" drivers={s.drivers.running} workers={s.workers} highlight={highlight} testId="spark-drivers-running" />
            <DriversTable title="Completed" drivers={s.drivers.completed} workers={s.workers} highlight={highlight} testId="spark-drivers-completed" />
          </section>
        </>
      )}
    </div>
  );
}
