/** Files that failed to import: a warning banner with every error's file, position and message. */
import { useEffect, useState } from "react";
import { useImportErrors } from "../api/hooks";
import { Icon } from "./Icon";
import { Time } from "./Time";

export function ImportErrorsBanner({ initiallyOpen = false }: { initiallyOpen?: boolean }) {
  const q = useImportErrors();
  const [open, setOpen] = useState(initiallyOpen);
  // The top bar's badge links here with ?importErrors=1, also while the list is already open.
  useEffect(() => {
    if (initiallyOpen) setOpen(true);
  }, [initiallyOpen]);
  const errors = q.data?.importErrors ?? [];
  if (errors.length === 0) return null;
  return (
    <section className="banner banner-warn import-errors" aria-label="DAG import errors" data-testid="import-errors">
      <Icon name="alert" />
      <div className="banner-body">
        <div className="import-errors-head">
          <strong>
            {errors.length} DAG {errors.length === 1 ? "file" : "files"} failed to import
          </strong>
          <span className="muted"> — the other DAGs keep running. Fix the file and Sluice re-imports it on its next scan.</span>
          <button type="button" className="btn btn-sm" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {open ? "Hide details" : "Show details"}
          </button>
        </div>
        {open && (
          <ul className="import-error-list">
            {errors.map((e) => (
              <li key={e.path}>
                <div className="import-error-where">
                  <span className="mono">
                    {e.path}
                    {e.line !== null ? `:${e.line}${e.column !== null ? `:${e.column}` : ""}` : ""}
                  </span>
                  <span className="muted">
                    <Time value={e.createdAt} relative />
                  </span>
                </div>
                <pre className="import-error-msg">{e.message}</pre>
                {e.stack && (
                  <details>
                    <summary>Stack trace</summary>
                    <pre className="import-error-msg">{e.stack}</pre>
                  </details>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
