/**
 * Modal dialogs on the native <dialog> element: the browser traps focus,
 * closes on Esc and gives it role="dialog"; we add the title as its name.
 */
import { useEffect, useId, useRef, type FormEvent, type ReactNode } from "react";
import { fieldErrors } from "../lib/fieldErrors";
import { ErrorBanner } from "./Feedback";
import { Icon } from "./Icon";
import { useSubmit } from "./useSubmit";

interface DialogProps {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
  /** Wide dialogs hold forms with many fields or tables. */
  size?: "sm" | "md" | "lg";
  /** Render the body as a form; Enter submits it. */
  onSubmit?: (e: FormEvent<HTMLFormElement>) => void;
}

export function Dialog({ open, onClose, title, children, footer, size = "md", onSubmit }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  if (!open) return null;
  const body = (
    <>
      <header className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="dialog-body">{children}</div>
      {footer && <footer className="dialog-foot">{footer}</footer>}
    </>
  );
  return (
    <dialog
      ref={ref}
      className={`dialog dialog-${size}`}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        // A click on the backdrop lands on the <dialog> itself.
        if (e.target === ref.current) onClose();
      }}
    >
      {onSubmit ? (
        <form
          className="dialog-form"
          onSubmit={(e) => {
            e.preventDefault();
            onSubmit(e);
          }}
          noValidate
        >
          {body}
        </form>
      ) : (
        body
      )}
    </dialog>
  );
}

interface FormDialogProps {
  open?: boolean;
  onClose: () => void;
  title: ReactNode;
  size?: "sm" | "md" | "lg";
  onSubmit: () => void;
  submitLabel: string;
  /** The submit button's text while `pending`. */
  pendingLabel?: string;
  pending?: boolean;
  submitDisabled?: boolean;
  danger?: boolean;
  /** The action's last error: a banner above the fields, unless it names fields (they show it). */
  error?: unknown;
  /** Replaces Cancel + submit, e.g. with "Done" once the form's work is done. */
  footer?: ReactNode;
  children: ReactNode;
}

/** A dialog holding a form, with Cancel and a submit button that says when it is busy. */
export function FormDialog({ open = true, onClose, title, size, onSubmit, submitLabel, pendingLabel = "Saving…", pending, submitDisabled, danger, error, footer, children }: FormDialogProps) {
  return (
    <Dialog
      open={open}
      size={size}
      onClose={onClose}
      title={title}
      onSubmit={onSubmit}
      footer={
        footer ?? (
          <>
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className={`btn ${danger ? "btn-danger" : "btn-primary"}`} disabled={pending || submitDisabled}>
              {pending ? pendingLabel : submitLabel}
            </button>
          </>
        )
      }
    >
      {error !== undefined && <ErrorBanner error={Object.keys(fieldErrors(error)).length ? null : error} />}
      {children}
    </Dialog>
  );
}

interface ConfirmProps {
  open: boolean;
  onClose: () => void;
  title: string;
  children?: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  /** Runs on confirm; the dialog stays open with the error if it throws. */
  onConfirm: () => Promise<unknown> | unknown;
  confirmDisabled?: boolean;
}

export function ConfirmDialog({ open, onClose, title, children, confirmLabel = "Confirm", danger, onConfirm, confirmDisabled }: ConfirmProps) {
  const { submit, pending, error, reset } = useSubmit(async () => {
    await onConfirm();
    onClose();
  });
  useEffect(() => {
    if (open) reset();
  }, [open]);
  return (
    <FormDialog open={open} onClose={onClose} title={title} size="sm" onSubmit={() => void submit()} submitLabel={confirmLabel} pendingLabel="Working…" pending={pending} submitDisabled={confirmDisabled} danger={danger}>
      {children}
      <ErrorBanner error={error} />
    </FormDialog>
  );
}
