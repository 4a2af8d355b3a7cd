/**
 * What an operator can do to a run: clear (all or failed tasks, with the
 * list of what would be cleared, optionally on the latest code), mark
 * success/failed, cancel while it runs, delete once finished. Each asks for
 * confirmation; viewers see the buttons disabled with the reason.
 */
import { useQuery, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useAuth } from "../../api/auth";
import { api, seg } from "../../api/client";
import { invalidateRun } from "../../api/hooks";
import { keys } from "../../api/keys";
import type { ClearResult, Run } from "../../api/types";
import { ConfirmDialog } from "../../components/Dialog";
import { ErrorBanner, Spinner } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { useToast } from "../../components/Toast";

type Action = "clear" | "success" | "failed" | "cancel" | "delete" | null;

/** A run's code as words: its git commit when it has one, else its DAG version. */
const codeOf = (versionHash: string, commit: string | null | undefined) => (commit ? `commit ${commit.slice(0, 12)}` : `version ${versionHash.slice(0, 12)}`);

function Code({ versionHash, commit }: { versionHash: string; commit: string | null | undefined }) {
  return (
    <>
      {commit ? "commit" : "version"} <span className="mono">{(commit ?? versionHash).slice(0, 12)}</span>
    </>
  );
}

/** Where "Run on the latest code" takes the run (the dry run's answer): from its commit to the current one, or nowhere. */
function MoveNote({ run, to }: { run: Run; to: ClearResult }) {
  const from = <Code versionHash={run.versionHash} commit={run.bundleVersion} />;
  const dest = <Code versionHash={to.versionHash} commit={to.bundleVersion} />;
  const stays = to.versionHash === run.versionHash && to.bundleVersion === (run.bundleVersion ?? null);
  return (
    <p className="clear-move" data-testid="clear-move" data-moves={!stays}>
      {stays ? (
        <>
          The run already is on the latest code ({from}).
        </>
      ) : (
        <>
          The run moves from {from} to {dest}.
        </>
      )}
    </p>
  );
}

function ClearPreview({ run, q, onlyFailed, onLatest }: { run: Run; q: UseQueryResult<ClearResult>; onlyFailed: boolean; onLatest: boolean }) {
  if (q.isPending) return <Spinner label="Finding the tasks to clear" />;
  if (q.error) return <ErrorBanner error={q.error} title={onLatest ? "Cannot run on the latest code" : undefined} />;
  const ids = q.data.cleared;
  const move = onLatest && <MoveNote run={run} to={q.data} />;
  if (ids.length === 0)
    return (
      <div>
        {move}
        <p className="muted">Nothing to clear: {onlyFailed ? "no task failed in this run." : "the run has no task instances."}</p>
      </div>
    );
  return (
    <div>
      {move}
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
  const [onLatest, setOnLatest] = useState(false);
  const latestHint = useId();
  const operator = can("operator");
  const active = run.state === "queued" || run.state === "running";
  const base = `/dags/${seg(run.dagId)}/runs/${seg(run.runId)}`;
  const why = operator ? undefined : "Viewers cannot change runs";
  const done = (text: string) => {
    invalidateRun(qc, run.dagId, run.runId);
    toast.show(text);
  };
  // The dry run of the clear: which tasks would run again (and, on the latest code, where the run would move, or why it cannot).
  const preview = useQuery({
    queryKey: ["clear-preview", run.dagId, run.runId, onlyFailed, onLatest],
    queryFn: () => api<ClearResult>(`${base}/clear`, { method: "POST", body: { onlyFailed, onLatest, dryRun: true } }),
    enabled: action === "clear",
    retry: false,
    staleTime: 0,
    gcTime: 0,
  });

  return (
    <div className="btn-group" role="group" aria-label="Run actions">
      <button
        type="button"
        className="btn btn-sm"
        disabled={!operator}
        title={why ?? "Run the tasks of this run again"}
        onClick={() => {
          // Moving a run to other code is a choice made each time, not remembered.
          setOnLatest(false);
          setAction("clear");
        }}
      >
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
        confirmDisabled={onLatest && !!preview.error}
        onConfirm={async () => {
          const r = await api<ClearResult>(`${base}/clear`, { method: "POST", body: { onlyFailed, onLatest } });
          // The run may have moved to another version: the Code view's run counts change.
          if (onLatest) void qc.invalidateQueries({ queryKey: keys.versions(run.dagId) });
          done(`Cleared ${r.cleared.length} ${r.cleared.length === 1 ? "task" : "tasks"} of ${run.runId}${onLatest ? ` on ${codeOf(r.versionHash, r.bundleVersion)}` : ""}`);
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
        <div className="clear-options">
          <label className="checkbox">
            <input type="checkbox" checked={onLatest} onChange={(e) => setOnLatest(e.target.checked)} aria-describedby={latestHint} /> Run on the latest code
          </label>
          <p id={latestHint} className="field-hint">
            A run keeps the code (git commit) it was created with; this moves it to the DAG's current version first.
          </p>
        </div>
        {action === "clear" && <ClearPreview run={run} q={preview} onlyFailed={onlyFailed} onLatest={onLatest} />}
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
