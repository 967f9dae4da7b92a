/**
 * @module server/pages/context
 * The issuance view context (known index, alert verdicts, log URLs, authorisations) of
 * `monitor.loadIssuanceViewContext`, kept a few seconds per app: loading it reads the inventory,
 * every authorisation and every alert, which a page view must not redo for each request. An
 * authorisation made through the pages drops it at once (`invalidate`).
 */
import { loadIssuanceViewContext } from '../../monitor/index.js';
import type { IssuanceViewContext } from '../../monitor/index.js';
import type { Store } from '../../store/index.js';

/** Long enough to absorb a burst of page views, short enough that a new inventory shows soon. */
export const VIEW_CONTEXT_TTL_MS = 5_000;

export interface ViewContextCache {
  get(): Promise<IssuanceViewContext>;
  invalidate(): void;
}

export function viewContextCache(store: Store, now: () => number = Date.now): ViewContextCache {
  let cached: { at: number; value: Promise<IssuanceViewContext> } | null = null;
  return {
    get() {
      const t = now();
      if (cached === null || t - cached.at > VIEW_CONTEXT_TTL_MS || t < cached.at) {
        const value = loadIssuanceViewContext(store);
        const entry = { at: t, value };
        cached = entry;
        // A failed load is not kept: the next request tries again.
        value.catch(() => {
          if (cached === entry) cached = null;
        });
      }
      return cached.value;
    },
    invalidate() {
      cached = null;
    },
  };
}
