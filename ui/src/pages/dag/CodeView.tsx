/**
 * The DAG file's source at a version: the selected run's version by default
 * (the code that run was created from), or any stored version from the picker.
 * A version from a git bundle shows its commit (sha, message, author, time).
 * "Compare with" a second version shows the line diff from that version to
 * the selected one instead of the file (?compare= in the URL, so it can be
 * shared).
 */
import { useQuery } from "@tanstack/react-query";
import { useId } from "react";
import { useSearchParams } from "react-router";
import { api, seg } from "../../api/client";
import { useDag, useRun } from "../../api/hooks";
import { keys } from "../../api/keys";
import type { DagVersion, VersionCommit } from "../../api/types";
import { CodeBlock } from "../../components/CodeBlock";
import { ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { SourceDiff } from "../../components/SourceDiff";
import { Time, useNow } from "../../components/Time";
import { usePrefs } from "../../lib/prefs";
import { formatRelative } from "../../lib/time";
import { useDagSelection } from "./useDagSelection";
import "../../styles/versions.css";

interface Source {
  dagId: string;
  versionHash: string;
  fileloc: string;
  source: string;
}

/** Commits and version hashes are shown by their first 12 characters, as the API's messages name them. */
const short = (id: string) => id.slice(0, 12);
const firstLine = (s: string | null) => (s ?? "").split("\n", 1)[0].trim();
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** "Ada Lovelace" of "Ada Lovelace <ada@example.com>". */
const authorName = (a: string) => a.replace(/\s*<[^>]*>\s*$/, "") || a;

/** A version as one line: its commit (sha · message · when) when it has one, else its hash and when it was stored. */
function versionText(v: DagVersion, fmt: (v: string) => string, now: number): string {
  const c = v.commit;
  const head = c ? [short(c.sha), clip(firstLine(c.message), 48), c.committedAt ? formatRelative(c.committedAt, now) : null].filter(Boolean).join(" · ") : `${short(v.versionHash)} · ${fmt(v.createdAt)}`;
  return (
    head +
    (v.runCount !== undefined ? ` · ${v.runCount.toLocaleString()} ${v.runCount === 1 ? "run" : "runs"}` : "") +
    (v.isCurrent ? " · current" : "") +
    (!v.hasSource ? " · no source stored" : "")
  );
}

/** A version's name in the diff's title: its commit with the message, or its hash. */
function versionName(hash: string, v: DagVersion | undefined): string {
  const c = v?.commit;
  if (!c) return `version ${short(hash)}`;
  const msg = firstLine(c.message);
  return `commit ${short(c.sha)}${msg ? ` (${clip(msg, 40)})` : ""}`;
}

function CommitLine({ commit }: { commit: VersionCommit }) {
  const msg = firstLine(commit.message);
  return (
    <p className="version-commit" data-testid="version-commit">
      <span className="muted">Commit</span>
      <span className="mono commit-sha" title={commit.sha}>
        {short(commit.sha)}
      </span>
      {msg && <span className="commit-message">{msg}</span>}
      {commit.author && (
        <span className="muted" title={commit.author}>
          {authorName(commit.author)}
        </span>
      )}
      {commit.committedAt && (
        <span className="muted">
          <Time value={commit.committedAt} relative />
        </span>
      )}
      <span className="muted">bundle {commit.bundle}</span>
    </p>
  );
}

export default function CodeView({ dagId, runId }: { dagId: string; runId: string | null }) {
  const dag = useDag(dagId);
  const run = useRun(dagId, runId);
  const sel = useDagSelection();
  const [params, setParams] = useSearchParams();
  const { fmt } = usePrefs();
  const now = useNow(60_000);
  const id = useId();
  const compareId = useId();
  // runCounts is opt-in on the API (it reads every run of the DAG); the picker shows them, so ask.
  const versions = useQuery({ queryKey: keys.versions(dagId), queryFn: () => api<DagVersion[]>(`/dags/${seg(dagId)}/versions`, { query: { limit: 200, runCounts: true } }) });
  const version = sel.version ?? run.data?.versionHash ?? dag.data?.versionHash;
  const wanted = params.get("compare");
  const compare = wanted && wanted !== version ? wanted : null;
  const source = useQuery({
    queryKey: keys.source(dagId, version),
    queryFn: () => api<Source>(`/dags/${seg(dagId)}/source`, { query: { version } }),
    enabled: !!version,
    staleTime: Infinity,
  });
  const base = useQuery({
    queryKey: keys.source(dagId, compare ?? undefined),
    queryFn: () => api<Source>(`/dags/${seg(dagId)}/source`, { query: { version: compare } }),
    enabled: !!compare,
    staleTime: Infinity,
  });
  const list = versions.data ?? [];
  const current = list.find((v) => v.versionHash === version);
  const setCompare = (v: string) =>
    setParams((old) => {
      const next = new URLSearchParams(old);
      if (v) next.set("compare", v);
      else next.delete("compare");
      return next;
    });

  const copy = () => void navigator.clipboard?.writeText(source.data?.source ?? "");
  const error = source.error ?? (compare ? base.error : null);

  return (
    <div className="card code-card">
      <div className="card-head">
        <div className="field-row">
          <label htmlFor={id} className="field-label">
            Version
          </label>
          <select id={id} className="select version-picker" value={version ?? ""} onChange={(e) => sel.setVersion(e.target.value)} disabled={list.length === 0}>
            {version && !current && <option value={version}>{short(version)}</option>}
            {list.map((v) => (
              <option key={v.versionHash} value={v.versionHash} disabled={!v.hasSource}>
                {versionText(v, (t) => fmt(t, "short"), now)}
              </option>
            ))}
          </select>
          {runId && run.data && version === run.data.versionHash && <span className="muted">version of run {runId}</span>}
          {current?.isCurrent && <span className="pill">current</span>}
        </div>
        <div className="field-row">
          <label htmlFor={compareId} className="field-label">
            Compare with
          </label>
          <select id={compareId} className="select compare-picker" value={compare ?? ""} onChange={(e) => setCompare(e.target.value)} disabled={list.length < 2}>
            <option value="">none</option>
            {list
              .filter((v) => v.versionHash !== version)
              .map((v) => (
                <option key={v.versionHash} value={v.versionHash} disabled={!v.hasSource}>
                  {versionText({ ...v, runCount: undefined }, (t) => fmt(t, "short"), now)}
                </option>
              ))}
          </select>
        </div>
        <div className="btn-group">
          {source.data && <span className="mono muted code-file">{source.data.fileloc}</span>}
          <button type="button" className="btn btn-sm" onClick={copy} disabled={!source.data}>
            <Icon name="copy" /> Copy
          </button>
        </div>
      </div>
      {current?.commit && <CommitLine commit={current.commit} />}
      {error ? (
        <div className="card-body">
          <ErrorBanner error={error} title={source.error ? "No source for this version" : "No source for the version to compare with"} />
        </div>
      ) : compare && source.data && base.data ? (
        <SourceDiff
          before={base.data.source}
          after={source.data.source}
          label={`Changes from ${versionName(compare, list.find((v) => v.versionHash === compare))} to ${versionName(source.data.versionHash, current)}`}
        />
      ) : source.data && !compare ? (
        <CodeBlock code={source.data.source} label={`Source of ${dagId} at version ${short(source.data.versionHash)}`} />
      ) : (
        <SkeletonRows rows={10} cols={1} />
      )}
    </div>
  );
}
