/** Short confirmations after an action ("Run queued"), announced politely to screen readers. */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { Icon } from "./Icon";

interface Toast {
  id: number;
  text: ReactNode;
  kind: "ok" | "error";
}
interface Toasts {
  show: (text: ReactNode, kind?: "ok" | "error") => void;
}

const ToastContext = createContext<Toasts>({ show: () => {} });
let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const show = useCallback(
    (text: ReactNode, kind: "ok" | "error" = "ok") => {
      const id = nextId++;
      setToasts((t) => [...t.slice(-3), { id, text, kind }]);
      setTimeout(() => dismiss(id), kind === "error" ? 8000 : 4500);
    },
    [dismiss],
  );
  const value = useMemo(() => ({ show }), [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`}>
            <Icon name={t.kind === "ok" ? "check" : "alert"} />
            <div className="toast-text">{t.text}</div>
            <button type="button" className="icon-btn" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              <Icon name="close" size={14} />
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export const useToast = () => useContext(ToastContext);
