/** The icon buttons that end an admin table row, named for the row ("Edit pool gpu") since the icon says nothing to a screen reader. */
import { Icon } from "../../components/Icon";

export function EditButton({ what, onClick }: { what: string; onClick: () => void }) {
  return (
    <button type="button" className="icon-btn" aria-label={`Edit ${what}`} title="Edit" onClick={onClick}>
      <Icon name="edit" />
    </button>
  );
}

/** `disabledBecause` disables the button and says why in its tooltip. */
export function DeleteButton({ what, onClick, disabledBecause }: { what: string; onClick: () => void; disabledBecause?: string | false }) {
  return (
    <button type="button" className="icon-btn danger-text" aria-label={`Delete ${what}`} title={disabledBecause || "Delete"} disabled={!!disabledBecause} onClick={onClick}>
      <Icon name="trash" />
    </button>
  );
}
