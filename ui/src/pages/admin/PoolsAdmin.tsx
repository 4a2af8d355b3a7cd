/** Pools: slots and their use; create, resize, delete (not default_pool, not while in use). */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ACTIONS, DataTable, NoValue } from "../../components/DataTable";
import { FormDialog } from "../../components/Dialog";
import { EmptyState } from "../../components/Feedback";
import { Field } from "../../components/Field";
import { useToast } from "../../components/Toast";
import { useSubmit } from "../../components/useSubmit";
import { fieldErrors } from "../../lib/fieldErrors";
import { AdminSection } from "./AdminSection";
import { ConfirmDelete } from "./ConfirmDelete";
import { DeleteButton, EditButton } from "./RowActions";

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
  const { submit, pending, error } = useSubmit(async () => {
    const n = Number(slots);
    if (!Number.isInteger(n) || n < 0) throw new Error("Slots must be a whole number, 0 or more.");
    const body = { slots: n, description: description.trim() || null };
    if (pool) await api(`/pools/${seg(pool.name)}`, { method: "PATCH", body });
    else await api("/pools", { method: "POST", body: { name: name.trim(), ...body } });
    void qc.invalidateQueries({ queryKey: keys.admin("pools") });
    toast.show(pool ? `Pool ${pool.name} saved` : `Pool ${name.trim()} created`);
    onClose();
  });
  const errs = fieldErrors(error);
  return (
    <FormDialog onClose={onClose} title={pool ? `Edit pool ${pool.name}` : "New pool"} onSubmit={() => void submit()} submitLabel={pool ? "Save" : "Create"} pending={pending} error={error}>
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
    </FormDialog>
  );
}

const COLUMNS = ["Name", { label: "Slots", num: true }, "Use", { label: "Running", num: true }, { label: "Queued", num: true }, { label: "Waiting", num: true }, "Description", ACTIONS];

export function PoolsAdmin() {
  const q = useQuery({ queryKey: keys.admin("pools"), queryFn: () => api<{ pools: Pool[] }>("/pools") });
  const [editing, setEditing] = useState<Pool | "new" | null>(null);
  const [deleting, setDeleting] = useState<Pool | null>(null);

  return (
    <AdminSection
      title="Pools"
      newLabel="New pool"
      onNew={() => setEditing("new")}
      query={q}
      items={q.data?.pools}
      skeletonCols={6}
      empty={<EmptyState title="No pools" icon="pool" />}
      table={(pools) => (
        <DataTable columns={COLUMNS}>
          {pools.map((p) => (
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
              <td>{p.description ?? <NoValue />}</td>
              <td className="cell-actions">
                <EditButton what={`pool ${p.name}`} onClick={() => setEditing(p)} />
                <DeleteButton what={`pool ${p.name}`} disabledBecause={p.isDefault && "The default pool cannot be deleted"} onClick={() => setDeleting(p)} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    >
      {editing && <PoolDialog pool={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDelete section="pools" noun="pool" name={deleting?.name ?? null} onClose={() => setDeleting(null)}>
        <p>Tasks that name this pool will not run until it exists again.</p>
      </ConfirmDelete>
    </AdminSection>
  );
}
