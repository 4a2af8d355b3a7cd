/**
 * Failed-login limiter: at most `max` failures per username+IP in a sliding
 * `windowMs`; beyond that, logins for that pair are refused with 429 until
 * the oldest failure leaves the window.
 *
 * In memory on purpose: it costs no database write per failed attempt (a
 * guessing attacker would otherwise make us write), and keeps
 * attacker-chosen keys out of the database. The trade-offs are accepted:
 * a restart forgets the counts and N API replicas allow N×max attempts —
 * still slow guessing, on top of scrypt making each guess expensive.
 * Memory is bounded: expired entries are swept, and the map has a cap.
 */
export class LoginRateLimit {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = 5,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  private key(username: string, ip: string): string {
    return `${username.toLowerCase()}\u0000${ip}`;
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  /** Milliseconds until another attempt is allowed; 0 when it is allowed now. */
  retryAfterMs(username: string, ip: string, now: number): number {
    const list = this.recent(this.key(username, ip), now);
    return list.length < this.max ? 0 : list[list.length - this.max] + this.windowMs - now;
  }

  fail(username: string, ip: string, now: number): void {
    if (this.failures.size >= this.maxKeys) this.sweep(now);
    // Still full of live entries (a flood of distinct keys): forget the oldest rather than grow without bound.
    if (this.failures.size >= this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
    const key = this.key(username, ip);
    this.failures.set(key, [...this.recent(key, now), now]);
  }

  succeed(username: string, ip: string): void {
    this.failures.delete(this.key(username, ip));
  }

  private sweep(now: number): void {
    for (const key of [...this.failures.keys()]) this.recent(key, now);
  }
}
