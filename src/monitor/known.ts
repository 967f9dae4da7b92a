/**
 * @module monitor/known
 * What "ours" means right now: the inventory, the inventories hosts pushed (`inventory push`) and
 * the explicit authorisations in the store, turned into the hash sets the classifier looks up, and
 * the history of a name (CT + inventory) that the heuristics compare against.
 */
import type { HostInventoryRecord, Store } from '../store/index.js';
import type { HistoryItem, IssuanceFacts, KnownIndex } from './classify.js';
import { inventoryHistoryItem } from './issuance.js';

/**
 * Each hash (certificate, TBS, SPKI) a host pushed, to the first host by name that holds it (the
 * store lists by host, so the answer does not depend on push order).
 */
export function hostHashIndex(records: readonly HostInventoryRecord[]): Map<string, string> {
  const out = new Map<string, string>();
  const sorted = [...records].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  for (const r of sorted)
    for (const h of [r.tbsSha256, r.certSha256, r.spkiSha256])
      if (!out.has(h.toLowerCase())) out.set(h.toLowerCase(), r.host);
  return out;
}

export async function loadKnownIndex(store: Store, managedNames: Iterable<string> = []): Promise<KnownIndex> {
  const [inventory, authorizations, hosts] = await Promise.all([
    store.listInventory(),
    store.listAuthorizations(),
    store.listHostInventory(),
  ]);
  return {
    certHashes: new Set(inventory.map((r) => r.certSha256)),
    tbsHashes: new Set(inventory.map((r) => r.tbsSha256)),
    spkiHashes: new Set(inventory.map((r) => r.spkiSha256)),
    authorized: new Set(authorizations.map((a) => a.hash.toLowerCase())),
    managedNames: new Set([...managedNames].map((n) => n.toLowerCase())),
    // A certificate a host reported holding is ours: the central monitor does not alert on it.
    hosts: hostHashIndex(hosts),
  };
}

export function isKnown(
  i: Pick<IssuanceFacts, 'tbsSha256' | 'certSha256s' | 'spkiSha256'>,
  k: KnownIndex,
): boolean {
  return (
    k.tbsHashes.has(i.tbsSha256) ||
    k.authorized.has(i.tbsSha256) ||
    k.authorized.has(i.spkiSha256) ||
    k.spkiHashes.has(i.spkiSha256) ||
    i.certSha256s.some((h) => k.certHashes.has(h) || k.authorized.has(h) || k.hosts?.has(h) === true) ||
    k.hosts?.has(i.tbsSha256) === true ||
    k.hosts?.has(i.spkiSha256) === true
  );
}

/**
 * How many of a name's issuances its history holds: the most recent ones. The heuristics ask "is
 * this issuer, key, key type, validity usual for the name": recent issuances answer that (32 is
 * years of 90-day renewals), and a page of views must not read every issuance of 100 busy names.
 */
export const HISTORY_DEPTH = 32;

/**
 * Every other issuance sharing a name with `names` (each name's HISTORY_DEPTH most recent): from
 * CT (known or not) and from the inventory.
 */
export async function historyFor(
  store: Store,
  names: readonly string[],
  k: KnownIndex,
): Promise<HistoryItem[]> {
  const byTbs = new Map<string, HistoryItem>();
  const inventory = await store.listInventory();
  for (const name of new Set(names)) {
    for (const i of (await store.issuancesForName(name)).slice(-HISTORY_DEPTH)) {
      byTbs.set(i.tbsSha256, { ...i, known: isKnown(i, k) });
    }
  }
  const wanted = new Set(names);
  for (const r of inventory) {
    if (!r.dnsNames.some((n) => wanted.has(n)) || byTbs.has(r.tbsSha256)) continue;
    byTbs.set(r.tbsSha256, inventoryHistoryItem(r));
  }
  return [...byTbs.values()];
}

/**
 * `historyFor` for many issuances at once: the names of a whole page are looked up in one store
 * query (`issuancesForNames`, in batches of 1000) and the inventory read once, and `of(names)` then
 * answers exactly what `historyFor(store, names, k)` would, in the same order (issuances by name in
 * the order of `names`, each oldest first, then inventory items). A page of 100 issuances asked
 * the store 100 times for the inventory and once per name before.
 */
export async function loadHistories(
  store: Store,
  names: readonly string[],
  k: KnownIndex,
): Promise<{ of(names: readonly string[]): HistoryItem[] }> {
  const unique = [...new Set(names)];
  const wanted = new Set(unique);
  const byName = new Map<string, HistoryItem[]>();
  for (let i = 0; i < unique.length; i += 1000) {
    for (const issuance of await store.issuancesForNames(unique.slice(i, i + 1000), HISTORY_DEPTH)) {
      const item: HistoryItem = { ...issuance, known: isKnown(issuance, k) };
      for (const n of new Set(issuance.dnsNames)) {
        if (!wanted.has(n)) continue;
        const list = byName.get(n);
        if (list) list.push(item);
        else byName.set(n, [item]);
      }
    }
  }
  const inventory = unique.length === 0 ? [] : await store.listInventory();
  return {
    of(ofNames) {
      const byTbs = new Map<string, HistoryItem>();
      for (const name of new Set(ofNames)) {
        // The store returns each name's HISTORY_DEPTH most recent and, through other names, maybe
        // older ones of this name too: cut as historyFor does.
        for (const item of (byName.get(name) ?? []).slice(-HISTORY_DEPTH)) byTbs.set(item.tbsSha256, item);
      }
      const these = new Set(ofNames);
      for (const r of inventory) {
        if (!r.dnsNames.some((n) => these.has(n)) || byTbs.has(r.tbsSha256)) continue;
        byTbs.set(r.tbsSha256, inventoryHistoryItem(r));
      }
      return [...byTbs.values()];
    },
  };
}
