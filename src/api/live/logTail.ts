/**
 * Live tail of one try's log over SSE. Each stream polls only for itself
 * (two indexed reads every logPollMs) and only while its try runs: lines go
 * out in `lines` events whose id is the last line id (an EventSource that
 * reconnects sends it back as Last-Event-ID and misses nothing), then one
 * `end` event with the try's state, then the stream closes.
 *
 * Why this order is enough: the attempt's last log lines are written in the
 * same commit as its final state (executeAttempt), so reading the lines
 * after seeing the try finished returns all of them.
 */
import type { Store } from "../../store/store.js";
import type { TaskInstanceRow } from "../../store/taskQueries.js";
import { iso } from "../schemas.js";
import type { SseStream } from "./sse.js";

/** Lines per `lines` event (and per read): a big backlog goes out in pieces the browser can render as they come. */
const BATCH_LINES = 1_000;

export interface LogTailOptions {
  tiId: number;
  tryNumber: number;
  /** Send lines with an id greater than this. */
  afterId: number;
  pollMs: () => number;
}

const live = (ti: TaskInstanceRow | undefined, tryNumber: number) => ti !== undefined && ti.try_number === tryNumber && (ti.state === "queued" || ti.state === "running");

/** Stream the try's lines until it finishes (or the client leaves). Never throws: a failure ends the stream with a `tail-error` event. */
export async function tailLog(store: Store, stream: SseStream, o: LogTailOptions): Promise<void> {
  let last = o.afterId;
  let wake: (() => void) | undefined;
  stream.onClose(() => wake?.());
  const drain = async () => {
    for (;;) {
      const rows = await store.logs.read(o.tiId, o.tryNumber, { afterId: last, limit: BATCH_LINES });
      if (rows.length === 0 || stream.closed) return;
      last = rows[rows.length - 1].id;
      stream.send(
        "lines",
        rows.map((l) => ({ id: l.id, ts: iso(l.ts), stream: l.stream, line: l.line })),
        last,
      );
      if (rows.length < BATCH_LINES) return;
    }
  };
  try {
    while (!stream.closed) {
      // State first, lines second: see the note at the top.
      const ti = await store.tasks.get(o.tiId);
      const running = live(ti, o.tryNumber);
      await drain();
      if (stream.closed) return;
      if (!running) {
        stream.send("end", { tryNumber: o.tryNumber, state: await tryState(store, ti, o.tryNumber) });
        stream.close();
        return;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.pollMs());
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  } catch (err) {
    stream.send("tail-error", { message: `Reading the log failed: ${(err as Error).message}. Reconnect to resume.` });
    stream.close();
  }
}

/** The state a finished try ended in: its record when it has one, else the instance's state (never started, deleted). */
async function tryState(store: Store, ti: TaskInstanceRow | undefined, tryNumber: number): Promise<string> {
  if (!ti) return "deleted";
  const recorded = (await store.tasks.tries(ti.id)).find((t) => t.try_number === tryNumber);
  if (recorded && recorded.state !== "running") return recorded.state;
  return ti.state;
}
