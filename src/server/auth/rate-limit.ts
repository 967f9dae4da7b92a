/**
 * @module server/auth/rate-limit
 * Login rate limiting: after `maxFailures` failed logins within `windowMs` from one client address
 * (IPv6: one /64) or for one user name, further attempts are refused (429 with `Retry-After`)
 * until the window that began with the first failure ends. The address counts separately from the
 * name: a guesser spraying many names from one address is stopped by the first, a botnet guessing
 * one user's password by the second (at the price that anyone can lock a name out for a window;
 * an admin can still log in with an API token).
 *
 * Memory is bounded: at most `maxKeys` keys are tracked; when full, expired windows go first, then
 * the oldest window (a flooder loses its own counter, not the other clients' ones for long).
 *
 * The address is the socket's peer (`getConnInfo`), never `X-Forwarded-For`: any client can write
 * that header, and the limiter would then count whatever the guesser likes.
 */
import net from 'node:net';

export interface LoginRateLimitOptions {
  /** Failed logins allowed per key within `windowMs` (default 5). */
  maxFailures?: number;
  /** Length of the window that starts with a key's first failure, ms (default 15 min). */
  windowMs?: number;
  /** Keys tracked at most (default 10,000). */
  maxKeys?: number;
}

export type LoginRateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Window {
  failures: number;
  startedAt: number;
}

export class LoginRateLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly maxKeys: number;
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;

  constructor(options: LoginRateLimitOptions = {}, now: () => number = Date.now) {
    this.maxFailures = whole(options.maxFailures, 5);
    this.windowMs = whole(options.windowMs, 15 * 60_000);
    this.maxKeys = whole(options.maxKeys, 10_000);
    this.#now = now;
  }

  /** Whether an attempt for all of `keys` may go ahead; if not, the longest wait among them. */
  check(keys: readonly string[]): LoginRateDecision {
    const now = this.#now();
    let wait = 0;
    for (const key of keys) {
      const w = this.#live(key, now);
      if (w !== undefined && w.failures >= this.maxFailures)
        wait = Math.max(wait, w.startedAt + this.windowMs - now);
    }
    return wait > 0
      ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) }
      : { allowed: true };
  }

  /** Counts one failed attempt against each of `keys`. */
  fail(keys: readonly string[]): void {
    const now = this.#now();
    for (const key of keys) {
      const w = this.#live(key, now);
      if (w !== undefined) w.failures++;
      else {
        this.#makeRoom(now);
        // Insertion order is the order windows started: the first key is the oldest.
        this.#windows.set(key, { failures: 1, startedAt: now });
      }
    }
  }

  /**
   * Forgets the failures of `key` (a user name after that user logged in). Deliberately not the
   * address: a guesser with one valid account must not reset the address's counter by logging in
   * between guesses at other names.
   */
  forget(key: string): void {
    this.#windows.delete(key);
  }

  /** Keys tracked now (for tests). */
  get size(): number {
    return this.#windows.size;
  }

  #live(key: string, now: number): Window | undefined {
    const w = this.#windows.get(key);
    if (w !== undefined && now - w.startedAt >= this.windowMs) {
      this.#windows.delete(key);
      return undefined;
    }
    return w;
  }

  #makeRoom(now: number): void {
    if (this.#windows.size < this.maxKeys) return;
    for (const [key, w] of this.#windows) if (now - w.startedAt >= this.windowMs) this.#windows.delete(key);
    while (this.#windows.size >= this.maxKeys) {
      const oldest = this.#windows.keys().next();
      if (oldest.done === true) break;
      this.#windows.delete(oldest.value);
    }
  }
}

function whole(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}

/**
 * The key a client address counts under: IPv4 as it is, IPv6 by its /64 (a subscriber is routinely
 * given a whole /64, RFC 6177 §2: keyed by full address, one client would have 2^64 counters), an
 * IPv4-mapped IPv6 address (what a dual-stack socket reports) as its IPv4 address. Anything else
 * (no socket: `app.request()` in tests) counts under `unknown`.
 */
export function clientAddressKey(address: string | undefined): string {
  if (address === undefined) return 'addr:unknown';
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (net.isIPv4(bare)) return `addr:${bare}`;
  if (!net.isIPv6(bare)) return 'addr:unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped !== undefined) return `addr:${mapped}`;
  return `addr:${ipv6Prefix64(bare)}::/64`;
}

/** The first four 16-bit groups of an IPv6 address (valid per `net.isIPv6`), as hex. */
function ipv6Prefix64(address: string): string {
  // A trailing dotted quad only touches the last 32 bits, outside the /64.
  const text = address.toLowerCase().replace(/:\d+\.\d+\.\d+\.\d+$/, ':0:0');
  const [head = '', tail] = text.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all =
    tail === undefined
      ? left
      : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':');
}

/** The key a user name counts under (case as typed: names are case-sensitive). */
export function userNameKey(name: string): string {
  return `user:${name}`;
}
