/**
 * What the task returned: a table preview when the value is tabular or CSV
 * text (first 50 rows × 20 columns), one per table-valued property when the
 * value is an object holding tables ("Table: sample"), and the whole value
 * as a JSON tree or, for a string, as text. DuckDB and Spark tasks' results
 * get a summary above (KindResult).
 */
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, ApiError, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { JsonTree } from "../../components/JsonTree";
import { formatBytes } from "../../lib/bytes";
import { cellText, findTables, type TablePreview } from "../../lib/tabular";
import { KindResult, summarisedProps } from "./KindResult";

interface Props {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  state: string;
  /** The task's kind, when known: DuckDB and Spark results get a summary. */
  kind?: string;
}

export function ResultView({ dagId, runId, taskId, mapIndex, state, kind }: Props) {
  const q = useQuery({
    queryKey: [...keys.result(dagId, runId, taskId), mapIndex, state],
    queryFn: () =>
      api<{ value: unknown; sizeBytes: number }>(`/dags/${seg(dagId)}/runs/${seg(runId)}/tasks/${seg(taskId)}/result`, { query: { mapIndex: mapIndex >= 0 ? mapIndex : undefined } }),
    enabled: state === "success",
  });
  const tables = useMemo(() => {
    if (!q.data) return [];
    const shown = summarisedProps(kind, q.data.value);
    return findTables(q.data.value).filter((t) => t.prop === null || !shown.includes(t.prop));
  }, [q.data, kind]);
  // null: the default view, the table when the whole value is one, else the raw value (it holds the rest of the result).
  const [picked, setPicked] = useState<string | null>(null);

  if (state !== "success") {
    return <EmptyState title="No result" icon="database">A result is stored when a try succeeds; this instance is {state.replaceAll("_", " ")}.</EmptyState>;
  }
  if (q.error) {
    return q.error instanceof ApiError && q.error.status === 404 ? <EmptyState title="No result stored" icon="database">{q.error.message}</EmptyState> : <ErrorBanner error={q.error} />;
  }
  if (!q.data) return <SkeletonRows rows={4} cols={3} />;
  const { value, sizeBytes } = q.data;
  if (value === null || value === undefined) return <EmptyState title="The task returned nothing" icon="database" />;
  const copy = () => void navigator.clipboard?.writeText(typeof value === "string" ? value : JSON.stringify(value, null, 2));

  const rawLabel = typeof value === "string" ? "Text" : "JSON";
  const views = [...tables.map((t) => ({ id: t.prop === null ? "table" : `table.${t.prop}`, label: t.prop === null ? "Table" : `Table: ${t.prop}`, found: t })), { id: "raw", label: rawLabel, found: null }];
  const current = views.find((v) => v.id === picked) ?? (tables[0]?.prop === null ? views[0] : views[views.length - 1]);

  return (
    <div className="result">
      <KindResult kind={kind} value={value} />
      <div className="result-head">
        {tables.length > 0 && (
          <div className="segmented" role="group" aria-label="Show result as">
            {views.map((v) => (
              <button key={v.id} type="button" className={`segmented-btn ${v === current ? "active" : ""}`} aria-pressed={v === current} onClick={() => setPicked(v.id)}>
                {v.label}
              </button>
            ))}
          </div>
        )}
        <span className="muted">{formatBytes(sizeBytes)}</span>
        <div className="toolbar-spacer" />
        <button type="button" className="btn btn-sm" onClick={copy}>
          <Icon name="copy" /> Copy
        </button>
      </div>
      {current.found ? (
        <ResultTable table={current.found.table} prop={current.found.prop} rawLabel={rawLabel} />
      ) : typeof value === "string" ? (
        <pre className="code-block result-text">{value}</pre>
      ) : (
        <JsonTree value={value} />
      )}
    </div>
  );
}

function ResultTable({ table, prop, rawLabel }: { table: TablePreview; prop: string | null; rawLabel: string }) {
  return (
    <div className="result-table-wrap">
      {prop !== null && (
        <p className="muted result-caption">
          <span className="mono">{prop}</span> · {table.totalRows.toLocaleString()} {table.totalRows === 1 ? "row" : "rows"} × {table.totalCols} {table.totalCols === 1 ? "column" : "columns"}
        </p>
      )}
      <div className="table-wrap result-table-scroll">
        <table className="table table-compact result-table" data-testid="result-table" aria-label={prop === null ? "Result as a table" : `Result property ${prop} as a table`}>
          <thead>
            <tr>
              <th scope="col" className="num">
                #
              </th>
              {table.columns.map((c, j) => (
                <th key={j} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((r, i) => (
              <tr key={i}>
                <td className="num muted">{i + 1}</td>
                {r.map((v, j) => (
                  <td key={j} className={typeof v === "number" ? "num" : undefined}>
                    {cellText(v)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {(table.cutRows || table.cutCols) && (
        <p className="muted result-note">
          Showing {table.rows.length} of {table.totalRows.toLocaleString()} rows
          {table.cutCols ? ` and ${table.columns.length} of ${table.totalCols} columns` : ""}. The {rawLabel} view has everything.
        </p>
      )}
    </div>
  );
}
