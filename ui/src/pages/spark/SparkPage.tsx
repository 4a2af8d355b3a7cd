/**
 * Spark: the connections of type spark and, for the one chosen (?conn=…),
 * its cluster as the master reports it (ClusterView). Any signed-in user may
 * look; only admins can add a connection, so the empty state says where and
 * who.
 */
import { Link, useSearchParams } from "react-router";
import { useAuth } from "../../api/auth";
import { useSparkClusters } from "../../api/hooks";
import type { SparkCluster } from "../../api/types";
import { EmptyState, ErrorBanner, ListBody, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { sparkHref } from "../../lib/taskLinks";
import { ClusterView } from "./ClusterView";
import "../../styles/spark.css";

function NoConnections() {
  const { can } = useAuth();
  return (
    <div className="card" data-testid="spark-empty">
      <EmptyState title="No Spark connections" icon="spark">
        <p>
          Spark tasks submit to the cluster a connection of type <code>spark</code> names (<code>spark_default</code> unless the task says otherwise). Add one in{" "}
          {can("admin") ? <Link to="/admin/connections">Admin &gt; Connections</Link> : <>Admin &gt; Connections (ask an admin)</>} with the type <code>spark</code>, the
          master as host (<code>spark://10.0.0.5</code>, port <code>7077</code>), and in extra the master's web UI when it is not on port 8080:{" "}
          <code>{'{"webUiUrl": "http://10.0.0.5:8080"}'}</code>. This page then shows its workers and applications.
        </p>
      </EmptyState>
    </div>
  );
}

function ConnectionList({ clusters, selected }: { clusters: SparkCluster[]; selected: string | null }) {
  return (
    <nav className="spark-conns" aria-label="Spark connections">
      {clusters.map((c) => (
        <Link
          key={c.connId}
          to={sparkHref({ conn: c.connId })}
          className={`spark-conn ${c.connId === selected ? "active" : ""}`}
          aria-current={c.connId === selected ? "page" : undefined}
          data-testid={`spark-conn-${c.connId}`}
        >
          <span className="spark-conn-id mono">{c.connId}</span>
          <span className="spark-conn-master mono" title={c.master ?? c.problem ?? undefined}>
            {c.problem ? (
              <span className="spark-conn-problem">
                <Icon name="alert" size={12} /> invalid settings
              </span>
            ) : (
              c.master
            )}
          </span>
          {c.kind === "kubernetes" && <span className="pill pill-xs">Kubernetes</span>}
        </Link>
      ))}
    </nav>
  );
}

/** What the chosen connection shows: its cluster, or why there is none to show. */
function ClusterPane({ cluster, highlight }: { cluster: SparkCluster; highlight: ReadonlySet<string> }) {
  const { can } = useAuth();
  const fix = can("admin") ? <Link to="/admin/connections">Edit it in Admin &gt; Connections</Link> : "Ask an admin to fix it in Admin > Connections";
  if (cluster.problem !== null) {
    return (
      <div className="banner banner-warn" role="alert" data-testid="spark-problem">
        <Icon name="alert" />
        <div className="banner-body">
          <strong>Connection "{cluster.connId}" cannot be used</strong>
          <span>{cluster.problem}</span>
          <span>{fix}.</span>
        </div>
      </div>
    );
  }
  if (cluster.kind === "kubernetes") {
    return (
      <div className="card">
        <EmptyState title={`${cluster.connId} is Spark on Kubernetes`} icon="spark">
          <p>
            Its applications run as pods on <span className="mono">{cluster.master}</span>; there is no standalone master to read. List them with{" "}
            <code>kubectl get sparkapplications</code>. Each Spark task's result names its application.
          </p>
        </EmptyState>
      </div>
    );
  }
  return <ClusterView connId={cluster.connId} highlight={highlight} />;
}

export default function SparkPage() {
  const [params] = useSearchParams();
  const clusters = useSparkClusters();
  const wanted = params.get("conn");
  // An application and its cluster-mode driver, as a Spark task's result links to them.
  const highlight = new Set([params.get("app"), params.get("driver")].filter((v): v is string => !!v));

  return (
    <main className="page spark-page">
      <div className="page-header">
        <div className="page-title">
          <h1>Spark</h1>
          <p className="muted">The clusters Spark tasks submit to: workers, cores and memory, and the applications running and completed, each linked to the task that launched it.</p>
        </div>
      </div>
      <ErrorBanner error={clusters.error} title="Could not load the Spark connections" onRetry={() => void clusters.refetch()} />
      <ListBody
        pending={clusters.isPending}
        items={clusters.data?.clusters}
        loading={
          <div className="card">
            <SkeletonRows rows={4} cols={4} />
          </div>
        }
        empty={<NoConnections />}
      >
        {(list) => {
          const selected = wanted === null ? list[0] : list.find((c) => c.connId === wanted);
          return (
            <div className="spark-layout">
              <ConnectionList clusters={list} selected={selected?.connId ?? null} />
              <div className="spark-content">
                {selected ? (
                  <ClusterPane key={selected.connId} cluster={selected} highlight={highlight} />
                ) : (
                  <div className="card">
                    <EmptyState title={`No Spark connection "${wanted}"`} icon="spark">
                      It may have been deleted or renamed. Choose one of the connections on the left.
                    </EmptyState>
                  </div>
                )}
              </div>
            </div>
          );
        }}
      </ListBody>
    </main>
  );
}
