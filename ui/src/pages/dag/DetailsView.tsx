/** Everything about the DAG's definition: schedule, dates, limits, params with their schema, docs, file. */
import { useMemo } from "react";
import { Link } from "react-router";
import type { DagDetail, DatasetSchedule, JsonSchema } from "../../api/types";
import { DataTable } from "../../components/DataTable";
import { Time } from "../../components/Time";
import { renderMarkdown } from "../../lib/markdown";
import { fieldsOf, hintOf } from "../../lib/paramsSchema";
import { formatDuration } from "../../lib/time";

function typeText(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`;
  if (Array.isArray(s.type)) return s.type.join(" | ");
  return s.type ?? "any";
}

/** A dataset schedule's datasets (the condition itself is the schedule text above), each with whether an update waits for the next run. */
function DatasetScheduleFacts({ schedule }: { schedule: DatasetSchedule }) {
  const queued = new Map(schedule.queued.map((q) => [q.uri, q.since]));
  return (
    <div className="dataset-schedule" data-testid="dataset-schedule">
      <ul className="plain-list">
        {schedule.uris.map((uri) => (
          <li key={uri}>
            <Link to="/datasets" className="mono" title="Datasets page">
              {uri}
            </Link>{" "}
            {queued.has(uri) ? (
              <span className="muted">
                · updated <Time value={queued.get(uri)!} relative />, waiting for the next run
              </span>
            ) : (
              <span className="muted">· no update since the last run</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export default function DetailsView({ dag }: { dag: DagDetail }) {
  const docs = useMemo(() => (dag.docs ? renderMarkdown(dag.docs) : null), [dag.docs]);
  const params = useMemo(() => fieldsOf(dag.paramsSchema, dag.params), [dag.paramsSchema, dag.params]);
  return (
    <div className="details">
      <div className="details-main">
        <section className="card" aria-labelledby="docs-h">
          <div className="card-head">
            <h2 id="docs-h">Docs</h2>
          </div>
          <div className="card-body">
            {docs ? <div className="markdown" dangerouslySetInnerHTML={{ __html: docs }} /> : <p className="muted">This DAG has no docs. Add them with the <code>docs</code> option of <code>dag()</code> (markdown).</p>}
          </div>
        </section>
        <section className="card" aria-labelledby="params-h">
          <div className="card-head">
            <h2 id="params-h">Params</h2>
            <span className="muted">Validated against this schema when a run is triggered</span>
          </div>
          {params.length === 0 ? (
            <div className="card-body muted">No params.</div>
          ) : (
            <DataTable columns={["Name", "Type", "Default", "Constraints", "Description"]}>
              {params.map((p) => (
                <tr key={p.name}>
                  <td className="mono">
                    {p.name}
                    {p.required && <span className="muted"> (required)</span>}
                  </td>
                  <td>{typeText(p.schema)}</td>
                  <td className="mono">{p.name in dag.params ? JSON.stringify(dag.params[p.name]) : p.schema.default !== undefined ? JSON.stringify(p.schema.default) : "—"}</td>
                  <td>{hintOf(p) || "—"}</td>
                  <td>{p.description ?? "—"}</td>
                </tr>
              ))}
            </DataTable>
          )}
          {dag.paramsSchema && (
            <details className="card-body schema-details">
              <summary>JSON Schema</summary>
              <pre className="code-block">{JSON.stringify(dag.paramsSchema, null, 2)}</pre>
            </details>
          )}
        </section>
      </div>
      <aside className="card details-side" aria-labelledby="def-h">
        <div className="card-head">
          <h2 id="def-h">Definition</h2>
        </div>
        <dl className="kv card-body">
          <dt>Schedule</dt>
          <dd>
            {dag.scheduleDescription}
            {dag.schedule && (
              <div className="muted mono">
                {dag.schedule} · {dag.timezone}
              </div>
            )}
            {dag.datasetSchedule && <DatasetScheduleFacts schedule={dag.datasetSchedule} />}
          </dd>
          <dt>Start</dt>
          <dd>
            <Time value={dag.start} />
          </dd>
          <dt>End</dt>
          <dd>
            <Time value={dag.end} />
          </dd>
          <dt>Catchup</dt>
          <dd>{dag.catchup ? "Yes: missed intervals run" : "No: only the latest interval"}</dd>
          <dt>Max active runs</dt>
          <dd>{dag.maxActiveRuns}</dd>
          <dt>Max active tasks</dt>
          <dd>{dag.maxActiveTasks}</dd>
          <dt>Run timeout</dt>
          <dd>{dag.runTimeoutMs ? formatDuration(dag.runTimeoutMs) : "none"}</dd>
          <dt>Owner</dt>
          <dd>{dag.owner ?? "—"}</dd>
          <dt>Tags</dt>
          <dd>{dag.tags.length ? dag.tags.join(", ") : "—"}</dd>
          <dt>File</dt>
          <dd className="mono">{dag.fileloc}</dd>
          <dt>Version</dt>
          <dd className="mono" title={dag.versionHash}>
            {dag.versionHash.slice(0, 12)}
          </dd>
          <dt>Updated</dt>
          <dd>
            <Time value={dag.updatedAt} relative />
          </dd>
          <dt>Status</dt>
          <dd>{dag.paused ? "Paused" : "Active"}{!dag.active && " (file gone)"}</dd>
        </dl>
      </aside>
    </div>
  );
}
