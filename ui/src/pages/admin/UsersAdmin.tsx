/**
 * Users: create (a generated password is shown once), change role, set a new
 * password, delete; and per user the API tokens (a new token is shown once).
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useAuth } from "../../api/auth";
import { api, errorMessage, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ACTIONS, DataTable } from "../../components/DataTable";
import { FormDialog } from "../../components/Dialog";
import { EmptyState } from "../../components/Feedback";
import { Field, SecretOnce } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Time } from "../../components/Time";
import { useToast } from "../../components/Toast";
import { useSubmit } from "../../components/useSubmit";
import { fieldErrors } from "../../lib/fieldErrors";
import { AdminSection } from "./AdminSection";
import { ConfirmDelete } from "./ConfirmDelete";
import { DeleteButton } from "./RowActions";
import { TokensDialog } from "./TokensDialog";

interface User {
  id: number;
  username: string;
  role: string;
  createdAt: string;
  tokens: number;
}
const ROLES = ["viewer", "operator", "admin"] as const;
const ROLE_HINT: Record<string, string> = {
  viewer: "reads everything",
  operator: "also triggers, pauses, clears and marks",
  admin: "also manages pools, variables, connections and users",
};

function RoleOptions() {
  return ROLES.map((r) => (
    <option key={r} value={r}>
      {r}
    </option>
  ));
}

function CreateUserDialog({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<string>("viewer");
  const [password, setPassword] = useState("");
  const [generated, setGenerated] = useState<string | null>(null);
  const { submit, pending, error } = useSubmit(async () => {
    const r = await api<{ user: User; password?: string }>("/users", { method: "POST", body: { username: username.trim(), role, ...(password ? { password } : {}) } });
    void qc.invalidateQueries({ queryKey: keys.admin("users") });
    if (r.password) setGenerated(r.password);
    else onClose();
  });
  const errs = fieldErrors(error);
  return (
    <FormDialog
      onClose={onClose}
      title={generated ? `User ${username} created` : "New user"}
      onSubmit={() => (generated ? onClose() : void submit())}
      submitLabel="Create"
      pendingLabel="Creating…"
      pending={pending}
      error={error}
      footer={
        generated && (
          <button type="submit" className="btn btn-primary">
            Done
          </button>
        )
      }
    >
      {generated ? (
        <SecretOnce label={`Password of ${username}`} value={generated} />
      ) : (
        <>
          <Field label="Username" error={errs.username}>
            {(p) => <input className="input" autoComplete="off" {...p} value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />}
          </Field>
          <Field label="Role" error={errs.role} hint={ROLE_HINT[role]}>
            {(p) => (
              <select className="select" {...p} value={role} onChange={(e) => setRole(e.target.value)}>
                <RoleOptions />
              </select>
            )}
          </Field>
          <Field label="Password" error={errs.password} hint="At least 8 characters. Leave empty to generate one (shown once).">
            {(p) => <input className="input" type="password" autoComplete="new-password" {...p} value={password} onChange={(e) => setPassword(e.target.value)} />}
          </Field>
        </>
      )}
    </FormDialog>
  );
}

function PasswordDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const toast = useToast();
  const [password, setPassword] = useState("");
  const { submit, error } = useSubmit(async () => {
    await api(`/users/${seg(user.username)}`, { method: "PATCH", body: { password } });
    toast.show(`Password of ${user.username} changed; their other sessions were signed out`);
    onClose();
  });
  const errs = fieldErrors(error);
  return (
    <FormDialog size="sm" onClose={onClose} title={`New password for ${user.username}`} onSubmit={() => void submit()} submitLabel="Set password" error={error}>
      <Field label="Password" error={errs.password} hint="At least 8 characters. The user's other sessions end.">
        {(p) => <input className="input" type="password" autoComplete="new-password" {...p} value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />}
      </Field>
    </FormDialog>
  );
}

const COLUMNS = ["Username", "Role", "Created", { label: "Tokens", num: true }, ACTIONS];

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
    <AdminSection
      title="Users"
      newLabel="New user"
      onNew={() => setDialog({ kind: "create" })}
      query={q}
      items={q.data?.users}
      skeletonCols={5}
      empty={<EmptyState title="No users" icon="user" />}
      table={(users) => (
        <DataTable columns={COLUMNS}>
          {users.map((u) => {
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
                    <RoleOptions />
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
                  <DeleteButton what={`user ${u.username}`} disabledBecause={self && "You cannot delete yourself"} onClick={() => setDialog({ kind: "delete", user: u })} />
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
    >
      {dialog?.kind === "create" && <CreateUserDialog onClose={() => setDialog(null)} />}
      {dialog?.kind === "password" && <PasswordDialog user={dialog.user} onClose={() => setDialog(null)} />}
      {dialog?.kind === "tokens" && <TokensDialog user={dialog.user} onClose={() => setDialog(null)} />}
      <ConfirmDelete section="users" noun="user" name={dialog?.kind === "delete" ? dialog.user.username : null} onClose={() => setDialog(null)}>
        <p>Their sessions and API tokens stop working at once.</p>
      </ConfirmDelete>
    </AdminSection>
  );
}
