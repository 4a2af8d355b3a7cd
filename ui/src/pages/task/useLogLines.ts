/**
 * The lines of one try's log. The SSE tail (…/logs/stream) sends the whole
 * backlog in batches and then, while the try runs, new lines as they are
 * written, and ends with `end` when the try finishes; if the stream cannot
 * be opened, the paged GET …/logs is read instead (and its error shown).
 * ANSI colour codes are turned into HTML once, in arrival order, because a
 * colour set on one line may continue on the next.
 */
import { AnsiUp } from "ansi_up";
import { useEffect, useRef, useState } from "react";
import { api, API, seg } from "../../api/client";
import type { LogLine, LogPage } from "../../api/types";

export interface ViewLine {
  /** Log line id; a line holding newlines becomes several rows with the same id. */
  id: number;
  /** Row within the line (0 for the first). */
  sub: number;
  ts: string | null;
  stream: string;
  /** The text without ANSI codes (search, download). */
  plain: string;
  /** HTML with colour spans, only for lines that had ANSI codes (escaped by ansi_up). */
  html: string | null;
}

// CSI and OSC sequences: ESC [ … letter, ESC ] … BEL.
const ANSI_RE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07/g;

export type LogStatus = "loading" | "live" | "done" | "error";

export function useLogLines(dagId: string, runId: string, taskId: string, mapIndex: number, tryNumber: number) {
  const lines = useRef<ViewLine[]>([]);
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState<LogStatus>("loading");
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    lines.current = [];
    setVersion((v) => v + 1);
    setStatus("loading");
    setError(null);
    if (tryNumber < 1) {
      setStatus("done");
      return;
    }
    const ansi = new AnsiUp();
    ansi.use_classes = true;
    let frame = 0;
    let closed = false;
    const push = (batch: LogLine[]) => {
      const out = lines.current;
      const lastId = out.length ? out[out.length - 1].id : -1;
      for (const l of batch) {
        if (l.id <= lastId) continue; // a reconnect may resend a line
        // One row per physical line (stack traces), so every row has the same height.
        l.line.split("\n").forEach((text, sub) => {
          const has = text.includes("\x1b");
          out.push({ id: l.id, sub, ts: sub === 0 ? l.ts : null, stream: l.stream, plain: has ? text.replace(ANSI_RE, "") : text, html: has ? ansi.ansi_to_html(text) : null });
        });
      }
      // One render per frame however many batches arrive.
      frame ||= requestAnimationFrame(() => {
        frame = 0;
        if (!closed) setVersion((v) => v + 1);
      });
    };

    const base = `/dags/${seg(dagId)}/runs/${seg(runId)}/tasks/${seg(taskId)}`;
    const map = mapIndex >= 0 ? `&mapIndex=${mapIndex}` : "";
    const paged = async () => {
      try {
        let after = lines.current.length ? lines.current[lines.current.length - 1].id : 0;
        for (;;) {
          const page = await api<LogPage>(`${base}/logs`, { query: { try: tryNumber, after, limit: 10_000, mapIndex: mapIndex >= 0 ? mapIndex : undefined } });
          if (closed) return;
          push(page.lines);
          after = page.nextAfter;
          if (!page.more) break;
        }
        setStatus("done");
      } catch (err) {
        if (!closed) {
          setError(err);
          setStatus("error");
        }
      }
    };

    const es = new EventSource(`${API}${base}/logs/stream?try=${tryNumber}${map}`, { withCredentials: true });
    let opened = false;
    es.onopen = () => {
      opened = true;
      setStatus("live");
    };
    es.addEventListener("lines", (ev) => {
      try {
        push(JSON.parse((ev as MessageEvent).data as string) as LogLine[]);
      } catch {
        // A malformed batch is skipped; the next one carries on.
      }
    });
    es.addEventListener("end", () => {
      es.close();
      setStatus("done");
    });
    es.addEventListener("tail-error", () => {
      es.close();
      void paged();
    });
    es.onerror = () => {
      // Network blips reconnect by themselves (with Last-Event-ID); a refused stream (404, 401) is CLOSED.
      if (es.readyState === EventSource.CLOSED || !opened) {
        es.close();
        if (!closed) void paged();
      }
    };
    return () => {
      closed = true;
      es.close();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [dagId, runId, taskId, mapIndex, tryNumber]);

  return { lines: lines.current, version, status, error };
}
