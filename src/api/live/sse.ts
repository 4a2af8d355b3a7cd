/**
 * A server-sent-events stream on a hijacked fastify reply: the headers that
 * keep proxies from buffering it, `event:`/`id:`/`data:` framing, keep-alive
 * comments, and one cleanup path whoever ends it (the client, us, the server
 * closing).
 */
import type { FastifyReply } from "fastify";

/** A client that stopped reading (its socket buffer holds this much) is dropped; it reconnects and reloads. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long an EventSource waits before reconnecting after the stream ends. */
const RECONNECT_MS = 3_000;

export class SseStream {
  private ended = false;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private readonly reply: FastifyReply,
    keepAliveMs: number,
  ) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx buffers responses by default; this header turns it off for the stream.
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    // "close" on the response fires when the client goes away as well as after end().
    res.on("close", () => this.finish());
    res.on("error", () => this.finish());
    this.keepAlive = setInterval(() => this.comment("keep-alive"), keepAliveMs);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Runs once when the stream ends, whoever ended it. */
  onClose(fn: () => void): void {
    if (this.ended) fn();
    else this.closeListeners.push(fn);
  }

  /** Send one event; `data` is JSON on one line. Returns false when the stream is gone. */
  send(event: string, data: unknown, id?: string | number): boolean {
    if (this.ended) return false;
    const frame = `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    return this.write(frame);
  }

  comment(text: string): boolean {
    if (this.ended) return false;
    return this.write(`: ${text}\n\n`);
  }

  private write(text: string): boolean {
    const res = this.reply.raw;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.close();
      return false;
    }
    res.write(text);
    return true;
  }

  /** End the stream (the client's EventSource reconnects after RECONNECT_MS unless it closes itself). */
  close(): void {
    if (!this.ended) this.reply.raw.end();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepAlive);
    for (const fn of this.closeListeners.splice(0)) {
      try {
        fn();
      } catch {
        // A cleanup bug must not stop the other cleanups.
      }
    }
  }
}

/** The open streams of one API server, so closing the server can end them (an open stream would keep it from closing). */
export class SseRegistry {
  private readonly open = new Set<SseStream>();

  add(stream: SseStream): SseStream {
    this.open.add(stream);
    stream.onClose(() => this.open.delete(stream));
    return stream;
  }

  get size(): number {
    return this.open.size;
  }

  closeAll(): void {
    for (const s of [...this.open]) s.close();
  }
}
