/**
 * @module
 * A per-client request limit for the local CT log, as public logs apply one per source IP: one
 * token bucket per client key (the TCP remote address), `requestsPerSecond` tokens a second up to
 * `burst`; a request finds a token or is refused with the time until the next one, which the
 * server sends as `429 Too Many Requests` with `Retry-After` in whole seconds (RFC 6585 §4; RFC
 * 9110 §10.2.3: delay-seconds is a non-negative integer, so at least 1 is sent: "0" would invite
 * an immediate retry that the bucket refuses again).
 *
 * Pure apart from the injected clock. The table of clients is bounded (`maxClients`): a client
 * whose bucket has refilled is no different from a new one, so those go first; when every bucket
 * is busy the oldest entry goes, which can only make the limit more lenient for that client,
 * never refuse a request it would have allowed.
 *
 * ```ts
 * const limiter = new ClientRateLimiter({ requestsPerSecond: 20, burst: 20 });
 * const verdict = limiter.take('127.0.0.2');  // { allowed: true } | { allowed: false, retryAfterSeconds: 1 }
 * ```
 */
import { LabError } from '../errors.js';
import { text } from './http.js';
import type { Reply } from './http.js';

export interface RateLimitOptions {
  /** Tokens added per second, per client (> 0). */
  requestsPerSecond: number;
  /** Bucket size: requests a rested client may send at once. Default max(1, requestsPerSecond). */
  burst?: number;
}

export type RateVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** Clock time (ms) at which `tokens` was computed. */
  at: number;
}

export const DEFAULT_MAX_CLIENTS = 4096;

export class ClientRateLimiter {
  readonly requestsPerSecond: number;
  readonly burst: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
    private readonly maxClients = DEFAULT_MAX_CLIENTS,
  ) {
    const rps = options.requestsPerSecond;
    if (!(rps > 0) || !Number.isFinite(rps))
      throw new LabError('LAB_INVALID_REQUEST', `rateLimit.requestsPerSecond must be > 0, not ${rps}`);
    const burst = options.burst ?? Math.max(1, rps);
    if (!(burst >= 1) || !Number.isFinite(burst))
      throw new LabError('LAB_INVALID_REQUEST', `rateLimit.burst must be >= 1, not ${burst}`);
    this.requestsPerSecond = rps;
    this.burst = burst;
  }

  /** Clients tracked right now (at most `maxClients`). */
  get clients(): number {
    return this.buckets.size;
  }

  /** Takes one token from `client`'s bucket, or says how long until one is there. */
  take(client: string): RateVerdict {
    const now = this.now();
    const bucket = this.buckets.get(client) ?? this.admit(client, now);
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.requestsPerSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const waitS = (1 - bucket.tokens) / this.requestsPerSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitS)) };
  }

  private admit(client: string, now: number): Bucket {
    if (this.buckets.size >= this.maxClients) this.evict(now);
    const bucket = { tokens: this.burst, at: now };
    this.buckets.set(client, bucket);
    return bucket;
  }

  /** Drops every client whose bucket is full again; if none is, the oldest one. */
  private evict(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.requestsPerSecond >= this.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxClients) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}

/** RFC 6585 §4: 429 Too Many Requests, which "MAY include a Retry-After header"; public logs send it. */
export function tooManyRequests(retryAfterSeconds: number): Reply {
  const reply = text(429, 'rate limited: too many requests from this address');
  reply.headers = { ...reply.headers, 'retry-after': String(retryAfterSeconds) };
  return reply;
}
