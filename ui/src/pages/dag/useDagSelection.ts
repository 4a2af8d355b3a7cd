/**
 * The DAG page's selection lives in the URL (?run=…&task=…&mapIndex=…), so it
 * survives reloads and can be shared. `map` is the older name of mapIndex,
 * still read so links made with it keep working.
 */
import { useCallback } from "react";
import { useSearchParams } from "react-router";

/** A map index from the URL; anything but a whole number >= 0 means none. */
function mapIndexOf(v: string | null): number {
  const n = v === null || v.trim() === "" ? NaN : Number(v);
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

export function useDagSelection() {
  const [params, setParams] = useSearchParams();
  const runId = params.get("run");
  const taskId = params.get("task");
  const mapIndex = mapIndexOf(params.get("mapIndex") ?? params.get("map"));

  const set = useCallback(
    (changes: { run?: string | null; task?: string | null; mapIndex?: number | null; version?: string | null }) =>
      setParams(
        (old) => {
          const next = new URLSearchParams(old);
          for (const [k, v] of Object.entries(changes)) {
            if (v === null || v === undefined || (k === "mapIndex" && v === -1)) next.delete(k);
            else next.set(k, String(v));
          }
          if ("mapIndex" in changes) next.delete("map");
          return next;
        },
        { replace: false },
      ),
    [setParams],
  );

  return {
    runId,
    taskId,
    mapIndex,
    version: params.get("version"),
    selectRun: useCallback((run: string | null) => set({ run, task: null, mapIndex: null }), [set]),
    selectTask: useCallback((run: string, task: string, mapIndex = -1) => set({ run, task, mapIndex }), [set]),
    closeTask: useCallback(() => set({ task: null, mapIndex: null }), [set]),
    setVersion: useCallback((version: string | null) => set({ version }), [set]),
  };
}
