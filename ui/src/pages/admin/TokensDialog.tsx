/** The API tokens of one user: create one (shown once), revoke one. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ACTIONS, DataTable } from "../../components/DataTable";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { ErrorBanner, ListBody, SkeletonRows } from "../../components/Feedback";
import { Field, SecretOnce } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Time } from "../../components/Time";
import { useToast } from "../../components/Toast";
import { useSubmit } from "../../components/useSubmit";
import { fieldErrors } from "../../lib/fieldErrors";

interface Token {
  id: number;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export function TokensDialog({ user, onClose }: { user: { id: number; username: string }; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const q = useQuery({ queryKey: keys.tokens(user.id), queryFn: () => api<{ tokens: Token[] }>(`/users/${seg(user.username)}/tokens`) });
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.tokens(user.id) });
    void qc.invalidateQueries({ queryKey: keys.admin("users") });
  };
  const { submit, error } = useSubmit(async () => {
    const t = await api<Token & { token: string }>(`/users/${seg(user.username)}/tokens`, { method: "POST", body: { name: name.trim() } });
    setCreated({ name: t.name, token: t.token });
    setName("");
    refresh();
  });
  const errs = fieldErrors(error);
  // The confirmation is the tokens dialog's sibling, not its child: a <form> inside the tokens <form> would
  // not send its submit event up to React (the browser stops it at the outer form) and the page would reload.
  return (
    <>
      <Dialog open size="lg" onClose={onClose} title={`API tokens of ${user.username}`} onSubmit={() => void submit()} footer={<button type="button" className="btn" onClick={onClose}>Close</button>}>
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
        <ListBody pending={q.isPending} items={q.data?.tokens} loading={<SkeletonRows rows={2} cols={3} />} empty={<p className="muted">No tokens.</p>}>
          {(tokens) => (
            <DataTable compact columns={["Name", "Created", "Last used", ACTIONS]}>
              {tokens.map((t) => (
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
            </DataTable>
          )}
        </ListBody>
      </Dialog>
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
    </>
  );
}
