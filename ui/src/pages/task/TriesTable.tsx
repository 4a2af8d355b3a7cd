/** Every try of a task instance: state, times, where it ran, its error. */
import type { TaskTry } from "../../api/types";
import { StateBadge } from "../../components/State";
import { Time } from "../../components/Time";
import { formatDuration } from "../../lib/time";

export function TriesTable({ tries, onOpen }: { tries: TaskTry[]; onOpen: (tryNumber: number) => void }) {
  if (tries.length === 0) return <p className="muted">No tries yet.</p>;
  return (
    <div className="table-wrap">
      <table className="table table-compact">
        <thead>
          <tr>
            <th scope="col">Try</th>
            <th scope="col">State</th>
            <th scope="col">Started</th>
            <th scope="col">Ended</th>
            <th scope="col" className="num">
              Duration
            </th>
            <th scope="col">Host · PID</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {tries
            .slice()
            .reverse()
            .map((t) => (
              <tr key={t.tryNumber}>
                <td>
                  <button type="button" className="link-btn" onClick={() => onOpen(t.tryNumber)} aria-label={`Logs of try ${t.tryNumber}`}>
                    {t.tryNumber}
                  </button>
                </td>
                <td>
                  <StateBadge state={t.state} size="sm" />
                </td>
                <td>
                  <Time value={t.startDate} kind="short" />
                </td>
                <td>
                  <Time value={t.endDate} kind="short" />
                </td>
                <td className="num">{formatDuration(t.durationMs)}</td>
                <td className="mono">
                  {t.hostname ?? "—"}
                  {t.pid !== null ? ` · ${t.pid}` : ""}
                </td>
                <td className="try-error" title={t.error ?? undefined}>
                  {t.error ?? "—"}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  );
}
