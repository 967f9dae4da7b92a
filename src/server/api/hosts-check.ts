/**
 * @module server/api/hosts-check
 * The internal check of one host, run centrally (`GET /api/v1/hosts/:host/check`): which
 * certificates the monitor found in CT for the names this host manages are not among the
 * certificates the host itself pushed? The jabber.ru interception (Pentagrid, 2023) is the case:
 * a valid certificate for the host's own name, from a CA it uses, that its ACME client never got.
 *
 * What counts (documented in README "Distributed internal check"):
 * - the host's managed names are the DNS names of the certificates it pushed;
 * - a stored issuance concerns the host when one of its names equals a managed name, is a wildcard
 *   covering one (`*.example.com` for `www.example.com`), or lies one label under a managed
 *   wildcard (`nameConcerns`); deeper subdomains and parents are other names;
 * - only issuances still valid at `now` count (an expired certificate can no longer be presented;
 *   the central monitor alerted on it when it appeared);
 * - it is ours when its TBS, certificate or key hash is among the host's own items, or when
 *   `certs authorize` authorised one of those hashes. A certificate another host pushed (or the
 *   central inventory holds) is still listed for this host — the host did not obtain it — with
 *   `knownElsewhere` saying who did, so an operator tells a sibling from an attacker.
 */
import { classify, isKnown, issuanceViews, loadIssuanceViewContext } from '../../monitor/index.js';
import type { IssuanceView, KnownIndex } from '../../monitor/index.js';
import type { HostInventoryRecord, Issuance, Store } from '../../store/index.js';
import { nameConcerns } from './hosts-input.js';

/** Unknown certificates described in full (each view reads the name's history); the count is exact. */
export const MAX_LISTED = 50;
/** Issuances read under one managed wildcard at most (keyset pages of 1000). */
export const MAX_WILDCARD_SCAN = 100_000;
const PAGE = 1000;

export interface HostCheckView extends IssuanceView {
  /** Who else holds it, when the central monitor counts it known (`host:NAME`, `inventory-tbs`…). */
  knownElsewhere: string | null;
}

export interface HostCheck {
  host: string;
  pushedAt: string;
  managedNames: string[];
  /** The first `MAX_LISTED` unknown issuances, newest first. */
  unknown: HostCheckView[];
  unknownCount: number;
  /** Valid issuances for the host's names that were checked. */
  checked: number;
  /** A managed wildcard had more than MAX_WILDCARD_SCAN issuances under its domain: not all were read. */
  truncated: boolean;
}

/** The known index of one host: its own items and the explicit authorisations, nothing else. */
export function hostKnownIndex(
  items: readonly HostInventoryRecord[],
  authorized: ReadonlySet<string>,
  managedNames: Iterable<string>,
): KnownIndex {
  return {
    certHashes: new Set(items.map((r) => r.certSha256)),
    tbsHashes: new Set(items.map((r) => r.tbsSha256)),
    spkiHashes: new Set(items.map((r) => r.spkiSha256)),
    authorized,
    managedNames: new Set(managedNames),
  };
}

/** The issuances whose names concern `managed`, read by exact name (and pages under a wildcard). */
async function issuancesFor(
  store: Store,
  managed: string,
  into: Map<string, Issuance>,
): Promise<{ truncated: boolean }> {
  const add = (list: readonly Issuance[]): void => {
    for (const i of list) if (i.dnsNames.some((n) => nameConcerns(n, managed))) into.set(i.tbsSha256, i);
  };
  add(await store.issuancesForName(managed));
  if (!managed.startsWith('*.')) {
    const dot = managed.indexOf('.');
    // A wildcard one level up covers this name; a wildcard on a public suffix is never issued,
    // and looking it up costs one indexed query.
    if (dot > 0 && managed.indexOf('.', dot + 1) > 0)
      add(await store.issuancesForName(`*.${managed.slice(dot + 1)}`));
    return { truncated: false };
  }
  // Under a managed wildcard: every name one label below its domain, by keyset pages.
  const domain = managed.slice(2);
  let after: { firstSeen: string; tbsSha256: string } | undefined;
  for (let read = 0; read < MAX_WILDCARD_SCAN;) {
    const page = await store.pageIssuances({ name: domain, after, order: 'asc', limit: PAGE });
    add(page);
    read += page.length;
    const last = page[page.length - 1];
    if (page.length < PAGE || last === undefined) return { truncated: false };
    after = { firstSeen: last.firstSeen, tbsSha256: last.tbsSha256 };
  }
  return { truncated: true };
}

/** The internal check of `host` (canonical name) at `now`; null when the host never pushed. */
export async function checkHost(store: Store, host: string, now: Date): Promise<HostCheck | null> {
  const items = await store.listHostInventory(host);
  if (items.length === 0) return null;
  const pushedAt = items.reduce((a, r) => (r.pushedAt > a ? r.pushedAt : a), '');
  const managedNames = [...new Set(items.flatMap((r) => r.dnsNames))].sort();

  const found = new Map<string, Issuance>();
  let truncated = false;
  for (const name of managedNames)
    truncated = (await issuancesFor(store, name, found)).truncated || truncated;
  const at = now.toISOString();
  const valid = [...found.values()].filter((i) => i.notAfter > at);

  const context = await loadIssuanceViewContext(store);
  const own = hostKnownIndex(items, context.known.authorized, managedNames);
  const unknown = valid
    .filter((i) => !isKnown(i, own))
    .sort((a, b) => (a.firstSeen < b.firstSeen ? 1 : a.firstSeen > b.firstSeen ? -1 : 0));
  // Reasons against the host's own index: "managed by a local ACME client, but not one it
  // obtained" is exactly what the host is asking about.
  const views = await issuanceViews(store, unknown.slice(0, MAX_LISTED), { ...context, known: own });
  return {
    host,
    pushedAt,
    managedNames,
    unknown: views.map((v, n) => ({
      ...v,
      knownElsewhere: classify(unknown[n] as Issuance, context.known, []).knownBy,
    })),
    unknownCount: unknown.length,
    checked: valid.length,
    truncated,
  };
}
