/**
 * @module server/metrics/cache
 * A value computed at most once per `ttlMs`, shared by every caller meanwhile: a scrape storm (many
 * Prometheus servers, a dashboard reloading) costs the store one computation per period, and
 * callers that arrive while it runs wait for that same computation instead of starting another.
 */

export interface CachedValue<T> {
  /**
   * The value. Fresh (younger than `ttlMs`): returned as is. Stale with `staleWhileRefresh`: the
   * old value is returned at once and one refresh starts in the background. Otherwise the caller
   * waits for the (single) computation. A failed computation is not cached: the next call retries.
   */
  get(): Promise<T>;
  /** Age of the value held, ms; null before the first computation finished. */
  ageMs(): number | null;
}

export interface CacheOptions {
  ttlMs: number;
  /** Serve a stale value while one refresh runs (for expensive values, e.g. the classification). */
  staleWhileRefresh?: boolean;
  /** Monotonic clock, ms (tests pass a fake one). */
  clock?: () => number;
  /** Told about a failed background refresh (the stale value stays). */
  onRefreshError?: (err: unknown) => void;
}

export function cachedValue<T>(compute: () => Promise<T>, options: CacheOptions): CachedValue<T> {
  const clock = options.clock ?? (() => performance.now());
  let held: { value: T; at: number } | null = null;
  let running: Promise<T> | null = null;

  const refresh = (): Promise<T> => {
    if (running !== null) return running;
    const p = compute().then(
      (value) => {
        held = { value, at: clock() };
        return value;
      },
      (err: unknown) => {
        throw err;
      },
    );
    running = p;
    // Cleared whatever the outcome, so a failure is retried by the next caller.
    p.then(
      () => (running = null),
      () => (running = null),
    );
    return p;
  };

  return {
    get() {
      if (held !== null && clock() - held.at < options.ttlMs) return Promise.resolve(held.value);
      if (held !== null && options.staleWhileRefresh) {
        refresh().catch((err: unknown) => options.onRefreshError?.(err));
        return Promise.resolve(held.value);
      }
      return refresh();
    },
    ageMs: () => (held === null ? null : clock() - held.at),
  };
}
