/**
 * Connections. The password is write-only (the list says only whether one is
 * set; editing leaves it empty to keep it); extra settings are a JSON object
 * whose secret-looking values come back masked and stay as they are when
 * sent back masked.
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
import { useToast } from "../../components/Toast";
import { useSubmit } from "../../components/useSubmit";
import { fieldErrors } from "../../lib/fieldErrors";
import { AdminSection } from "./AdminSection";
import { ConfirmDelete } from "./ConfirmDelete";
import { DeleteButton, EditButton } from "./RowActions";
import { usePagedList } from "./usePagedList";

interface Connection {
  connId: string;
  connType: string;
  host: string | null;
  port: number | null;
  login: string | null;
  hasPassword: boolean;
  schema: string | null;
  extra: Record<string, unknown> | null;
  description: string | null;
  updatedAt: string;
}

const TYPES = ["postgres", "mysql", "sqlite", "http", "s3", "gcs", "spark", "kafka", "slack", "smtp", "ssh"];

function ConnectionDialog({ conn, onClose }: { conn: Connection | null; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [f, setF] = useState({
    connId: conn?.connId ?? "",
    connType: conn?.connType ?? "postgres",
    host: conn?.host ?? "",
    port: conn?.port === null || conn?.port === undefined ? "" : String(conn.port),
    login: conn?.login ?? "",
    password: "",
    schema: conn?.schema ?? "",
    extra: conn?.extra ? JSON.stringify(conn.extra, null, 2) : "",
    description: conn?.description ?? "",
  });
  const [removePassword, setRemovePassword] = useState(false);
  const [local, setLocal] = useState<Record<string, string>>({});
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF((old) => ({ ...old, [k]: e.target.value }));
  const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

  const { submit, pending, error } = useSubmit(async () => {
    const problems: Record<string, string> = {};
    let extra: Record<string, unknown> | null = null;
    if (f.extra.trim()) {
      try {
        const parsed = JSON.parse(f.extra) as unknown;
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) problems.extra = "Extra must be a JSON object, like {\"region\": \"eu-west-1\"}.";
        else extra = parsed as Record<string, unknown>;
      } catch (err) {
        problems.extra = `Not valid JSON: ${(err as Error).message}`;
      }
    }
    const port = f.port.trim() === "" ? null : Number(f.port);
    if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535)) problems.port = "A port is a whole number from 1 to 65535.";
    setLocal(problems);
    if (Object.keys(problems).length) return;
    const body: Record<string, unknown> = {
      connType: f.connType.trim(),
      host: orNull(f.host),
      port,
      login: orNull(f.login),
      schema: orNull(f.schema),
      extra,
      description: orNull(f.description),
    };
    if (conn) {
      // Empty password: keep the stored one (unless asked to remove it).
      if (removePassword) body.password = null;
      else if (f.password !== "") body.password = f.password;
      await api(`/connections/${seg(conn.connId)}`, { method: "PATCH", body });
    } else {
      if (f.password !== "") body.password = f.password;
      await api("/connections", { method: "POST", body: { connId: f.connId.trim(), ...body } });
    }
    void qc.invalidateQueries({ queryKey: keys.admin("connections") });
    toast.show(conn ? `Connection ${conn.connId} saved` : `Connection ${f.connId.trim()} created`);
    onClose();
  });
  const errs = { ...fieldErrors(error), ...local };

  return (
    <FormDialog size="lg" onClose={onClose} title={conn ? `Edit connection ${conn.connId}` : "New connection"} onSubmit={() => void submit()} submitLabel={conn ? "Save" : "Create"} pending={pending} error={error}>
      <div className="form-2col">
        {!conn && (
          <Field label="Connection id" error={errs.connId} hint="Letters, digits, _ . -">
            {(p) => <input className="input mono" {...p} value={f.connId} onChange={set("connId")} autoFocus />}
          </Field>
        )}
        <Field label="Type" error={errs.connType}>
          {(p) => (
            <>
              <input className="input" list="conn-types" {...p} value={f.connType} onChange={set("connType")} />
              <datalist id="conn-types">
                {TYPES.map((t) => (
                  <option key={t} value={t} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Host" error={errs.host}>
          {(p) => <input className="input" {...p} value={f.host} onChange={set("host")} />}
        </Field>
        <Field label="Port" error={errs.port}>
          {(p) => <input className="input" type="number" min={1} max={65535} {...p} value={f.port} onChange={set("port")} />}
        </Field>
        <Field label="Login" error={errs.login}>
          {(p) => <input className="input" autoComplete="off" {...p} value={f.login} onChange={set("login")} />}
        </Field>
        <Field label="Password" error={errs.password} hint={conn ? (conn.hasPassword ? "A password is stored. Leave empty to keep it." : "No password stored.") : "Stored encrypted; never shown again."}>
          {(p) => (
            <input
              className="input"
              type="password"
              autoComplete="new-password"
              {...p}
              value={f.password}
              disabled={removePassword}
              placeholder={conn?.hasPassword ? "leave empty to keep" : ""}
              onChange={set("password")}
            />
          )}
        </Field>
        <Field label="Schema" error={errs.schema}>
          {(p) => <input className="input" {...p} value={f.schema} onChange={set("schema")} />}
        </Field>
        <Field label="Description" error={errs.description}>
          {(p) => <input className="input" {...p} value={f.description} onChange={set("description")} />}
        </Field>
      </div>
      {conn?.hasPassword && (
        <label className="checkbox">
          <input type="checkbox" checked={removePassword} onChange={(e) => setRemovePassword(e.target.checked)} /> Remove the stored password
        </label>
      )}
      <Field label="Extra (JSON object)" error={errs.extra} hint="Stored encrypted. Values shown as masked stay unchanged when saved as they are.">
        {(p) => <textarea className="textarea" rows={5} spellCheck={false} {...p} value={f.extra} onChange={set("extra")} placeholder='{"region": "eu-west-1"}' />}
      </Field>
    </FormDialog>
  );
}

const COLUMNS = ["Id", "Type", "Host", "Login", "Password", "Schema", "Description", ACTIONS];

export function ConnectionsAdmin() {
  const { query, items, pager } = usePagedList<Connection>("connections");
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);

  return (
    <AdminSection
      title="Connections"
      newLabel="New connection"
      onNew={() => setEditing("new")}
      pager={pager}
      query={query}
      items={items}
      skeletonCols={6}
      empty={
        <EmptyState title="No connections yet" icon="plug">
          A connection stores where an external system is and how to sign in to it, so DAG files hold no credentials.
        </EmptyState>
      }
      table={(connections) => (
        <DataTable columns={COLUMNS}>
          {connections.map((c) => (
            <tr key={c.connId} data-testid={`connection-row-${c.connId}`}>
              <td className="mono">{c.connId}</td>
              <td>
                <span className="pill">{c.connType}</span>
              </td>
              <td className="mono">
                {c.host ?? "—"}
                {c.port !== null ? `:${c.port}` : ""}
              </td>
              <td>{c.login ?? <NoValue />}</td>
              <td>{c.hasPassword ? <span className="secret-mask"><Icon name="key" size={14} /> ••••••••</span> : <span className="muted">none</span>}</td>
              <td>{c.schema ?? <NoValue />}</td>
              <td>{c.description ?? <NoValue />}</td>
              <td className="cell-actions">
                <EditButton what={`connection ${c.connId}`} onClick={() => setEditing(c)} />
                <DeleteButton what={`connection ${c.connId}`} onClick={() => setDeleting(c)} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    >
      {editing && <ConnectionDialog conn={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDelete section="connections" noun="connection" name={deleting?.connId ?? null} onClose={() => setDeleting(null)}>
        <p>Its stored password and extra settings are deleted with it.</p>
      </ConfirmDelete>
    </AdminSection>
  );
}
