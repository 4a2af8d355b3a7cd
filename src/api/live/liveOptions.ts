/**
 * Timings of the live updates. Not config keys: the defaults suit every
 * deployment; tests (and a curious operator, in code) can change them with
 * setLiveOptions() before the API server starts streaming.
 */
export interface LiveOptions {
  /** How often the change poller reads the store while at least one client listens. */
  pollIntervalMs: number;
  /**
   * How far back each poll re-reads: a transaction stamps updated_at before
   * it commits, so a row can appear with a time older than rows already
   * seen. Must exceed the longest write transaction and the clock skew
   * between the processes writing the store.
   */
  overlapMs: number;
  /** Interval of the comment lines that keep idle streams open through proxies. */
  keepAliveMs: number;
  /** How often a log tail looks for new lines while its try runs. */
  logPollMs: number;
  /**
   * Changed rows per table in one poll beyond which clients get one `resync`
   * event (reload what you show) instead of thousands of events: a clear of
   * a huge run, a history import.
   */
  maxRowsPerPoll: number;
}

const DEFAULTS: LiveOptions = { pollIntervalMs: 500, overlapMs: 2_000, keepAliveMs: 15_000, logPollMs: 300, maxRowsPerPoll: 5_000 };

let current: LiveOptions = { ...DEFAULTS };

export function liveOptions(): Readonly<LiveOptions> {
  return current;
}

/** Change some timings; returns the previous ones (to restore them). */
export function setLiveOptions(patch: Partial<LiveOptions>): LiveOptions {
  const previous = current;
  current = { ...current, ...patch };
  return previous;
}

export function resetLiveOptions(): void {
  current = { ...DEFAULTS };
}
