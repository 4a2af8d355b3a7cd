/** Short confirmations after an action ("Run queued"), announced politely to screen readers. */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
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

/**
 * How long a toast stays, in ms. They sit over the bottom right of the page,
 * where tables keep their row buttons, so a plain confirmation leaves soon;
 * one with a link (the new run) stays long enough to be clicked, an error
 * long enough to be read. Pointing at or focusing a toast holds it.
 */
const LIFE = { ok: 3000, link: 6000, error: 8000 };
const AFTER_HOLD = 2000;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const hold = useCallback((id: number) => clearTimeout(timers.current.get(id)), []);
  const dismiss = useCallback(
    (id: number) => {
      hold(id);
      timers.current.delete(id);
      setToasts((t) => t.filter((x) => x.id !== id));
    },
    [hold],
  );
  const expire = useCallback(
    (id: number, ms: number) => {
      hold(id);
      timers.current.set(id, setTimeout(() => dismiss(id), ms));
    },
    [hold, dismiss],
  );
  const show = useCallback(
    (text: ReactNode, kind: "ok" | "error" = "ok") => {
      const id = nextId++;
      setToasts((t) => [...t.slice(-3), { id, text, kind }]);
      expire(id, kind === "error" ? LIFE.error : typeof text === "string" ? LIFE.ok : LIFE.link);
    },
    [expire],
  );
  const value = useMemo(() => ({ show }), [show]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div
            key={t.id}
            className={`toast toast-${t.kind}`}
            onMouseEnter={() => hold(t.id)}
            onMouseLeave={() => expire(t.id, AFTER_HOLD)}
            onFocus={() => hold(t.id)}
            onBlur={() => expire(t.id, AFTER_HOLD)}
          >
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
