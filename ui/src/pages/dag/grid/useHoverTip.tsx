/**
 * One tooltip for thousands of cells: a single element, moved to whichever
 * [data-tip] element the pointer or focus is on (event delegation), placed
 * inside `wrapRef` so the scroll container does not clip it.
 *
 * The text is resolved on every render of the owner, not once on hover: a
 * cell hovered while its task runs must read "Success" as soon as the live
 * update lands, without the pointer moving.
 */
import { useCallback, useState, type RefObject } from "react";

interface Anchor {
  el: HTMLElement;
  x: number;
  y: number;
  below: boolean;
}

/**
 * `resolve` turns the hovered element into its text, so thousands of cells
 * need not each carry a tooltip string; by default the element's data-tip.
 */
export function useHoverTip(wrapRef: RefObject<HTMLElement | null>, resolve: (el: HTMLElement) => string | null = (el) => el.dataset.tip ?? null) {
  const [anchor, setAnchor] = useState<Anchor | null>(null);

  const show = useCallback(
    (target: EventTarget | null) => {
      const el = (target as HTMLElement | null)?.closest?.<HTMLElement>("[data-tip]");
      const wrap = wrapRef.current;
      if (!el || !wrap) return setAnchor(null);
      const r = el.getBoundingClientRect();
      const w = wrap.getBoundingClientRect();
      const below = r.top - w.top < 90;
      setAnchor({ el, x: r.left - w.left + r.width / 2, y: below ? r.bottom - w.top + 6 : r.top - w.top - 6, below });
    },
    [wrapRef],
  );

  const handlers = {
    onMouseOver: (e: React.MouseEvent) => show(e.target),
    onMouseLeave: () => setAnchor(null),
    onFocus: (e: React.FocusEvent) => show(e.target),
    onBlur: () => setAnchor(null),
    onScroll: () => setAnchor(null),
  };

  // Resolved here, during the owner's render, from the owner's current data.
  const text = anchor ? resolve(anchor.el) : null;
  const element =
    anchor && text ? (
      <div className={`hover-tip${anchor.below ? " hover-tip-below" : ""}`} style={{ left: anchor.x, top: anchor.y }} aria-hidden="true" data-testid="hover-tip">
        {text}
      </div>
    ) : null;

  return { handlers, element };
}
