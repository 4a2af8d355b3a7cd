/**
 * Clear (with downstream / upstream / only-failed options and the dry-run
 * list in the confirmation) and mark success / failed for one task instance
 * (of a mapped task: the one with `mapIndex`); with `allInstances`, only
 * "Clear all instances", for every instance of a mapped task at once.
 * Viewers see the buttons disabled, with the reason as a tooltip.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useAuth } from "../../api/auth";
import { api, seg } from "../../api/client";
import { invalidateRun } from "../../api/hooks";
import { ConfirmDialog } from "../../components/Dialog";
import { ErrorBanner, Spinner } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { StateBadge } from "../../components/State";
import { useToast } from "../../components/Toast";

interface ClearOptions {
  downstream: boolean;
  upstream: boolean;
  onlyFailed: boolean;
}
interface Cleared {
  cleared: { taskId: string; mapIndex: number; state: string }[];
  dryRun: boolean;
}

interface Props {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  state: string;
  /** A mapped task's whole set of instances: clear only (marking is per instance). */
  allInstances?: boolean;
}

/** The confirmation lists at most this many instances (a clear of a task mapped 5,000 ways would be a long dialog). */
const LIST_MAX = 100;

export function TaskActions({ dagId, runId, taskId, mapIndex, state, allInstances = false }: Props) {
  const { can } = useAuth();
  const qc = useQueryClient();
  const toast = useToast();
  const [dialog, setDialog] = useState<"clear" | "success" | "failed" | null>(null);
  const [opts, setOpts] = useState<ClearOptions>({ downstream: true, upstream: false, onlyFailed: false });
  const operator = can("operator");
  const why = operator ? undefined : "Viewers cannot clear or mark tasks";
  const base = `/dags/${seg(dagId)}/runs/${seg(runId)}/tasks/${seg(taskId)}`;
  // Without mapIndex the API clears every instance of a mapped task.
  const mapQuery = { mapIndex: !allInstances && mapIndex >= 0 ? mapIndex : undefined };
  const name = allInstances ? `every instance of ${taskId}` : mapIndex >= 0 ? `${taskId}[${mapIndex}]` : taskId;

  const preview = useQuery({
    queryKey: ["task-clear-preview", dagId, runId, taskId, allInstances ? "all" : mapIndex, opts],
    queryFn: () => api<Cleared>(`${base}/clear`, { method: "POST", body: { ...opts, dryRun: true }, query: mapQuery }),
    enabled: dialog === "clear",
    staleTime: 0,
    gcTime: 0,
  });

  const done = (text: string) => {
    invalidateRun(qc, dagId, runId);
    toast.show(text);
  };
  const running = state === "running" || state === "queued";

  return (
    <div className="btn-group" role="group" aria-label={allInstances ? "Actions on every instance" : "Task actions"}>
      <button type="button" className="btn btn-sm" disabled={!operator} title={why ?? (allInstances ? "Run every instance of this task again" : "Run this task again")} onClick={() => setDialog("clear")}>
        <Icon name="refresh" /> {allInstances ? "Clear all instances" : "Clear"}
      </button>
      {!allInstances && (
        <>
          <button type="button" className="btn btn-sm" disabled={!operator || running} title={why ?? (running ? "Wait for the task to finish" : undefined)} onClick={() => setDialog("success")}>
            <Icon name="check" /> Mark success
          </button>
          <button type="button" className="btn btn-sm" disabled={!operator || running} title={why ?? (running ? "Wait for the task to finish" : undefined)} onClick={() => setDialog("failed")}>
            <Icon name="x" /> Mark failed
          </button>
        </>
      )}

      <ConfirmDialog
        open={dialog === "clear"}
        onClose={() => setDialog(null)}
        title={`Clear ${name}?`}
        confirmDisabled={!preview.data || preview.data.cleared.length === 0}
        onConfirm={async () => {
          const r = await api<Cleared>(`${base}/clear`, { method: "POST", body: { ...opts, dryRun: false }, query: mapQuery });
          done(`Cleared ${r.cleared.length} task ${r.cleared.length === 1 ? "instance" : "instances"}; ${allInstances ? taskId : name} runs again`);
        }}
      >
        <fieldset className="fieldset clear-options">
          <legend className="field-label">Also clear</legend>
          <label className="checkbox">
            <input type="checkbox" checked={opts.downstream} onChange={(e) => setOpts({ ...opts, downstream: e.target.checked })} /> Downstream tasks
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={opts.upstream} onChange={(e) => setOpts({ ...opts, upstream: e.target.checked })} /> Upstream tasks
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={opts.onlyFailed} onChange={(e) => setOpts({ ...opts, onlyFailed: e.target.checked })} /> Only failed ones
          </label>
        </fieldset>
        {preview.isPending ? (
          <Spinner label="Finding the task instances to clear" />
        ) : preview.error ? (
          <ErrorBanner error={preview.error} />
        ) : preview.data.cleared.length === 0 ? (
          <p className="muted">Nothing matches: no instance would be cleared.</p>
        ) : (
          <div>
            <p>
              {preview.data.cleared.length} task {preview.data.cleared.length === 1 ? "instance" : "instances"} will run again:
            </p>
            <ul className="clear-list" aria-label="Task instances to clear">
              {preview.data.cleared.slice(0, LIST_MAX).map((c) => (
                <li key={`${c.taskId}:${c.mapIndex}`}>
                  <span className="mono">
                    {c.taskId}
                    {c.mapIndex >= 0 ? `[${c.mapIndex}]` : ""}
                  </span>{" "}
                  <StateBadge state={c.state} size="sm" />
                </li>
              ))}
            </ul>
            {preview.data.cleared.length > LIST_MAX && <p className="muted">… and {(preview.data.cleared.length - LIST_MAX).toLocaleString()} more.</p>}
          </div>
        )}
      </ConfirmDialog>

      <ConfirmDialog
        open={dialog === "success" || dialog === "failed"}
        onClose={() => setDialog(null)}
        title={`Mark ${name} ${dialog === "failed" ? "failed" : "success"}?`}
        danger={dialog === "failed"}
        onConfirm={async () => {
          const s = dialog === "failed" ? "failed" : "success";
          await api(`${base}/mark`, { method: "POST", body: { state: s }, query: mapQuery });
          done(`Marked ${name} ${s}`);
        }}
      >
        <p>
          {dialog === "failed"
            ? "The instance is set to failed; downstream tasks react as if it had failed."
            : "The instance is set to success; downstream tasks may start."}
        </p>
      </ConfirmDialog>
    </div>
  );
}
