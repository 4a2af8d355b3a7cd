/**
 * Variables. Secret values are write-only: the list shows them masked, and
 * editing a secret leaves its value empty ("leave empty to keep").
 */
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Field } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Pagination } from "../../components/Pagination";
import { Time } from "../../components/Time";
import { useToast } from "../../components/Toast";
import { fieldErrors } from "../../lib/fieldErrors";

interface Variable {
  key: string;
  value: string;
  isSecret: boolean;
  description: string | null;
  updatedAt: string;
}

const PAGE = 50;
const SECRET_WORDS = /password|secret|token|api_key|apikey|private_key|credential/i;

function VariableDialog({ variable, onClose }: { variable: Variable | null; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [key, setKey] = useState(variable?.key ?? "");
  const [value, setValue] = useState(variable && !variable.isSecret ? variable.value : "");
  const [isSecret, setIsSecret] = useState<boolean | null>(variable ? variable.isSecret : null);
  const [description, setDescription] = useState(variable?.description ?? "");
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const errs = fieldErrors(error);
  const secret = isSecret ?? SECRET_WORDS.test(key);
  const keepSecret = !!variable?.isSecret;

  const submit = async () => {
    setPending(true);
    setError(null);
    try {
      if (variable) {
        const body: Record<string, unknown> = { description: description.trim() || null, isSecret: secret };
        // An empty value on a secret keeps the stored one.
        if (!(keepSecret && value === "")) body.value = value;
        await api(`/variables/${seg(variable.key)}`, { method: "PATCH", body });
      } else {
        await api("/variables", { method: "POST", body: { key: key.trim(), value, description: description.trim() || null, isSecret: secret } });
      }
      void qc.invalidateQueries({ queryKey: keys.admin("variables") });
      toast.show(variable ? `Variable ${variable.key} saved` : `Variable ${key.trim()} created`);
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <Dialog
      open
      onClose={onClose}
      title={variable ? `Edit variable ${variable.key}` : "New variable"}
      onSubmit={() => void submit()}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={pending}>
            {pending ? "Saving…" : variable ? "Save" : "Create"}
          </button>
        </>
      }
    >
      <ErrorBanner error={Object.keys(errs).length ? null : error} />
      {!variable && (
        <Field label="Key" error={errs.key} hint="Letters, digits, _ . -">
          {(p) => <input className="input mono" {...p} value={key} onChange={(e) => setKey(e.target.value)} autoFocus />}
        </Field>
      )}
      <Field label="Value" error={errs.value} hint={keepSecret ? "Secret: the stored value is never shown. Leave empty to keep it." : undefined}>
        {(p) =>
          secret ? (
            <input className="input mono" type="password" autoComplete="new-password" {...p} value={value} placeholder={keepSecret ? "leave empty to keep" : ""} onChange={(e) => setValue(e.target.value)} />
          ) : (
            <textarea className="textarea" rows={4} {...p} value={value} onChange={(e) => setValue(e.target.value)} />
          )
        }
      </Field>
      <label className="checkbox">
        <input type="checkbox" checked={secret} onChange={(e) => setIsSecret(e.target.checked)} /> Secret (stored encrypted, never shown again)
      </label>
      <Field label="Description" error={errs.description}>
        {(p) => <input className="input" {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
    </Dialog>
  );
}

export function VariablesAdmin() {
  const qc = useQueryClient();
  const toast = useToast();
  const [offset, setOffset] = useState(0);
  const q = useQuery({
    queryKey: [...keys.admin("variables"), offset],
    queryFn: () => api<{ variables: Variable[]; total: number }>("/variables", { query: { limit: PAGE, offset } }),
    placeholderData: keepPreviousData,
  });
  const [editing, setEditing] = useState<Variable | "new" | null>(null);
  const [deleting, setDeleting] = useState<Variable | null>(null);

  return (
    <section className="card">
      <div className="card-head">
        <h2>Variables</h2>
        <div className="btn-group">
          {q.data && <Pagination offset={offset} limit={PAGE} total={q.data.total} onChange={setOffset} label="variables" />}
          <button type="button" className="btn btn-primary btn-sm" onClick={() => setEditing("new")}>
            <Icon name="plus" /> New variable
          </button>
        </div>
      </div>
      <ErrorBanner error={q.error} onRetry={() => void q.refetch()} />
      {q.isPending ? (
        <SkeletonRows rows={3} cols={4} />
      ) : q.data?.variables.length === 0 ? (
        <EmptyState title="No variables yet" icon="variable">
          A variable holds a setting shared by several DAGs; secret ones are stored encrypted.
        </EmptyState>
      ) : q.data ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col">Description</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.variables.map((v) => (
                <tr key={v.key} data-testid={`variable-row-${v.key}`}>
                  <td className="mono">{v.key}</td>
                  <td className="mono value-cell">
                    {v.isSecret ? (
                      <span className="secret-mask" title="Secret: stored encrypted, never shown">
                        <Icon name="key" size={14} /> ••••••••
                      </span>
                    ) : (
                      <span title={v.value}>{v.value}</span>
                    )}
                  </td>
                  <td>{v.description ?? <span className="muted">—</span>}</td>
                  <td>
                    <Time value={v.updatedAt} relative />
                  </td>
                  <td className="cell-actions">
                    <button type="button" className="icon-btn" aria-label={`Edit variable ${v.key}`} title="Edit" onClick={() => setEditing(v)}>
                      <Icon name="edit" />
                    </button>
                    <button type="button" className="icon-btn danger-text" aria-label={`Delete variable ${v.key}`} title="Delete" onClick={() => setDeleting(v)}>
                      <Icon name="trash" />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {editing && <VariableDialog variable={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        open={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete variable ${deleting?.key}?`}
        danger
        confirmLabel="Delete"
        onConfirm={async () => {
          await api(`/variables/${seg(deleting!.key)}`, { method: "DELETE" });
          void qc.invalidateQueries({ queryKey: keys.admin("variables") });
          toast.show(`Variable ${deleting!.key} deleted`);
        }}
      >
        <p>Tasks that read it will fail until it exists again.</p>
      </ConfirmDialog>
    </section>
  );
}
