/**
 * @module ct/rate-limit
 * Flow control for talking to one CT log: a clock that tests can replace, a FIFO semaphore (max
 * requests in flight), a token bucket (max requests per second), and `mapOrdered`, which runs a
 * bounded number of downloads at once but hands their results back in order.
 *
 * Logs throttle hard (Google's and Let's Encrypt's return 429 or 503 when a monitor hammers them),
 * and a monitor that is throttled falls behind; so the limits are explicit and per log rather than
 * whatever the connection pool happens to allow. Nothing here knows about HTTP.
 */
import { CertvigilError } from '../errors.js';

/** Time as the transport sees it. Tests inject a fake whose `sleep` advances `now` instantly. */
export interface Clock {
  /** Milliseconds since the epoch (used for Retry-After HTTP-dates and the token bucket). */
  now(): number;
  /** Resolves after `ms`; rejects with `CT_ABORTED` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function abortError(signal: AbortSignal | undefined, what = 'request'): CertvigilError {
  return new CertvigilError('CT_ABORTED', `${what} cancelled`, { cause: signal?.reason });
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal, 'wait'));
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal, 'wait'));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * At most `limit` holders at once; waiters are served first come, first served so that a long
 * download cannot be starved by later small ones.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: { grant: () => void; reject: (err: Error) => void }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new CertvigilError(
        'CT_INVALID_ARGUMENT',
        `concurrency limit must be a positive integer, not ${limit}`,
      );
    }
  }

  /** Holders right now (for tests and metrics). */
  get inFlight(): number {
    return this.active;
  }

  /** Resolves with a release function, to be called exactly once (later calls are ignored). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
        reject,
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter, so `active` stays the same.
      if (next) next.grant();
      else this.active--;
    };
  }
}

/**
 * Classic token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. `take` waits
 * (on the injected clock) until a token is available. Callers are served in order.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new CertvigilError(
        'CT_INVALID_ARGUMENT',
        `requests per second must be > 0, not ${ratePerSecond}`,
      );
    }
    if (!(burst >= 1)) throw new CertvigilError('CT_INVALID_ARGUMENT', `burst must be >= 1, not ${burst}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.takeOne(signal));
    // A cancelled waiter must not block the ones queued behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async takeOne(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000), signal);
    }
  }
}

/**
 * Applies `fn` to each item with at most `concurrency` calls running, and yields the results in
 * the items' order. At most `concurrency` results are held at once (finished ones wait for the
 * slowest earlier one), so memory stays bounded however long the input.
 *
 * If `fn` fails, or the consumer stops early (`break`, `return`, a throw in its loop), the
 * signal passed to the other calls is aborted and their outcomes are dropped, so nothing keeps
 * downloading and no rejection goes unhandled.
 */
export async function* mapOrdered<T, R>(
  items: Iterable<T>,
  concurrency: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): AsyncGenerator<R, void, undefined> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new CertvigilError(
      'CT_INVALID_ARGUMENT',
      `concurrency must be a positive integer, not ${concurrency}`,
    );
  }
  if (signal?.aborted) throw abortError(signal);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const iterator = items[Symbol.iterator]();
  const window: Promise<R>[] = [];
  const launch = (): boolean => {
    const next = iterator.next();
    if (next.done) return false;
    const running = fn(next.value, controller.signal);
    running.catch(() => undefined); // observed below, or deliberately dropped after an abort
    window.push(running);
    return true;
  };
  try {
    while (window.length < concurrency && launch());
    for (let head = window.shift(); head !== undefined; head = window.shift()) {
      const result = await head;
      // Refill before yielding: the next download runs while the consumer works on this result.
      launch();
      yield result;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}
