/**
 * Connections. The password is write-only (the list says only whether one is
 * set; editing leaves it empty to keep it); extra settings are a JSON object
 * whose secret-looking values come back masked and stay as they are when
 * sent back masked.
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
import { useToast } from "../../components/Toast";
import { fieldErrors } from "../../lib/fieldErrors";

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

const PAGE = 50;
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
  const [error, setError] = useState<unknown>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const [pending, setPending] = useState(false);
  const errs = { ...fieldErrors(error), ...local };
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF((old) => ({ ...old, [k]: e.target.value }));
  const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

  const submit = async () => {
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
    setPending(true);
    setError(null);
    try {
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
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  };

  return (
    <Dialog
      open
      size="lg"
      onClose={onClose}
      title={conn ? `Edit connection ${conn.connId}` : "New connection"}
      onSubmit={() => void submit()}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={pending}>
            {pending ? "Saving…" : conn ? "Save" : "Create"}
          </button>
        </>
      }
    >
      <ErrorBanner error={Object.keys(fieldErrors(error)).length ? null : error} />
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
    </Dialog>
  );
}

export function ConnectionsAdmin() {
  const qc = useQueryClient();
  const toast = useToast();
  const [offset, setOffset] = useState(0);
  const q = useQuery({
    queryKey: [...keys.admin("connections"), offset],
    queryFn: () => api<{ connections: Connection[]; total: number }>("/connections", { query: { limit: PAGE, offset } }),
    placeholderData: keepPreviousData,
  });
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);

  return (
    <section className="card">
      <div className="card-head">
        <h2>Connections</h2>
        <div className="btn-group">
          {q.data && <Pagination offset={offset} limit={PAGE} total={q.data.total} onChange={setOffset} label="connections" />}
          <button type="button" className="btn btn-primary btn-sm" onClick={() => setEditing("new")}>
            <Icon name="plus" /> New connection
          </button>
        </div>
      </div>
      <ErrorBanner error={q.error} onRetry={() => void q.refetch()} />
      {q.isPending ? (
        <SkeletonRows rows={3} cols={6} />
      ) : q.data?.connections.length === 0 ? (
        <EmptyState title="No connections yet" icon="plug">
          A connection stores where an external system is and how to sign in to it, so DAG files hold no credentials.
        </EmptyState>
      ) : q.data ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Type</th>
                <th scope="col">Host</th>
                <th scope="col">Login</th>
                <th scope="col">Password</th>
                <th scope="col">Schema</th>
                <th scope="col">Description</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.connections.map((c) => (
                <tr key={c.connId} data-testid={`connection-row-${c.connId}`}>
                  <td className="mono">{c.connId}</td>
                  <td>
                    <span className="pill">{c.connType}</span>
                  </td>
                  <td className="mono">
                    {c.host ?? "—"}
                    {c.port !== null ? `:${c.port}` : ""}
                  </td>
                  <td>{c.login ?? <span className="muted">—</span>}</td>
                  <td>{c.hasPassword ? <span className="secret-mask"><Icon name="key" size={14} /> ••••••••</span> : <span className="muted">none</span>}</td>
                  <td>{c.schema ?? <span className="muted">—</span>}</td>
                  <td>{c.description ?? <span className="muted">—</span>}</td>
                  <td className="cell-actions">
                    <button type="button" className="icon-btn" aria-label={`Edit connection ${c.connId}`} title="Edit" onClick={() => setEditing(c)}>
                      <Icon name="edit" />
                    </button>
                    <button type="button" className="icon-btn danger-text" aria-label={`Delete connection ${c.connId}`} title="Delete" onClick={() => setDeleting(c)}>
                      <Icon name="trash" />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {editing && <ConnectionDialog conn={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        open={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete connection ${deleting?.connId}?`}
        danger
        confirmLabel="Delete"
        onConfirm={async () => {
          await api(`/connections/${seg(deleting!.connId)}`, { method: "DELETE" });
          void qc.invalidateQueries({ queryKey: keys.admin("connections") });
          toast.show(`Connection ${deleting!.connId} deleted`);
        }}
      >
        <p>Its stored password and extra settings are deleted with it.</p>
      </ConfirmDialog>
    </section>
  );
}
