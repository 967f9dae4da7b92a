/** The per-client token bucket of the local CT log, on a hand-driven clock. */
import { describe, expect, it } from 'vitest';
import { ClientRateLimiter } from './rate-limit.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ClientRateLimiter', () => {
  it('allows a burst, then refuses with Retry-After of at least 1 s, then refills at the rate', () => {
    const c = clock();
    const limiter = new ClientRateLimiter({ requestsPerSecond: 20, burst: 5 }, c.now);
    const first = Array.from({ length: 6 }, () => limiter.take('127.0.0.2'));
    expect(first.filter((v) => v.allowed)).toHaveLength(5);
    // One token comes in 50 ms: the header still says 1 (delay-seconds is an integer).
    expect(first[5]).toEqual({ allowed: false, retryAfterSeconds: 1 });
    c.advance(50);
    expect(limiter.take('127.0.0.2').allowed).toBe(true);
    expect(limiter.take('127.0.0.2').allowed).toBe(false);
    c.advance(10_000); // capped at burst, not 200 tokens
    expect(Array.from({ length: 6 }, () => limiter.take('127.0.0.2').allowed).filter(Boolean)).toHaveLength(
      5,
    );
  });

  it('keeps one bucket per client: one address throttled does not slow another', () => {
    const limiter = new ClientRateLimiter({ requestsPerSecond: 1, burst: 1 }, clock().now);
    expect(limiter.take('127.0.0.2').allowed).toBe(true);
    expect(limiter.take('127.0.0.2').allowed).toBe(false);
    expect(limiter.take('127.0.0.3').allowed).toBe(true);
    expect(limiter.clients).toBe(2);
  });

  it.each([
    [0.25, 4],
    [0.5, 2],
    [1, 1],
  ])('at %f requests/s an empty bucket asks for %i s', (rps, seconds) => {
    const limiter = new ClientRateLimiter({ requestsPerSecond: rps, burst: 1 }, clock().now);
    limiter.take('a');
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: seconds });
  });

  it('defaults the burst to the rate (at least 1)', () => {
    expect(new ClientRateLimiter({ requestsPerSecond: 20 }).burst).toBe(20);
    expect(new ClientRateLimiter({ requestsPerSecond: 0.5 }).burst).toBe(1);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a rate of %f', (rps) => {
    expect(() => new ClientRateLimiter({ requestsPerSecond: rps })).toThrow(
      expect.objectContaining({ code: 'LAB_INVALID_REQUEST' }),
    );
  });

  it('refuses a burst below 1', () => {
    expect(() => new ClientRateLimiter({ requestsPerSecond: 5, burst: 0.5 })).toThrow(
      expect.objectContaining({ code: 'LAB_INVALID_REQUEST' }),
    );
  });

  it('bounds its table: rested clients go first, else the oldest, never more than maxClients', () => {
    const c = clock();
    const limiter = new ClientRateLimiter({ requestsPerSecond: 1, burst: 1 }, c.now, 3);
    for (const k of ['a', 'b', 'c']) limiter.take(k);
    limiter.take('d'); // all three busy: the oldest ('a') goes
    expect(limiter.clients).toBe(3);
    expect(limiter.take('b').allowed).toBe(false); // 'b' is still remembered as empty
    c.advance(5_000); // everyone rested
    limiter.take('e');
    expect(limiter.clients).toBe(1);
    for (let i = 0; i < 1_000; i++) limiter.take(`x${i}`);
    expect(limiter.clients).toBeLessThanOrEqual(3);
  });
});
