/**
 * Users: create (a generated password is shown once), change role, set a new
 * password, delete; and per user the API tokens (a new token is shown once).
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useAuth } from "../../api/auth";
import { api, errorMessage, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Field, SecretOnce } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Time } from "../../components/Time";
import { useToast } from "../../components/Toast";
import { fieldErrors } from "../../lib/fieldErrors";

interface User {
  id: number;
  username: string;
  role: string;
  createdAt: string;
  tokens: number;
}
interface Token {
  id: number;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}
const ROLES = ["viewer", "operator", "admin"] as const;
const ROLE_HINT: Record<string, string> = {
  viewer: "reads everything",
  operator: "also triggers, pauses, clears and marks",
  admin: "also manages pools, variables, connections and users",
};

function CreateUserDialog({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<string>("viewer");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const [generated, setGenerated] = useState<string | null>(null);
  const errs = fieldErrors(error);
  const submit = async () => {
    if (generated) return onClose();
    setPending(true);
    setError(null);
    try {
      const r = await api<{ user: User; password?: string }>("/users", { method: "POST", body: { username: username.trim(), role, ...(password ? { password } : {}) } });
      void qc.invalidateQueries({ queryKey: keys.admin("users") });
      if (r.password) setGenerated(r.password);
      else onClose();
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
      title={generated ? `User ${username} created` : "New user"}
      onSubmit={() => void submit()}
      footer={
        generated ? (
          <button type="submit" className="btn btn-primary">
            Done
          </button>
        ) : (
          <>
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={pending}>
              {pending ? "Creating…" : "Create"}
            </button>
          </>
        )
      }
    >
      {generated ? (
        <SecretOnce label={`Password of ${username}`} value={generated} />
      ) : (
        <>
          <ErrorBanner error={Object.keys(errs).length ? null : error} />
          <Field label="Username" error={errs.username}>
            {(p) => <input className="input" autoComplete="off" {...p} value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />}
          </Field>
          <Field label="Role" error={errs.role} hint={ROLE_HINT[role]}>
            {(p) => (
              <select className="select" {...p} value={role} onChange={(e) => setRole(e.target.value)}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Password" error={errs.password} hint="At least 8 characters. Leave empty to generate one (shown once).">
            {(p) => <input className="input" type="password" autoComplete="new-password" {...p} value={password} onChange={(e) => setPassword(e.target.value)} />}
          </Field>
        </>
      )}
    </Dialog>
  );
}

function PasswordDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const toast = useToast();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const errs = fieldErrors(error);
  const submit = async () => {
    try {
      await api(`/users/${seg(user.username)}`, { method: "PATCH", body: { password } });
      toast.show(`Password of ${user.username} changed; their other sessions were signed out`);
      onClose();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog
      open
      size="sm"
      onClose={onClose}
      title={`New password for ${user.username}`}
      onSubmit={() => void submit()}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary">
            Set password
          </button>
        </>
      }
    >
      <ErrorBanner error={Object.keys(errs).length ? null : error} />
      <Field label="Password" error={errs.password} hint="At least 8 characters. The user's other sessions end.">
        {(p) => <input className="input" type="password" autoComplete="new-password" {...p} value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />}
      </Field>
    </Dialog>
  );
}

function TokensDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const q = useQuery({ queryKey: keys.tokens(user.id), queryFn: () => api<{ tokens: Token[] }>(`/users/${seg(user.username)}/tokens`) });
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const errs = fieldErrors(error);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.tokens(user.id) });
    void qc.invalidateQueries({ queryKey: keys.admin("users") });
  };
  const create = async () => {
    setError(null);
    try {
      const t = await api<Token & { token: string }>(`/users/${seg(user.username)}/tokens`, { method: "POST", body: { name: name.trim() } });
      setCreated({ name: t.name, token: t.token });
      setName("");
      refresh();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog open size="lg" onClose={onClose} title={`API tokens of ${user.username}`} onSubmit={() => void create()} footer={<button type="button" className="btn" onClick={onClose}>Close</button>}>
      {created && <SecretOnce label={`Token "${created.name}"`} value={created.token} />}
      <ErrorBanner error={q.error ?? (Object.keys(errs).length ? null : error)} />
      <div className="field-row token-create">
        <Field label="New token name" error={errs.name} hint='What it is for, e.g. "nightly-report". Send it as Authorization: Bearer <token>.'>
          {(p) => <input className="input" {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={!name.trim()}>
          <Icon name="plus" /> Create token
        </button>
      </div>
      {q.isPending ? (
        <SkeletonRows rows={2} cols={3} />
      ) : q.data && q.data.tokens.length === 0 ? (
        <p className="muted">No tokens.</p>
      ) : q.data ? (
        <table className="table table-compact">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {q.data.tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <Time value={t.createdAt} relative />
                </td>
                <td>{t.lastUsedAt ? <Time value={t.lastUsedAt} relative /> : <span className="muted">never</span>}</td>
                <td className="cell-actions">
                  <button type="button" className="btn btn-sm danger-text" onClick={() => setRevoking(t)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ConfirmDialog
        open={!!revoking}
        onClose={() => setRevoking(null)}
        title={`Revoke token "${revoking?.name}"?`}
        danger
        confirmLabel="Revoke"
        onConfirm={async () => {
          await api(`/users/${seg(user.username)}/tokens/${revoking!.id}`, { method: "DELETE" });
          refresh();
          toast.show(`Token "${revoking!.name}" revoked`);
        }}
      >
        <p>Scripts using it get 401 from now on.</p>
      </ConfirmDialog>
    </Dialog>
  );
}

export function UsersAdmin() {
  const { me } = useAuth();
  const qc = useQueryClient();
  const toast = useToast();
  const q = useQuery({ queryKey: keys.admin("users"), queryFn: () => api<{ users: User[] }>("/users") });
  const [dialog, setDialog] = useState<{ kind: "create" } | { kind: "password" | "tokens" | "delete"; user: User } | null>(null);

  const changeRole = async (u: User, role: string) => {
    try {
      await api(`/users/${seg(u.username)}`, { method: "PATCH", body: { role } });
      toast.show(`${u.username} is now ${role === "admin" ? "an" : "a"} ${role}`);
    } catch (err) {
      toast.show(errorMessage(err), "error");
    } finally {
      void qc.invalidateQueries({ queryKey: keys.admin("users") });
    }
  };

  return (
    <section className="card">
      <div className="card-head">
        <h2>Users</h2>
        <button type="button" className="btn btn-primary btn-sm" onClick={() => setDialog({ kind: "create" })}>
          <Icon name="plus" /> New user
        </button>
      </div>
      <ErrorBanner error={q.error} onRetry={() => void q.refetch()} />
      {q.isPending ? (
        <SkeletonRows rows={3} cols={5} />
      ) : q.data?.users.length === 0 ? (
        <EmptyState title="No users" icon="user" />
      ) : q.data ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col" className="num">
                  Tokens
                </th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.users.map((u) => {
                const self = me?.user.username === u.username;
                return (
                  <tr key={u.id} data-testid={`user-row-${u.username}`}>
                    <td>
                      <span className="avatar avatar-sm" aria-hidden="true">
                        {u.username.slice(0, 1).toUpperCase()}
                      </span>{" "}
                      {u.username}
                      {self && <span className="muted"> (you)</span>}
                    </td>
                    <td>
                      <select className="select select-sm" aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => void changeRole(u, e.target.value)}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                        {!ROLES.includes(u.role as (typeof ROLES)[number]) && <option value={u.role}>{u.role} (unknown)</option>}
                      </select>
                    </td>
                    <td>
                      <Time value={u.createdAt} relative />
                    </td>
                    <td className="num">{u.tokens}</td>
                    <td className="cell-actions">
                      <button type="button" className="btn btn-sm" onClick={() => setDialog({ kind: "tokens", user: u })}>
                        <Icon name="key" /> Tokens
                      </button>
                      <button type="button" className="btn btn-sm" onClick={() => setDialog({ kind: "password", user: u })}>
                        Set password
                      </button>
                      <button
                        type="button"
                        className="icon-btn danger-text"
                        aria-label={`Delete user ${u.username}`}
                        title={self ? "You cannot delete yourself" : "Delete"}
                        disabled={self}
                        onClick={() => setDialog({ kind: "delete", user: u })}
                      >
                        <Icon name="trash" />
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {dialog?.kind === "create" && <CreateUserDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === "password" && <PasswordDialog user={dialog.user} onClose={() => setDialog(null)} />}
      {dialog?.kind === "tokens" && <TokensDialog user={dialog.user} onClose={() => setDialog(null)} />}
      <ConfirmDialog
        open={dialog?.kind === "delete"}
        onClose={() => setDialog(null)}
        title={`Delete user ${dialog && "user" in dialog ? dialog.user.username : ""}?`}
        danger
        confirmLabel="Delete"
        onConfirm={async () => {
          if (!dialog || !("user" in dialog)) return;
          await api(`/users/${seg(dialog.user.username)}`, { method: "DELETE" });
          void qc.invalidateQueries({ queryKey: keys.admin("users") });
          toast.show(`User ${dialog.user.username} deleted`);
        }}
      >
        <p>Their sessions and API tokens stop working at once.</p>
      </ConfirmDialog>
    </section>
  );
}
