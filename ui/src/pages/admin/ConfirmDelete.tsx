/**
 * "Delete pool gpu?": on confirm, DELETE /<section>/<name>, refresh the
 * section's list and say so in a toast. Open while `name` is set.
 */
import { useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { api, seg } from "../../api/client";
import { keys } from "../../api/keys";
import { ConfirmDialog } from "../../components/Dialog";
import { useToast } from "../../components/Toast";

interface ConfirmDeleteProps {
  section: Parameters<typeof keys.admin>[0];
  /** What one item is called, lower case: "pool". */
  noun: string;
  name: string | null;
  onClose: () => void;
  /** What deleting it breaks. */
  children: ReactNode;
}

export function ConfirmDelete({ section, noun, name, onClose, children }: ConfirmDeleteProps) {
  const qc = useQueryClient();
  const toast = useToast();
  return (
    <ConfirmDialog
      open={name !== null}
      onClose={onClose}
      title={`Delete ${noun} ${name}?`}
      danger
      confirmLabel="Delete"
      onConfirm={async () => {
        await api(`/${section}/${seg(name!)}`, { method: "DELETE" });
        void qc.invalidateQueries({ queryKey: keys.admin(section) });
        toast.show(`${noun[0].toUpperCase()}${noun.slice(1)} ${name} deleted`);
      }}
    >
      {children}
    </ConfirmDialog>
  );
}
