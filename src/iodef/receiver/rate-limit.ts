/**
 * @module iodef/receiver/rate-limit
 * Per-sender token buckets for the iodef receivers. RFC 8659 §4.4 leaves the reporting rate to the
 * CA; a receiver open to the Internet must still stop one client (address, or certificate subject
 * under mTLS) from flooding the store and the alert sinks while other CAs keep getting through.
 * The table of buckets is bounded: full (idle) buckets are forgotten first, so a spray of source
 * addresses costs memory proportional to `maxKeys`, not to the number of addresses.
 */

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
