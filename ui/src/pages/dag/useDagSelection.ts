/** The DAG page's selection lives in the URL (?run=…&task=…&map=…), so it survives reloads and can be shared. */
import { useCallback } from "react";
import { useSearchParams } from "react-router";

export function useDagSelection() {
  const [params, setParams] = useSearchParams();
  const runId = params.get("run");
  const taskId = params.get("task");
  const mapIndex = params.has("map") ? Number(params.get("map")) : -1;

  const set = useCallback(
    (changes: { run?: string | null; task?: string | null; map?: number | null; version?: string | null }) =>
      setParams(
        (old) => {
          const next = new URLSearchParams(old);
          for (const [k, v] of Object.entries(changes)) {
            if (v === null || v === undefined || (k === "map" && v === -1)) next.delete(k);
            else next.set(k, String(v));
          }
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
    selectRun: useCallback((run: string | null) => set({ run, task: null, map: null }), [set]),
    selectTask: useCallback((run: string, task: string, map = -1) => set({ run, task, map }), [set]),
    closeTask: useCallback(() => set({ task: null, map: null }), [set]),
    setVersion: useCallback((version: string | null) => set({ version }), [set]),
  };
}
