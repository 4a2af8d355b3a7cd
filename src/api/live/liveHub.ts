/**
 * One change poller per process and store, shared by every SSE client: 100
 * browsers watching cost the database what one does. The poller runs only
 * while someone listens (it starts with the first subscriber and stops with
 * the last) and each poll is a handful of indexed queries (ChangeFeed).
 */
import type { FastifyBaseLogger } from "fastify";
import type { Store } from "../../store/store.js";
import { ChangeFeed, type LiveEvent } from "./changeFeed.js";
import { liveOptions } from "./liveOptions.js";

export interface LiveStats {
  /** Subscribers right now. */
  clients: number;
  /** Whether the poller is running. */
  polling: boolean;
  /** Polls since the hub was created. */
  polls: number;
  /** Store queries the poller has issued since the hub was created. */
  queries: number;
  /** Times the poller started (once per stretch with at least one client). */
  starts: number;
  /** Polls that failed (database unreachable, …); the poller carries on. */
  errors: number;
}

type Listener = (e: LiveEvent) => void;

export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private feed: ChangeFeed | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Bumped at every start and stop, so a poll that finishes after a stop does not reschedule itself. */
  private generation = 0;
  /** Init and poll promises not yet settled (close() waits for them before the store may close). */
  private readonly inFlight = new Set<Promise<void>>();
  private counters = { polls: 0, queries: 0, starts: 0, errors: 0 };

  constructor(
    private readonly store: Store,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number,
  ) {}

  /** Receive every event from now on; call the returned function to stop. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stats(): LiveStats {
    return { clients: this.listeners.size, polling: this.feed !== undefined, ...this.counters, queries: this.counters.queries + (this.feed?.queries ?? 0) };
  }

  private start(): void {
    const generation = ++this.generation;
    this.counters.starts++;
    const feed = new ChangeFeed(this.store, liveOptions, this.now);
    this.feed = feed;
    // The first poll only reads the starting point.
    this.track(this.poll(generation), generation);
  }

  /** Remember `work` until it settles, then schedule the next poll if nothing stopped the poller meanwhile. */
  private track(work: Promise<void>, generation: number): void {
    const p = work.finally(() => {
      this.inFlight.delete(p);
      if (generation !== this.generation) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.track(this.poll(generation), generation);
      }, liveOptions().pollIntervalMs);
    });
    this.inFlight.add(p);
  }

  private async poll(generation: number): Promise<void> {
    const feed = this.feed!;
    let events: LiveEvent[];
    try {
      events = await feed.poll();
      this.counters.polls++;
    } catch (err) {
      this.counters.errors++;
      this.log.warn({ err }, "live updates: poll failed; retrying");
      return;
    }
    if (generation !== this.generation) return;
    for (const e of events) {
      for (const l of this.listeners) {
        try {
          l(e);
        } catch (err) {
          // One broken client must not starve the others.
          this.log.warn({ err }, "live updates: a subscriber failed");
        }
      }
    }
  }

  private stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.feed) this.counters.queries += this.feed.queries;
    this.feed = undefined;
  }

  /** Drop every subscriber, stop polling and wait for a poll in progress (server shutdown). */
  async close(): Promise<void> {
    this.listeners.clear();
    this.stop();
    await Promise.allSettled([...this.inFlight]);
  }
}

const shared = new WeakMap<Store, { hub: LiveHub; users: number }>();

/**
 * The hub of `store` in this process, created on first use. Every API server
 * on the same store shares it; release it when the server closes.
 */
export function acquireLiveHub(store: Store, log: FastifyBaseLogger, now: () => number): LiveHub {
  let entry = shared.get(store);
  if (!entry) shared.set(store, (entry = { hub: new LiveHub(store, log, now), users: 0 }));
  entry.users++;
  return entry.hub;
}

export async function releaseLiveHub(store: Store): Promise<void> {
  const entry = shared.get(store);
  if (!entry || --entry.users > 0) return;
  shared.delete(store);
  await entry.hub.close();
}

/** The hub serving `store`, if an API server has one (tests, diagnostics). */
export function liveHubOf(store: Store): LiveHub | undefined {
  return shared.get(store)?.hub;
}
