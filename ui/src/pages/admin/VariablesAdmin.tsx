/**
 * Variables. Secret values are write-only: the list shows them masked, and
 * editing a secret leaves its value empty ("leave empty to keep").
 */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ACTIONS, DataTable, NoValue } from "../../components/DataTable";
import { FormDialog } from "../../components/Dialog";
import { EmptyState } from "../../components/Feedback";
import { Field } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Time } from "../../components/Time";
import { useToast } from "../../components/Toast";
import { useSubmit } from "../../components/useSubmit";
import { fieldErrors } from "../../lib/fieldErrors";
import { AdminSection } from "./AdminSection";
import { ConfirmDelete } from "./ConfirmDelete";
import { DeleteButton, EditButton } from "./RowActions";
import { usePagedList } from "./usePagedList";

interface Variable {
  key: string;
  value: string;
  isSecret: boolean;
  description: string | null;
  updatedAt: string;
}

const SECRET_WORDS = /password|secret|token|api_key|apikey|private_key|credential/i;

function VariableDialog({ variable, onClose }: { variable: Variable | null; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [key, setKey] = useState(variable?.key ?? "");
  const [value, setValue] = useState(variable && !variable.isSecret ? variable.value : "");
  const [isSecret, setIsSecret] = useState<boolean | null>(variable ? variable.isSecret : null);
  const [description, setDescription] = useState(variable?.description ?? "");
  const secret = isSecret ?? SECRET_WORDS.test(key);
  const keepSecret = !!variable?.isSecret;
  const { submit, pending, error } = useSubmit(async () => {
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
  });
  const errs = fieldErrors(error);

  return (
    <FormDialog onClose={onClose} title={variable ? `Edit variable ${variable.key}` : "New variable"} onSubmit={() => void submit()} submitLabel={variable ? "Save" : "Create"} pending={pending} error={error}>
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
    </FormDialog>
  );
}

const COLUMNS = ["Key", "Value", "Description", "Updated", ACTIONS];

export function VariablesAdmin() {
  const { query, items, pager } = usePagedList<Variable>("variables");
  const [editing, setEditing] = useState<Variable | "new" | null>(null);
  const [deleting, setDeleting] = useState<Variable | null>(null);

  return (
    <AdminSection
      title="Variables"
      newLabel="New variable"
      onNew={() => setEditing("new")}
      pager={pager}
      query={query}
      items={items}
      skeletonCols={4}
      empty={
        <EmptyState title="No variables yet" icon="variable">
          A variable holds a setting shared by several DAGs; secret ones are stored encrypted.
        </EmptyState>
      }
      table={(variables) => (
        <DataTable columns={COLUMNS}>
          {variables.map((v) => (
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
              <td>{v.description ?? <NoValue />}</td>
              <td>
                <Time value={v.updatedAt} relative />
              </td>
              <td className="cell-actions">
                <EditButton what={`variable ${v.key}`} onClick={() => setEditing(v)} />
                <DeleteButton what={`variable ${v.key}`} onClick={() => setDeleting(v)} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    >
      {editing && <VariableDialog variable={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDelete section="variables" noun="variable" name={deleting?.key ?? null} onClose={() => setDeleting(null)}>
        <p>Tasks that read it will fail until it exists again.</p>
      </ConfirmDelete>
    </AdminSection>
  );
}
