/** Pools: slots and their use; create, resize, delete (not default_pool, not while in use). */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { EmptyState, ErrorBanner, SkeletonRows } from "../../components/Feedback";
import { Field } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { useToast } from "../../components/Toast";
import { fieldErrors } from "../../lib/fieldErrors";

interface Pool {
  name: string;
  slots: number;
  description: string | null;
  occupiedSlots: number;
  runningSlots: number;
  queuedSlots: number;
  scheduledSlots: number;
  openSlots: number;
  isDefault: boolean;
}

function PoolDialog({ pool, onClose }: { pool: Pool | null; onClose: () => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(pool?.name ?? "");
  const [slots, setSlots] = useState(String(pool?.slots ?? 4));
  const [description, setDescription] = useState(pool?.description ?? "");
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const errs = fieldErrors(error);
  const submit = async () => {
    setPending(true);
    setError(null);
    try {
      const n = Number(slots);
      if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error("Slots must be a whole number, 0 or more."), {});
      const body = { slots: n, description: description.trim() || null };
      if (pool) await api(`/pools/${seg(pool.name)}`, { method: "PATCH", body });
      else await api("/pools", { method: "POST", body: { name: name.trim(), ...body } });
      void qc.invalidateQueries({ queryKey: keys.admin("pools") });
      toast.show(pool ? `Pool ${pool.name} saved` : `Pool ${name.trim()} created`);
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
      title={pool ? `Edit pool ${pool.name}` : "New pool"}
      onSubmit={() => void submit()}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={pending}>
            {pending ? "Saving…" : pool ? "Save" : "Create"}
          </button>
        </>
      }
    >
      <ErrorBanner error={Object.keys(errs).length ? null : error} />
      {!pool && (
        <Field label="Name" error={errs.name} hint="Letters, digits, _ . -; tasks name it in their pool option.">
          {(p) => <input className="input mono" {...p} value={name} onChange={(e) => setName(e.target.value)} autoFocus />}
        </Field>
      )}
      <Field label="Slots" error={errs.slots} hint="How many of its tasks may be queued or running at once; 0 holds them all.">
        {(p) => <input className="input" type="number" min={0} step={1} {...p} value={slots} onChange={(e) => setSlots(e.target.value)} />}
      </Field>
      <Field label="Description" error={errs.description}>
        {(p) => <input className="input" {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
    </Dialog>
  );
}

export function PoolsAdmin() {
  const qc = useQueryClient();
  const toast = useToast();
  const q = useQuery({ queryKey: keys.admin("pools"), queryFn: () => api<{ pools: Pool[] }>("/pools") });
  const [editing, setEditing] = useState<Pool | "new" | null>(null);
  const [deleting, setDeleting] = useState<Pool | null>(null);

  return (
    <section className="card">
      <div className="card-head">
        <h2>Pools</h2>
        <button type="button" className="btn btn-primary btn-sm" onClick={() => setEditing("new")}>
          <Icon name="plus" /> New pool
        </button>
      </div>
      <ErrorBanner error={q.error} onRetry={() => void q.refetch()} />
      {q.isPending ? (
        <SkeletonRows rows={3} cols={6} />
      ) : q.data?.pools.length === 0 ? (
        <EmptyState title="No pools" icon="pool" />
      ) : q.data ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="num">
                  Slots
                </th>
                <th scope="col">Use</th>
                <th scope="col" className="num">
                  Running
                </th>
                <th scope="col" className="num">
                  Queued
                </th>
                <th scope="col" className="num">
                  Waiting
                </th>
                <th scope="col">Description</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {q.data.pools.map((p) => (
                <tr key={p.name} data-testid={`pool-row-${p.name}`}>
                  <td className="mono">
                    {p.name}
                    {p.isDefault && <span className="pill" style={{ marginLeft: 8 }}>default</span>}
                  </td>
                  <td className="num">{p.slots}</td>
                  <td>
                    <div className="meter" role="img" aria-label={`${p.occupiedSlots} of ${p.slots} slots in use`} title={`${p.occupiedSlots} of ${p.slots} slots in use`}>
                      <span style={{ width: `${p.slots ? Math.min(100, (p.occupiedSlots / p.slots) * 100) : 0}%` }} />
                    </div>
                  </td>
                  <td className="num">{p.runningSlots}</td>
                  <td className="num">{p.queuedSlots}</td>
                  <td className="num">{p.scheduledSlots}</td>
                  <td>{p.description ?? <span className="muted">—</span>}</td>
                  <td className="cell-actions">
                    <button type="button" className="icon-btn" aria-label={`Edit pool ${p.name}`} title="Edit" onClick={() => setEditing(p)}>
                      <Icon name="edit" />
                    </button>
                    <button
                      type="button"
                      className="icon-btn danger-text"
                      aria-label={`Delete pool ${p.name}`}
                      title={p.isDefault ? "The default pool cannot be deleted" : "Delete"}
                      disabled={p.isDefault}
                      onClick={() => setDeleting(p)}
                    >
                      <Icon name="trash" />
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {editing && <PoolDialog pool={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDialog
        open={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete pool ${deleting?.name}?`}
        danger
        confirmLabel="Delete"
        onConfirm={async () => {
          await api(`/pools/${seg(deleting!.name)}`, { method: "DELETE" });
          void qc.invalidateQueries({ queryKey: keys.admin("pools") });
          toast.show(`Pool ${deleting!.name} deleted`);
        }}
      >
        <p>Tasks that name this pool will not run until it exists again.</p>
      </ConfirmDialog>
    </section>
  );
}
