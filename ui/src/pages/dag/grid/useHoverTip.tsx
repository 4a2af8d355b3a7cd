/**
 * One tooltip for thousands of cells: a single element, moved to whichever
 * [data-tip] element the pointer or focus is on (event delegation), placed
 * inside `wrapRef` so the scroll container does not clip it.
 */
import { useCallback, useState, type RefObject } from "react";

interface Tip {
  text: string;
  x: number;
  y: number;
  below: boolean;
}

/**
 * `resolve` turns the hovered element into its text, so thousands of cells
 * need not each carry a tooltip string; by default the element's data-tip.
 */
export function useHoverTip(wrapRef: RefObject<HTMLElement | null>, resolve: (el: HTMLElement) => string | null = (el) => el.dataset.tip ?? null) {
  const [tip, setTip] = useState<Tip | null>(null);

  const show = useCallback(
    (target: EventTarget | null) => {
      const el = (target as HTMLElement | null)?.closest?.<HTMLElement>("[data-tip]");
      const wrap = wrapRef.current;
      const text = el ? resolve(el) : null;
      if (!el || !wrap || !text) return setTip(null);
      const r = el.getBoundingClientRect();
      const w = wrap.getBoundingClientRect();
      const below = r.top - w.top < 90;
      setTip({ text, x: r.left - w.left + r.width / 2, y: below ? r.bottom - w.top + 6 : r.top - w.top - 6, below });
    },
    [wrapRef, resolve],
  );

  const handlers = {
    onMouseOver: (e: React.MouseEvent) => show(e.target),
    onMouseLeave: () => setTip(null),
    onFocus: (e: React.FocusEvent) => show(e.target),
    onBlur: () => setTip(null),
    onScroll: () => setTip(null),
  };

  const element = tip ? (
    <div className={`hover-tip${tip.below ? " hover-tip-below" : ""}`} style={{ left: tip.x, top: tip.y }} aria-hidden="true">
      {tip.text}
    </div>
  ) : null;

  return { handlers, element };
}
