/**
 * @module server/metrics
 * Prometheus `/metrics` (prom-client): the monitor's state as gauges, computed from the store at
 * scrape time. Authentication is app.ts's: a Bearer token (Prometheus' `authorization` setting)
 * or a session; this route only runs for an authenticated principal.
 *
 * Cost bounds: the cheap part of a scrape (cursors, health, status, counts) is cached 10 s and the
 * expensive part (alert outbox, iodef reports, malformed entries, the known/unknown classification)
 * 60 s, each computed once for all concurrent scrapes (`cachedValue`); see snapshot.ts. The
 * registry (and prom-client's process collectors) is built on the first scrape, so apps that are
 * never scraped (tests build many) start no collectors.
 */
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { AppEnv, ServerDeps } from '../types.js';
import { cachedValue } from './cache.js';
import type { CachedValue } from './cache.js';
import { buildRegistry } from './registry.js';
import type { ScrapeState } from './registry.js';
import { DEFAULT_CLASSIFY_CAP, loadFast, loadSlow } from './snapshot.js';
import type { FastSnapshot, SlowSnapshot } from './snapshot.js';

export { buildRegistry } from './registry.js';
export { cachedValue } from './cache.js';

export const FAST_TTL_MS = 10_000;
export const SLOW_TTL_MS = 60_000;
/**
 * How long the first scrape of an app waits for the expensive part (later ones never wait):
 * half of Prometheus' default 10 s `scrape_timeout`. Past it the scrape answers without those
 * families (`certvigil_issuances`, the alert outbox tallies, iodef, malformed entries) while the
 * computation goes on; a later scrape has them. Measured: 5,000 issuances classify in about 1 s
 * on SQLite, but took 23 s on PostgreSQL on the 2-core test machine (per-name history queries).
 */
export const SLOW_WAIT_MS = 5_000;

/** `p`'s value if it settles within `ms`; null after `ms` or on failure (told to `onError`). */
async function settleWithin<T>(
  p: Promise<T>,
  ms: number,
  onError: (err: unknown) => void,
): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([
      p.catch((err: unknown) => {
        onError(err);
        return null;
      }),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface MetricsOptions {
  /** How many of the newest issuances are classified known/unknown (default 5,000). */
  classifyCap?: number;
  /** Include prom-client's process and Node.js collectors (default true). */
  processMetrics?: boolean;
  /** Cache lifetimes, ms (tests pass 0 to read the store on every scrape). */
  fastTtlMs?: number;
  slowTtlMs?: number;
  /** How long a scrape waits for the expensive part when none is cached (default SLOW_WAIT_MS). */
  slowWaitMs?: number;
}

interface Metrics {
  registry: Registry;
  fast: CachedValue<FastSnapshot>;
  slow: CachedValue<SlowSnapshot>;
}

export function registerMetrics(app: Hono<AppEnv>, deps: ServerDeps, options: MetricsOptions = {}): void {
  const now = deps.now ?? (() => new Date());
  let current: ScrapeState | null = null;
  let metrics: Metrics | null = null;
  let waited = false;

  const build = (): Metrics => ({
    registry: buildRegistry({ current: () => current }, { processMetrics: options.processMetrics ?? true }),
    fast: cachedValue(() => loadFast(deps.store, now()), { ttlMs: options.fastTtlMs ?? FAST_TTL_MS }),
    slow: cachedValue(() => loadSlow(deps.store, now(), options.classifyCap ?? DEFAULT_CLASSIFY_CAP), {
      ttlMs: options.slowTtlMs ?? SLOW_TTL_MS,
      // The classification may take seconds on a large store: a scrape must not wait for it
      // once a value exists (Prometheus' default scrape timeout is 10 s).
      staleWhileRefresh: true,
      onRefreshError: (err) => deps.logger.warn({ err }, 'metrics: refreshing the classification failed'),
    }),
  });

  app.get('/metrics', async (c) => {
    metrics ??= build();
    // Only the first scrape waits for the expensive part; the next ones take what is cached (or
    // nothing yet) and never hold Prometheus while a long classification runs.
    const waitFirst = waited;
    waited = true;
    const [fast, slow] = await Promise.all([
      metrics.fast.get(),
      settleWithin(metrics.slow.get(), waitFirst ? 0 : (options.slowWaitMs ?? SLOW_WAIT_MS), (err) =>
        deps.logger.warn({ err }, 'metrics: computing the classification failed'),
      ),
    ]);
    current = { fast, slow, now: now() };
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'Content-Type': metrics.registry.contentType });
  });
}
