/**
 * Flow-control primitives on their own: FIFO semaphore, token bucket on an injected clock, and the
 * ordered bounded-parallel map both log clients download through.
 */
import { describe, expect, it } from 'vitest';
import { mapOrdered, Semaphore, systemClock, TokenBucket } from './rate-limit.js';
import type { Clock } from './rate-limit.js';

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

function fakeClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return { sleeps, now: () => now, sleep: async (ms) => void (sleeps.push(ms), (now += ms)) };
}

describe('Semaphore', () => {
  it('admits `limit` holders and serves waiters first come, first served', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    const r1 = await sem.acquire();
    const r2 = await sem.acquire();
    const waiting = [3, 4, 5].map((n) => sem.acquire().then((release) => (order.push(n), release)));
    expect(sem.inFlight).toBe(2);
    r1();
    r1(); // a second release of the same slot is ignored
    await tick();
    expect(order).toEqual([3]);
    r2();
    await tick();
    expect(order).toEqual([3, 4]);
    (await waiting[0])?.();
    await tick();
    expect(order).toEqual([3, 4, 5]);
    for (const w of waiting.slice(1)) (await w)();
    expect(sem.inFlight).toBe(0);
  });

  it('an aborted waiter leaves the queue with CT_ABORTED', async () => {
    const sem = new Semaphore(1);
    const release = await sem.acquire();
    const controller = new AbortController();
    const waiter = sem.acquire(controller.signal);
    controller.abort();
    await expect(waiter).rejects.toMatchObject({ code: 'CT_ABORTED' });
    release();
    expect(sem.inFlight).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then one request per 1/rate seconds', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(4, 2, clock);
    for (let i = 0; i < 6; i++) await bucket.take();
    expect(clock.sleeps).toEqual([250, 250, 250, 250]);
  });

  it('systemClock.sleep is abortable', async () => {
    const controller = new AbortController();
    const sleeping = systemClock.sleep(10_000, controller.signal);
    controller.abort();
    await expect(sleeping).rejects.toMatchObject({ code: 'CT_ABORTED' });
  });
});

describe('mapOrdered', () => {
  it('yields in input order with at most `concurrency` calls running', async () => {
    let running = 0;
    let peak = 0;
    const delays = [30, 5, 20, 1, 15, 2, 8, 25, 3, 10];
    const out: number[] = [];
    for await (const v of mapOrdered(delays.keys(), 3, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await tick(delays[i]);
      running--;
      return i;
    })) {
      out.push(v);
    }
    expect(out).toEqual([...delays.keys()]);
    expect(peak).toBe(3);
  });

  it('stopping early aborts the calls still running and starts no more', async () => {
    const started: number[] = [];
    const aborted: number[] = [];
    const items = Array.from({ length: 100 }, (_, i) => i);
    for await (const v of mapOrdered(items, 4, async (i, signal) => {
      started.push(i);
      signal.addEventListener('abort', () => aborted.push(i));
      await tick(i === 0 ? 1 : 50);
      return i;
    })) {
      expect(v).toBe(0);
      break;
    }
    await tick(60);
    expect(started).toEqual([0, 1, 2, 3, 4]); // the window was refilled once before the break
    expect(aborted.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('a failing call ends the iteration with its error; the others are cancelled', async () => {
    const seen: number[] = [];
    const run = async (): Promise<void> => {
      for await (const v of mapOrdered([0, 1, 2, 3], 2, async (i) => {
        await tick(5);
        if (i === 1) throw new Error('boom');
        return i;
      })) {
        seen.push(v);
      }
    };
    await expect(run()).rejects.toThrow('boom');
    expect(seen).toEqual([0]);
  });

  it('refuses a concurrency below 1', async () => {
    await expect(mapOrdered([1], 0, async (i) => i).next()).rejects.toMatchObject({
      code: 'CT_INVALID_ARGUMENT',
    });
  });
});
