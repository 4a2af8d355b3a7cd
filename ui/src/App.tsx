/** Routes. Heavy screens (graph, code, datasets, Spark, autoscaler, admin) load on demand. */
import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router";
import { useAuth } from "./api/auth";
import { EmptyState, ErrorBanner, Spinner } from "./components/Feedback";
import { Shell } from "./components/Shell";
import { DagListPage } from "./pages/dags/DagListPage";
import { DagPage } from "./pages/dag/DagPage";
import { LoginPage } from "./pages/LoginPage";
import { Link } from "react-router";

const DatasetsPage = lazy(() => import("./pages/datasets/DatasetsPage"));
const AdminPage = lazy(() => import("./pages/admin/AdminPage"));
const SparkPage = lazy(() => import("./pages/spark/SparkPage"));
const AutoscalerPage = lazy(() => import("./pages/autoscaler/AutoscalerPage"));
const AlertsPage = lazy(() => import("./pages/alerts/AlertsPage"));

export function App() {
  const { me, loading, error } = useAuth();
  if (loading) {
    return (
      <div className="boot">
        <Spinner label="Starting Sluice" />
      </div>
    );
  }
  if (!me) {
    return error ? (
      <div className="boot">
        <ErrorBanner error={error} title="Cannot reach the Sluice API" onRetry={() => window.location.reload()} />
      </div>
    ) : (
      <LoginPage />
    );
  }
  return (
    <Shell>
      <Suspense
        fallback={
          <div className="page-loading">
            <Spinner />
          </div>
        }
      >
        <Routes>
          <Route path="/" element={<DagListPage />} />
          <Route path="/dags" element={<Navigate to="/" replace />} />
          <Route path="/dags/:dagId" element={<DagPage />} />
          <Route path="/dags/:dagId/:tab" element={<DagPage />} />
          <Route path="/datasets" element={<DatasetsPage />} />
          <Route path="/spark" element={<SparkPage />} />
          <Route path="/autoscaler" element={<AutoscalerPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="/admin" element={<Navigate to="/admin/pools" replace />} />
          <Route path="/admin/:section" element={<AdminPage />} />
          <Route path="/login" element={<Navigate to="/" replace />} />
          <Route
            path="*"
            element={
              <main className="page">
                <EmptyState heading="h1" title="Page not found">
                  <Link to="/">Back to the DAG list</Link>
                </EmptyState>
              </main>
            }
          />
        </Routes>
      </Suspense>
    </Shell>
  );
}
