/**
 * The DAG file's source at a version: the selected run's version by default
 * (the code that run was created from), or any stored version from the picker.
 */
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { api, seg } from "../../api/client";
import { useDag, useRun } from "../../api/hooks";
import { keys } from "../../api/keys";
import { CodeBlock } from "../../components/CodeBlock";
import { ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { usePrefs } from "../../lib/prefs";
import { useDagSelection } from "./useDagSelection";

interface Version {
  versionHash: string;
  createdAt: string;
  hasSource: boolean;
  isCurrent: boolean;
  /** Only when asked for with runCounts=true. */
  runCount?: number;
}
interface Source {
  dagId: string;
  versionHash: string;
  fileloc: string;
  source: string;
}

export default function CodeView({ dagId, runId }: { dagId: string; runId: string | null }) {
  const dag = useDag(dagId);
  const run = useRun(dagId, runId);
  const sel = useDagSelection();
  const { fmt } = usePrefs();
  const id = useId();
  // runCounts is opt-in on the API (it reads every run of the DAG); the picker shows them, so ask.
  const versions = useQuery({ queryKey: keys.versions(dagId), queryFn: () => api<Version[]>(`/dags/${seg(dagId)}/versions`, { query: { limit: 200, runCounts: true } }) });
  const version = sel.version ?? run.data?.versionHash ?? dag.data?.versionHash;
  const source = useQuery({
    queryKey: keys.source(dagId, version),
    queryFn: () => api<Source>(`/dags/${seg(dagId)}/source`, { query: { version } }),
    enabled: !!version,
    staleTime: Infinity,
  });
  const list = versions.data ?? [];
  const current = list.find((v) => v.versionHash === version);

  const copy = () => void navigator.clipboard?.writeText(source.data?.source ?? "");

  return (
    <div className="card code-card">
      <div className="card-head">
        <div className="field-row">
          <label htmlFor={id} className="field-label">
            Version
          </label>
          <select id={id} className="select version-picker" value={version ?? ""} onChange={(e) => sel.setVersion(e.target.value)} disabled={list.length === 0}>
            {version && !current && <option value={version}>{version.slice(0, 12)}</option>}
            {list.map((v) => (
              <option key={v.versionHash} value={v.versionHash} disabled={!v.hasSource}>
                {v.versionHash.slice(0, 12)} · {fmt(v.createdAt, "short")}
                {v.runCount !== undefined ? ` · ${v.runCount.toLocaleString()} ${v.runCount === 1 ? "run" : "runs"}` : ""}
                {v.isCurrent ? " · current" : ""}
                {!v.hasSource ? " · no source stored" : ""}
              </option>
            ))}
          </select>
          {runId && run.data && version === run.data.versionHash && <span className="muted">version of run {runId}</span>}
          {current?.isCurrent && <span className="pill">current</span>}
        </div>
        <div className="btn-group">
          {source.data && <span className="mono muted code-file">{source.data.fileloc}</span>}
          <button type="button" className="btn btn-sm" onClick={copy} disabled={!source.data}>
            <Icon name="copy" /> Copy
          </button>
        </div>
      </div>
      {source.error ? (
        <div className="card-body">
          <ErrorBanner error={source.error} title="No source for this version" />
        </div>
      ) : source.data ? (
        <CodeBlock code={source.data.source} label={`Source of ${dagId} at version ${source.data.versionHash.slice(0, 12)}`} />
      ) : (
        <SkeletonRows rows={10} cols={1} />
      )}
    </div>
  );
}
