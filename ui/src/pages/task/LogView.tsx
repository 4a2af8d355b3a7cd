/**
 * A try's log: virtualized (100,000 lines scroll like 100), ANSI colours,
 * search with highlighted matches and next/previous, follow (keep the newest
 * line in view while the try runs) and download as a .log file.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useMemo, useRef, useState } from "react";
import { ErrorBanner, Spinner } from "../../components/Feedback";
import { Icon } from "../../components/Icon";
import { usePrefs } from "../../lib/prefs";
import { useLogLines, type ViewLine } from "./useLogLines";

const LINE_H = 19;

function Highlighted({ text, query, current }: { text: string; query: string; current: boolean }) {
  const parts: React.ReactNode[] = [];
  const lower = text.toLowerCase();
  let i = 0;
  let n = 0;
  for (;;) {
    const j = lower.indexOf(query, i);
    if (j < 0) break;
    if (j > i) parts.push(text.slice(i, j));
    parts.push(
      <mark key={n++} className={current ? "log-mark-current" : undefined}>
        {text.slice(j, j + query.length)}
      </mark>,
    );
    i = j + query.length;
  }
  parts.push(text.slice(i));
  return <>{parts}</>;
}

const Line = memo(function Line({ line, query, current, time }: { line: ViewLine; query: string; current: boolean; time: string }) {
  const match = query && line.plain.toLowerCase().includes(query);
  return (
    <>
      <span className="log-ts">{time}</span>
      {match ? (
        <span className="log-text">
          <Highlighted text={line.plain} query={query} current={current} />
        </span>
      ) : line.html !== null ? (
        <span className="log-text" dangerouslySetInnerHTML={{ __html: line.html }} />
      ) : (
        <span className="log-text">{line.plain}</span>
      )}
    </>
  );
});

interface Props {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

export function LogView({ dagId, runId, taskId, mapIndex, tryNumber }: Props) {
  const { lines, version, status, error } = useLogLines(dagId, runId, taskId, mapIndex, tryNumber);
  const { fmt } = usePrefs();
  const scrollRef = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const [cur, setCur] = useState(0);
  const query = search.trim().toLowerCase();

  const v = useVirtualizer({ count: lines.length, getScrollElement: () => scrollRef.current, estimateSize: () => LINE_H, overscan: 30 });

  const matches = useMemo(() => {
    if (!query) return [] as number[];
    const out: number[] = [];
    lines.forEach((l, i) => l.plain.toLowerCase().includes(query) && out.push(i));
    return out;
    // `version` changes whenever `lines` (a stable array) grows.
  }, [query, version]);

  useEffect(() => setCur(0), [query]);
  useEffect(() => {
    if (matches.length === 0) return;
    setFollow(false);
    v.scrollToIndex(matches[Math.min(cur, matches.length - 1)], { align: "center" });
  }, [cur, matches, v]);

  // Follow: keep the last line in view as lines arrive.
  useEffect(() => {
    if (follow && lines.length > 0) v.scrollToIndex(lines.length - 1, { align: "end" });
  }, [follow, version, lines.length, v]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el || !follow) return;
    if (el.scrollTop + el.clientHeight < el.scrollHeight - LINE_H * 3) setFollow(false);
  };

  const step = (d: number) => matches.length && setCur((c) => (c + d + matches.length) % matches.length);

  const download = () => {
    const text = lines.map((l) => (l.sub === 0 ? `${l.ts ?? ""}\t${l.stream}\t${l.plain}` : `\t\t${l.plain}`)).join("\n") + "\n";
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `${dagId}__${runId}__${taskId}${mapIndex >= 0 ? `_${mapIndex}` : ""}__try${tryNumber}.log`.replace(/[^A-Za-z0-9_.+-]/g, "_");
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const currentLine = matches.length ? matches[Math.min(cur, matches.length - 1)] : -1;

  return (
    <div className="log">
      <div className="log-toolbar">
        <label className="search log-search">
          <span className="sr-only">Search the log</span>
          <Icon name="search" />
          <input
            className="input"
            type="search"
            placeholder="Search the log"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                step(e.shiftKey ? -1 : 1);
              }
            }}
          />
        </label>
        <span className="muted log-count" aria-live="polite">
          {query ? (matches.length ? `${Math.min(cur, matches.length - 1) + 1} of ${matches.length}` : "No match") : `${lines.length.toLocaleString()} lines`}
        </span>
        <button type="button" className="icon-btn" aria-label="Previous match" disabled={!matches.length} onClick={() => step(-1)}>
          <Icon name="arrowUp" />
        </button>
        <button type="button" className="icon-btn" aria-label="Next match" disabled={!matches.length} onClick={() => step(1)}>
          <Icon name="arrowDown" />
        </button>
        <div className="toolbar-spacer" />
        {status === "live" && (
          <span className="log-live" title="The try is running: new lines appear as they are written">
            <span className="live-dot" aria-hidden="true" /> tailing
          </span>
        )}
        <button type="button" className={`btn btn-sm ${follow ? "btn-toggle-on" : ""}`} aria-pressed={follow} onClick={() => setFollow((f) => !f)} title="Keep the newest line in view">
          <Icon name="follow" /> Follow
        </button>
        <button type="button" className="btn btn-sm" onClick={download} disabled={lines.length === 0}>
          <Icon name="download" /> Download
        </button>
      </div>
      {status === "error" && <ErrorBanner error={error} title="Could not read the log" />}
      <div className="log-view" data-testid="log-view" ref={scrollRef} onScroll={onScroll} tabIndex={0} role="log" aria-label={`Log of ${taskId}, try ${tryNumber}`} aria-busy={status === "loading"}>
        {lines.length === 0 ? (
          <div className="log-empty">
            {status === "loading" ? (
              <Spinner label="Loading the log" />
            ) : status === "live" ? (
              "Waiting for the first line…"
            ) : tryNumber < 1 ? (
              "This task has not started yet, so it has no log."
            ) : (
              "This try wrote no log lines."
            )}
          </div>
        ) : (
          <div style={{ height: v.getTotalSize(), position: "relative", minWidth: "100%" }}>
            {v.getVirtualItems().map((item) => {
              const line = lines[item.index];
              return (
                <div
                  key={`${line.id}.${line.sub}`}
                  className={`log-line${line.stream === "stderr" ? " log-stderr" : ""}${item.index === currentLine ? " log-line-current" : ""}`}
                  style={{ transform: `translateY(${item.start}px)`, height: LINE_H }}
                  data-line={item.index + 1}
                >
                  <Line line={line} query={query} current={item.index === currentLine} time={line.ts ? fmt(line.ts, "time") : ""} />
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}
