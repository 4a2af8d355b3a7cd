/**
 * What an operator can do to a run: clear (all or failed tasks, with the
 * list of what would be cleared), mark success/failed, cancel while it
 * runs, delete once finished. Each asks for confirmation; viewers see the
 * buttons disabled with the reason.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useAuth } from "../../api/auth";
import { api, seg } from "../../api/client";
import { invalidateRun } from "../../api/hooks";
import type { Run } from "../../api/types";
import { ConfirmDialog } from "../../components/Dialog";
import { ErrorBanner, Spinner } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { useToast } from "../../components/Toast";

type Action = "clear" | "success" | "failed" | "cancel" | "delete" | null;

function ClearPreview({ run, onlyFailed }: { run: Run; onlyFailed: boolean }) {
  const q = useQuery({
    queryKey: ["clear-preview", run.dagId, run.runId, onlyFailed],
    queryFn: () =>
      api<{ cleared: string[] }>(`/dags/${seg(run.dagId)}/runs/${seg(run.runId)}/clear`, { method: "POST", body: { onlyFailed, dryRun: true } }),
    staleTime: 0,
    gcTime: 0,
  });
  if (q.isPending) return <Spinner label="Finding the tasks to clear" />;
  if (q.error) return <ErrorBanner error={q.error} />;
  const ids = q.data.cleared;
  if (ids.length === 0) return <p className="muted">Nothing to clear: {onlyFailed ? "no task failed in this run." : "the run has no task instances."}</p>;
  return (
    <div>
      <p>
        {ids.length} {ids.length === 1 ? "task" : "tasks"} will run again:
      </p>
      <ul className="clear-list" aria-label="Tasks to clear">
        {ids.map((t) => (
          <li key={t} className="mono">
            {t}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function RunActions({ run, onDeleted }: { run: Run; onDeleted: () => void }) {
  const { can } = useAuth();
  const qc = useQueryClient();
  const toast = useToast();
  const [action, setAction] = useState<Action>(null);
  const [onlyFailed, setOnlyFailed] = useState(false);
  const operator = can("operator");
  const active = run.state === "queued" || run.state === "running";
  const base = `/dags/${seg(run.dagId)}/runs/${seg(run.runId)}`;
  const why = operator ? undefined : "Viewers cannot change runs";
  const done = (text: string) => {
    invalidateRun(qc, run.dagId, run.runId);
    toast.show(text);
  };

  return (
    <div className="btn-group" role="group" aria-label="Run actions">
      <button type="button" className="btn btn-sm" disabled={!operator} title={why ?? "Run the tasks of this run again"} onClick={() => setAction("clear")}>
        <Icon name="refresh" /> Clear
      </button>
      <button type="button" className="btn btn-sm" disabled={!operator} title={why} onClick={() => setAction("success")}>
        <Icon name="check" /> Mark success
      </button>
      <button type="button" className="btn btn-sm" disabled={!operator} title={why} onClick={() => setAction("failed")}>
        <Icon name="x" /> Mark failed
      </button>
      {active && (
        <button type="button" className="btn btn-sm" disabled={!operator} title={why ?? "Stop running tasks and fail the run"} onClick={() => setAction("cancel")}>
          <Icon name="pause" /> Cancel
        </button>
      )}
      <button
        type="button"
        className="btn btn-sm btn-ghost danger-text"
        disabled={!operator || active}
        title={why ?? (active ? "Cancel the run before deleting it" : "Delete this run with its logs")}
        onClick={() => setAction("delete")}
      >
        <Icon name="trash" /> Delete
      </button>

      <ConfirmDialog
        open={action === "clear"}
        onClose={() => setAction(null)}
        title={`Clear run ${run.runId}?`}
        onConfirm={async () => {
          const r = await api<{ cleared: string[] }>(`${base}/clear`, { method: "POST", body: { onlyFailed } });
          done(`Cleared ${r.cleared.length} ${r.cleared.length === 1 ? "task" : "tasks"} of ${run.runId}`);
        }}
      >
        <fieldset className="fieldset clear-options">
          <legend className="field-label">Which tasks</legend>
          <label className="checkbox">
            <input type="radio" name="clear-which" checked={!onlyFailed} onChange={() => setOnlyFailed(false)} /> All tasks
          </label>
          <label className="checkbox">
            <input type="radio" name="clear-which" checked={onlyFailed} onChange={() => setOnlyFailed(true)} /> Failed and upstream-failed only
          </label>
        </fieldset>
        {action === "clear" && <ClearPreview run={run} onlyFailed={onlyFailed} />}
      </ConfirmDialog>

      <ConfirmDialog
        open={action === "success" || action === "failed"}
        onClose={() => setAction(null)}
        title={`Mark run ${run.runId} ${action === "failed" ? "failed" : "success"}?`}
        danger={action === "failed"}
        onConfirm={async () => {
          const state = action === "failed" ? "failed" : "success";
          await api(`${base}/mark`, { method: "POST", body: { state } });
          done(`Marked ${run.runId} ${state}`);
        }}
      >
        <p>
          {action === "failed"
            ? "The run ends as failed; tasks that have not finished end as if the run were cancelled."
            : "Every task of the run is set to success; downstream DAGs see the run as succeeded."}
        </p>
      </ConfirmDialog>

      <ConfirmDialog
        open={action === "cancel"}
        onClose={() => setAction(null)}
        title={`Cancel run ${run.runId}?`}
        danger
        confirmLabel="Cancel run"
        onConfirm={async () => {
          await api(`${base}/cancel`, { method: "POST" });
          done(`Cancelled ${run.runId}`);
        }}
      >
        <p>Running tasks are stopped, tasks that have not started are skipped, and the run fails.</p>
      </ConfirmDialog>

      <ConfirmDialog
        open={action === "delete"}
        onClose={() => setAction(null)}
        title={`Delete run ${run.runId}?`}
        danger
        confirmLabel="Delete"
        onConfirm={async () => {
          await api(base, { method: "DELETE" });
          done(`Deleted ${run.runId}`);
          onDeleted();
        }}
      >
        <p>The run, its task instances, tries and logs are removed for good. This cannot be undone.</p>
      </ConfirmDialog>
    </div>
  );
}
