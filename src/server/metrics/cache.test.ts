import { describe, expect, it } from 'vitest';
import { cachedValue } from './cache.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('cachedValue', () => {
  it('computes once for concurrent callers and again only after the TTL', async () => {
    let t = 0;
    let calls = 0;
    const c = cachedValue(async () => ++calls, { ttlMs: 10_000, clock: () => t });
    expect(await Promise.all([c.get(), c.get(), c.get()])).toEqual([1, 1, 1]);
    t = 9_999;
    expect(await c.get()).toBe(1);
    t = 10_000;
    expect(await c.get()).toBe(2);
    expect(calls).toBe(2);
  });

  it('does not cache a failure: the next caller retries', async () => {
    let calls = 0;
    const c = cachedValue(
      async () => {
        calls++;
        if (calls === 1) throw new Error('store down');
        return calls;
      },
      { ttlMs: 10_000, clock: () => 0 },
    );
    await expect(c.get()).rejects.toThrow('store down');
    expect(await c.get()).toBe(2);
  });

  it('with staleWhileRefresh: serves the stale value at once and refreshes once in the background', async () => {
    let t = 0;
    const pending = [deferred<string>(), deferred<string>()];
    let calls = 0;
    const errors: unknown[] = [];
    const c = cachedValue(() => (pending[calls++] as { promise: Promise<string> }).promise, {
      ttlMs: 60_000,
      staleWhileRefresh: true,
      clock: () => t,
      onRefreshError: (e) => errors.push(e),
    });
    const first = c.get();
    pending[0]?.resolve('old');
    expect(await first).toBe('old');
    t = 60_000;
    expect(await Promise.all([c.get(), c.get()])).toEqual(['old', 'old']);
    expect(calls).toBe(2); // one refresh for both
    pending[1]?.resolve('new');
    await pending[1]?.promise;
    await Promise.resolve();
    expect(await c.get()).toBe('new');
    expect(c.ageMs()).toBe(0);
    expect(errors).toEqual([]);
  });
});
