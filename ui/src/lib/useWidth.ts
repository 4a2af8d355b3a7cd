/**
 * Width of an element, kept current with a ResizeObserver (charts size
 * themselves to their container). Returns a callback ref, so it works for an
 * element that appears after the first render (e.g. once data has loaded).
 */
import { useCallback, useEffect, useState } from "react";

export function useWidth(fallback = 800): [(el: HTMLElement | null) => void, number] {
  const [el, setEl] = useState<HTMLElement | null>(null);
  const [w, setW] = useState(fallback);
  useEffect(() => {
    if (!el) return;
    setW(el.clientWidth || fallback);
    const ro = new ResizeObserver(() => setW(el.clientWidth || fallback));
    ro.observe(el);
    return () => ro.disconnect();
  }, [el, fallback]);
  return [useCallback((e: HTMLElement | null) => setEl(e), []), w];
}
