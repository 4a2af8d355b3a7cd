/**
 * What a DuckDB or a Spark task recorded, summed up above the raw result:
 * DuckDB's row count, Parquet output (path and size), query time and the
 * result's schema; Spark's application id, final state, master and mode.
 * A value that does not have the recorded shape (a task of that kind whose
 * code returned something else) gets no summary, only the raw view.
 */
import { Link } from "react-router";
import { useSparkClusters } from "../../api/hooks";
import { Icon } from "../../components/Icon";
import { formatBytes } from "../../lib/bytes";
import { sparkHref } from "../../lib/taskLinks";
import { formatDuration } from "../../lib/time";

interface DuckdbResult {
  rows: number;
  schema: { name: string; type: string }[];
  output?: { path: string; bytes: number };
  data?: unknown[];
  elapsedMs?: number;
}

interface SparkResult {
  appId?: string;
  driverId?: string;
  state: string;
  master?: string;
  deployMode?: string;
  elapsedMs?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function asDuckdb(v: unknown): DuckdbResult | null {
  if (!isObj(v) || typeof v.rows !== "number" || !Array.isArray(v.schema)) return null;
  if (!v.schema.every((c) => isObj(c) && typeof c.name === "string" && typeof c.type === "string")) return null;
  if (v.output !== undefined && !(isObj(v.output) && typeof v.output.path === "string" && typeof v.output.bytes === "number")) return null;
  return v as unknown as DuckdbResult;
}

function asSpark(v: unknown): SparkResult | null {
  if (!isObj(v) || typeof v.state !== "string" || (typeof v.appId !== "string" && typeof v.driverId !== "string")) return null;
  return v as unknown as SparkResult;
}

/** The summary for a result of this kind, or null when there is none to show. */
export function KindResult({ kind, value }: { kind: string | undefined; value: unknown }) {
  if (kind === "duckdb") {
    const r = asDuckdb(value);
    return r && <DuckdbSummary r={r} />;
  }
  if (kind === "spark") {
    const r = asSpark(value);
    return r && <SparkSummary r={r} />;
  }
  return null;
}

/** Properties the summary shows as its own table, so the result's table views leave them out. */
export function summarisedProps(kind: string | undefined, value: unknown): string[] {
  return kind === "duckdb" && asDuckdb(value) ? ["schema"] : [];
}

function DuckdbSummary({ r }: { r: DuckdbResult }) {
  return (
    <section className="kind-result" data-testid="duckdb-result" aria-label="DuckDB result">
      <dl className="kind-result-facts">
        <div>
          <dt>Rows</dt>
          <dd>{r.rows.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Columns</dt>
          <dd>{r.schema.length}</dd>
        </div>
        {r.elapsedMs !== undefined && (
          <div>
            <dt>Query time</dt>
            <dd>{formatDuration(r.elapsedMs)}</dd>
          </div>
        )}
        {r.output ? (
          <div className="kind-result-wide">
            <dt>Output</dt>
            <dd>
              <span className="mono kind-result-path" title={r.output.path}>
                {r.output.path}
              </span>{" "}
              <span className="muted">· {formatBytes(r.output.bytes)}</span>
            </dd>
          </div>
        ) : (
          <div className="kind-result-wide">
            <dt>Output</dt>
            <dd className="muted">{r.data ? `the rows, in the result (${r.data.length.toLocaleString()})` : "none"}</dd>
          </div>
        )}
      </dl>
      {r.schema.length > 0 && (
        <div className="table-wrap kind-result-schema">
          <table className="table table-compact" data-testid="duckdb-schema" aria-label="Schema of the DuckDB result">
            <thead>
              <tr>
                <th scope="col">Column</th>
                <th scope="col">Type</th>
              </tr>
            </thead>
            <tbody>
              {r.schema.map((c) => (
                <tr key={c.name}>
                  <td className="mono">{c.name}</td>
                  <td className="mono muted">{c.type}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/**
 * The Spark page of the cluster the application ran on. The result names the
 * master, not the connection (the task's spec is not in the UI's data), so the
 * connection is the one with that master; connections sharing a master show
 * the same cluster. With none (renamed, deleted, or still loading), the Spark
 * page's list.
 */
function SparkClusterLink({ r }: { r: SparkResult }) {
  const clusters = useSparkClusters();
  const conn = r.master ? clusters.data?.clusters.find((c) => c.master === r.master)?.connId : undefined;
  return (
    <Link
      to={conn ? sparkHref({ conn, app: r.appId, driver: r.driverId }) : sparkHref()}
      data-testid="spark-cluster-link"
      title={conn ? `Workers and applications of connection ${conn}` : "The Spark connections and their clusters"}
    >
      <Icon name="spark" size={13} /> {conn ? <span className="mono">{conn}</span> : "Spark clusters"}
    </Link>
  );
}

function SparkSummary({ r }: { r: SparkResult }) {
  return (
    <section className="kind-result" data-testid="spark-result" aria-label="Spark application">
      <dl className="kind-result-facts">
        <div className="kind-result-wide">
          <dt>Application</dt>
          <dd className="mono">{r.appId ?? "—"}</dd>
        </div>
        <div>
          <dt>State</dt>
          <dd>
            <span className="pill spark-state" data-spark-state={r.state}>
              {r.state}
            </span>
          </dd>
        </div>
        {r.elapsedMs !== undefined && (
          <div>
            <dt>Time</dt>
            <dd>{formatDuration(r.elapsedMs)}</dd>
          </div>
        )}
        {r.driverId && (
          <div className="kind-result-wide">
            <dt>Driver</dt>
            <dd className="mono">{r.driverId}</dd>
          </div>
        )}
        {r.master && (
          <div className="kind-result-wide">
            <dt>Master</dt>
            <dd className="mono">
              {r.master}
              {r.deployMode ? <span className="muted"> · {r.deployMode} mode</span> : null}
            </dd>
          </div>
        )}
        <div className="kind-result-wide">
          <dt>Cluster</dt>
          <dd>
            <SparkClusterLink r={r} />
          </dd>
        </div>
      </dl>
    </section>
  );
}
