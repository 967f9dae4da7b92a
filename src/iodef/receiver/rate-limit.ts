/**
 * @module iodef/receiver/rate-limit
 * Per-sender token buckets for the iodef receivers. RFC 8659 §4.4 leaves the reporting rate to the
 * CA; a receiver open to the Internet must still stop one client (address, or certificate subject
 * under mTLS) from flooding the store and the alert sinks while other CAs keep getting through.
 * The table of buckets is bounded: full (idle) buckets are forgotten first, so a spray of source
 * addresses costs memory proportional to `maxKeys`, not to the number of addresses.
 */
import net from 'node:net';
import { ipv6Groups } from '../reporter/address.js';

export interface RateLimitOptions {
  /** Reports a sender may send at once (bucket size). Default 10. */
  burst?: number;
  /** Sustained reports per minute per sender (refill rate). Default 30. */
  perMinute?: number;
  /** Most senders tracked at once. Default 10 000. */
  maxKeys?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updated: number;
}

export class TokenBucketLimiter {
  readonly burst: number;
  readonly perMinute: number;
  readonly maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(options: RateLimitOptions = {}, now: () => number = Date.now) {
    this.burst = positive(options.burst, 10);
    this.perMinute = positive(options.perMinute, 30);
    this.maxKeys = Math.floor(positive(options.maxKeys, 10_000));
    this.#now = now;
  }

  /** Takes one token for `key`; says how long to wait when there is none. */
  take(key: string): RateDecision {
    const now = this.#now();
    const perMs = this.perMinute / 60_000;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      this.#makeRoom(now);
      bucket = { tokens: this.burst, updated: now };
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updated) * perMs);
      bucket.updated = now;
      this.#buckets.delete(key); // re-inserted below: Map order is least recently used first
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }

  /** Senders currently tracked (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }

  #makeRoom(now: number): void {
    if (this.#buckets.size < this.maxKeys) return;
    const perMs = this.perMinute / 60_000;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.updated) * perMs >= this.burst) this.#buckets.delete(key);
    }
    // Still full: drop the least recently used (a flooder loses its bucket, not its throttle for long).
    while (this.#buckets.size >= this.maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done === true) break;
      this.#buckets.delete(oldest.value);
    }
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * The key that per-client limits (token buckets, connection caps) count under: an IPv4 address as
 * it is, an IPv6 address by its /64. One subscriber is routinely given a whole /64 (RFC 6177 §2,
 * RFC 7421), so keyed by the full IPv6 address a single client would have 2^64 separate limits.
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports) counts as the IPv4 address.
 */
export function addressKey(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (net.isIPv4(bare)) return bare;
  if (!net.isIPv6(bare)) return bare;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (v4 !== undefined) return v4;
  const g = ipv6Groups(bare);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff)
    return `${(g[6] ?? 0) >> 8}.${(g[6] ?? 0) & 0xff}.${(g[7] ?? 0) >> 8}.${(g[7] ?? 0) & 0xff}`;
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/**
 * Concurrent connections per client key (`addressKey`): `acquire` says whether one more is
 * allowed and counts it; `release` when it closes. Bounded by the server's total connection cap.
 */
export class ConnectionCounter {
  readonly max: number;
  readonly #open = new Map<string, number>();

  constructor(max: number) {
    this.max = Math.max(1, Math.floor(max));
  }

  acquire(key: string): boolean {
    const n = this.#open.get(key) ?? 0;
    if (n >= this.max) return false;
    this.#open.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.#open.get(key) ?? 0) - 1;
    if (n <= 0) this.#open.delete(key);
    else this.#open.set(key, n);
  }

  /** Open connections of `key` (tests, metrics). */
  count(key: string): number {
    return this.#open.get(key) ?? 0;
  }
}
