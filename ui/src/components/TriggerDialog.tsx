/**
 * "Trigger DAG" dialog: a form generated from the DAG's params schema, with
 * defaults filled in. A 400 from the API (conf that fails the schema) puts
 * each message next to its field.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useState } from "react";
import { Link } from "react-router";
import { api, ApiError, seg } from "../api/client";
import { invalidateRun, useDag } from "../api/hooks";
import type { Run } from "../api/types";
import { fieldsOf, hintOf, toConf, type FormValues, type ParamField } from "../lib/paramsSchema";
import { FormDialog } from "./Dialog";
import { ErrorBanner, SkeletonRows } from "./Feedback";
import { Field } from "./Field";
import { useToast } from "./Toast";

function ParamInput({ field, value, onChange, error }: { field: ParamField; value: string | boolean; onChange: (v: string | boolean) => void; error?: string }) {
  const id = useId();
  if (field.kind === "boolean") {
    const describedBy = [field.description ? `${id}-hint` : "", error ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined;
    return (
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy} name={field.name} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          <span className="field-label">{field.label}</span>
        </label>
        {field.description && (
          <span className="field-hint" id={`${id}-hint`}>
            {field.description}
          </span>
        )}
        {error && (
          <span className="field-error" id={`${id}-err`}>
            {error}
          </span>
        )}
      </div>
    );
  }
  const label = (
    <>
      {field.label}
      {field.required && <span aria-hidden="true"> *</span>}
    </>
  );
  const hint = [field.description, hintOf(field)].filter(Boolean).join(" · ") || undefined;
  return (
    <Field label={label} hint={hint} error={error}>
      {(p) => {
        const common = { ...p, name: field.name };
        if (field.kind === "enum") {
          return (
            <select className="select" {...common} value={String(value)} onChange={(e) => onChange(e.target.value)}>
              {(!field.required || value === "") && <option value="">{field.required ? "Choose…" : "(default)"}</option>}
              {field.options!.map((o) => (
                <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
                  {typeof o === "string" ? o : JSON.stringify(o)}
                </option>
              ))}
            </select>
          );
        }
        if (field.kind === "json") return <textarea className="textarea" rows={4} spellCheck={false} {...common} value={String(value)} onChange={(e) => onChange(e.target.value)} />;
        const numeric = field.kind === "number" || field.kind === "integer";
        return (
          <input
            className="input"
            {...common}
            type={numeric ? "number" : "text"}
            inputMode={field.kind === "integer" ? "numeric" : numeric ? "decimal" : undefined}
            step={field.kind === "integer" ? 1 : numeric ? "any" : undefined}
            value={String(value)}
            onChange={(e) => onChange(e.target.value)}
          />
        );
      }}
    </Field>
  );
}

export function TriggerDialog({ dagId, open, onClose }: { dagId: string; open: boolean; onClose: () => void }) {
  const dag = useDag(dagId);
  const qc = useQueryClient();
  const toast = useToast();
  const fields = useMemo(() => (dag.data ? fieldsOf(dag.data.paramsSchema, dag.data.params) : []), [dag.data]);
  const [values, setValues] = useState<FormValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [runId, setRunId] = useState("");
  const [logicalDate, setLogicalDate] = useState("");
  const [pending, setPending] = useState(false);
  const advId = useId();

  useEffect(() => {
    if (!open) return;
    setValues(Object.fromEntries(fields.map((f) => [f.name, f.initial])));
    setErrors({});
    setFormError(null);
    setRunId("");
    setLogicalDate("");
  }, [open, fields]);

  const submit = async () => {
    const { conf, errors: local } = toConf(fields, values);
    setErrors(local);
    setFormError(null);
    if (Object.keys(local).length > 0) return;
    setPending(true);
    try {
      const body: Record<string, unknown> = { conf };
      if (runId.trim()) body.runId = runId.trim();
      if (logicalDate) body.logicalDate = new Date(logicalDate).toISOString();
      const run = await api<Run>(`/dags/${seg(dagId)}/runs`, { method: "POST", body });
      invalidateRun(qc, dagId);
      toast.show(
        <>
          Triggered <Link to={`/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(run.runId)}`}>{run.runId}</Link>
        </>,
      );
      onClose();
    } catch (err) {
      if (err instanceof ApiError && err.fields.length > 0) {
        const byField: Record<string, string> = {};
        const unmatched: string[] = [];
        for (const f of err.fields) {
          // Params errors name the param ("rows"); body validation errors name "conf.rows".
          const name = f.field.replace(/^conf\./, "").split(".")[0];
          if (fields.some((x) => x.name === name)) byField[name] = byField[name] ? `${byField[name]}; ${f.message}` : f.message;
          else unmatched.push(`${f.field}: ${f.message}`);
        }
        setErrors(byField);
        if (unmatched.length) setFormError(new Error(unmatched.join("; ")));
        else if (Object.keys(byField).length) setFormError(new Error("Some params are invalid: see the messages under the fields."));
        else setFormError(err);
      } else {
        setFormError(err);
      }
    } finally {
      setPending(false);
    }
  };

  return (
    <FormDialog
      open={open}
      onClose={onClose}
      title={
        <>
          Trigger <span className="mono">{dagId}</span>
        </>
      }
      onSubmit={() => void submit()}
      submitLabel="Trigger"
      pendingLabel="Triggering…"
      pending={pending}
      submitDisabled={!dag.data}
    >
      {dag.isPending ? (
        <SkeletonRows rows={3} cols={1} />
      ) : dag.error ? (
        <ErrorBanner error={dag.error} />
      ) : (
        <>
          <ErrorBanner error={formError} />
          {fields.length === 0 ? (
            <p className="muted">This DAG has no params. The run starts with an empty conf.</p>
          ) : (
            <fieldset className="form-grid fieldset">
              <legend className="section-title">Params</legend>
              {fields.map((f) => (
                <ParamInput key={f.name} field={f} value={values[f.name] ?? f.initial} onChange={(v) => setValues((old) => ({ ...old, [f.name]: v }))} error={errors[f.name]} />
              ))}
            </fieldset>
          )}
          <details className="advanced">
            <summary>Advanced: run id and logical date</summary>
            <div className="form-grid" style={{ marginTop: 12 }}>
              <div className="field">
                <label className="field-label" htmlFor={`${advId}-run`}>
                  Run ID
                </label>
                <input className="input mono" id={`${advId}-run`} placeholder="manual__<logical date>" value={runId} onChange={(e) => setRunId(e.target.value)} />
              </div>
              <div className="field">
                <label className="field-label" htmlFor={`${advId}-date`}>
                  Logical date (your local time)
                </label>
                <input className="input" id={`${advId}-date`} type="datetime-local" step={1} value={logicalDate} onChange={(e) => setLogicalDate(e.target.value)} />
                <span className="field-hint">Empty: now.</span>
              </div>
            </div>
          </details>
        </>
      )}
    </FormDialog>
  );
}
