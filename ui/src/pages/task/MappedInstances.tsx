/**
 * The instances of a mapped task in the task panel: counts by state (which
 * filter the list), "Clear all instances", and one page of instances (map
 * index, state, try, duration, start). The server pages the list, so a task
 * mapped over thousands of elements costs one page; choosing a row puts its
 * map index in the URL and shows that instance below.
 */
import { useEffect, useRef } from "react";
import type { TaskInstances } from "../../api/types";
import { Pagination } from "../../components/Pagination";
import { StateBadge } from "../../components/State";
import { Time, useNow } from "../../components/Time";
import { stateLabel } from "../../lib/states";
import { formatDuration, spanMs } from "../../lib/time";
import { MapCounts } from "./MapCounts";
import { TaskActions } from "./TaskActions";

interface Props {
  dagId: string;
  runId: string;
  taskId: string;
  data: TaskInstances;
  /** Whether a newer page is being fetched (the shown one is the previous). */
  fetching: boolean;
  filter: string | null;
  onFilter: (state: string | null) => void;
  offset: number;
  pageSize: number;
  onOffset: (offset: number) => void;
  /** The chosen map index, or -1. */
  selected: number;
  onSelect: (mapIndex: number) => void;
}

export function MappedInstances({ dagId, runId, taskId, data, fetching, filter, onFilter, offset, pageSize, onOffset, selected, onSelect }: Props) {
  const now = useNow(1000);
  const scrollRef = useRef<HTMLDivElement>(null);
  const shownTotal = filter === null ? data.total : (data.counts[filter] ?? 0);

  // Keep the chosen row in view (a link straight to ?mapIndex=700 lands on its page, scrolled to it).
  useEffect(() => {
    const row = scrollRef.current?.querySelector<HTMLElement>(`[data-testid="mapped-instance-${selected}"]`);
    const box = scrollRef.current;
    if (!row || !box) return;
    const top = row.offsetTop;
    if (top < box.scrollTop + 30 || top + row.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = Math.max(0, top - box.clientHeight / 2);
  }, [selected, data]);

  return (
    <section className="mapped" aria-label={`Mapped instances of ${taskId}`}>
      <div className="mapped-head">
        <h3 className="section-title">
          {data.total.toLocaleString()} mapped {data.total === 1 ? "instance" : "instances"}
        </h3>
        <div className="toolbar-spacer" />
        <TaskActions dagId={dagId} runId={runId} taskId={taskId} mapIndex={-1} state="" allInstances />
      </div>
      <MapCounts counts={data.counts} total={data.total} filter={filter} onFilter={onFilter} />
      <div className={`mapped-list${selected >= 0 ? " mapped-list-short" : ""}`} ref={scrollRef} aria-busy={fetching}>
        <table className="table table-compact mapped-table" data-testid="mapped-instances" aria-label={`Instances of ${taskId}${filter ? ` (${stateLabel(filter).toLowerCase()})` : ""}`}>
          <thead>
            <tr>
              <th scope="col">Index</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Try
              </th>
              <th scope="col" className="num">
                Duration
              </th>
              <th scope="col">Started</th>
            </tr>
          </thead>
          <tbody>
            {data.instances.length === 0 ? (
              <tr>
                <td colSpan={5} className="muted">
                  {filter ? `No instance is ${stateLabel(filter).toLowerCase()} now.` : "No instances."}
                </td>
              </tr>
            ) : (
              data.instances.map((i) => {
                const isSel = i.mapIndex === selected;
                return (
                  <tr key={i.mapIndex} data-testid={`mapped-instance-${i.mapIndex}`} data-state={i.state} className={isSel ? "mapped-row-selected" : undefined} onClick={() => onSelect(i.mapIndex)}>
                    <td>
                      {/* The row is clickable for the mouse; this button is the keyboard's way in (the click bubbles to the row). */}
                      <button type="button" className="link-btn mono" aria-current={isSel ? "true" : undefined} aria-label={`Instance ${i.mapIndex}: ${stateLabel(i.state)}`}>
                        [{i.mapIndex}]
                      </button>
                    </td>
                    <td>
                      <StateBadge state={i.state} size="sm" />
                    </td>
                    <td className="num">
                      {i.tryNumber}
                      <span className="muted">/{i.maxTries}</span>
                    </td>
                    <td className="num">{formatDuration(i.durationMs ?? spanMs(i.startDate, i.endDate, now))}</td>
                    <td>
                      <Time value={i.startDate} kind="time" />
                    </td>
                  </tr>
                );
              })
            )}
          </tbody>
        </table>
      </div>
      {shownTotal > pageSize && <Pagination offset={offset} limit={pageSize} total={shownTotal} onChange={onOffset} label="instances" />}
    </section>
  );
}
