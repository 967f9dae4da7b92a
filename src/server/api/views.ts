/**
 * @module server/api/views
 * Issuance views for the API: the very objects `certs list --json` prints (monitor
 * `issuanceViews`), with every string sanitised on the way out, and the view context (inventory,
 * authorisations, alert verdicts, log URLs) kept for a few seconds so a page of requests does not
 * reload it each time. An authorisation through the API drops it at once.
 */
import { issuanceViews, loadIssuanceViewContext } from '../../monitor/index.js';
import type { IssuanceView, IssuanceViewContext } from '../../monitor/index.js';
import { sanitizeDeep } from '../../sanitize.js';
import type { InventoryRecord, Issuance, Store } from '../../store/index.js';

/** How long a loaded context is reused: the monitor's own pass takes longer than this. */
export const CONTEXT_TTL_MS = 5_000;

/** Longest string in an API answer: a DNS name is at most 253, an issuer DN rarely above 500. */
export const MAX_STRING = 4_000;

export interface ViewSource {
  views(issuances: readonly Issuance[]): Promise<IssuanceView[]>;
  /** Forget the cached context (after a change the views depend on). */
  invalidate(): void;
}

/**
 * The store as the views of one page read it: `issuanceViews` asks, for every issuance, for the
 * whole inventory and for the history of each of its names; a page of 100 issuances of one domain
 * asks the same few questions 100 times. Answers are shared within the page (and the inventory
 * with the context, for its few seconds); everything else goes to the store as is.
 */
function pageReader(store: Store, inventory: () => Promise<InventoryRecord[]>): Store {
  const byName = new Map<string, Promise<Issuance[]>>();
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'listInventory') return inventory;
      if (prop === 'issuancesForName')
        return (name: string): Promise<Issuance[]> => {
          let p = byName.get(name);
          if (p === undefined) {
            p = target.issuancesForName(name);
            byName.set(name, p);
          }
          return p;
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export function viewSource(store: Store, now: () => number = Date.now): ViewSource {
  let cached: {
    at: number;
    context: Promise<IssuanceViewContext>;
    inventory: Promise<InventoryRecord[]>;
  } | null = null;
  const load = (): NonNullable<typeof cached> => {
    const t = now();
    if (cached === null || t - cached.at > CONTEXT_TTL_MS || t < cached.at) {
      const context = loadIssuanceViewContext(store);
      const inventory = store.listInventory();
      const entry = { at: t, context, inventory };
      cached = entry;
      // A failed load is not kept: the next request tries again.
      Promise.all([context, inventory]).catch(() => {
        if (cached === entry) cached = null;
      });
    }
    return cached;
  };
  return {
    async views(issuances) {
      if (issuances.length === 0) return [];
      const { context, inventory } = load();
      const reader = pageReader(store, () => inventory);
      return (await issuanceViews(reader, issuances, await context)).map(safe);
    },
    invalidate() {
      cached = null;
    },
  };
}

/**
 * Every string of a value from outside (certificate names and issuers, notes, report fields) as
 * visible escapes (`\u202E`, `\x1B`) and bounded: a client that renders the JSON cannot be driven
 * by bidi overrides or control characters. Ordinary values pass unchanged, so the API and
 * `certs list --json` agree on them.
 */
export function safe<T>(value: T): T {
  return sanitizeDeep(value, { maxLength: MAX_STRING });
}
