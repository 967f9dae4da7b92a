/**
 * @module server/metrics/snapshot
 * What one scrape reads from the store, in two tiers by cost:
 *
 * - `loadFast` (cached 10 s): cursors, per-log health, monitor status, the issuance count and the
 *   pending alerts: a handful of small queries whose size grows with the number of logs, not with
 *   the number of certificates. Per-log values are the ones `certvigil status` shows (the same
 *   `readHealth`), so a dashboard and the CLI never disagree.
 * - `loadSlow` (cached 60 s, served stale while one refresh runs): what needs every row of a
 *   table (the alert outbox, received iodef reports, malformed entries) and the known/unknown
 *   classification. Classification is not stored; it is recomputed against today's inventory and
 *   authorisations (`issuanceViews`, as `certs list` does), which costs store queries per
 *   issuance. It therefore covers the newest `classifyCap` issuances only (default 5,000; the rest
 *   is reported as `certvigil_issuances_unclassified`), read page by page (`pageIssuances`,
 *   newest first), never all at once.
 */
import { readHealth } from '../../health/index.js';
import type { HealthReport } from '../../health/index.js';
import { issuanceViews, loadIssuanceViewContext } from '../../monitor/index.js';
import type { AlertRecord, IssuancePosition, Store } from '../../store/index.js';
import { addIssuanceTally, tallyAlerts, tallyIodef, tallyIssuances, tallyMalformed } from './tally.js';
import type { AlertTally, IssuanceTally } from './tally.js';

export const DEFAULT_CLASSIFY_CAP = 5_000;
const CLASSIFY_PAGE = 500;
const CLASSIFY_CHUNK = 8;

export interface FastSnapshot {
  report: HealthReport;
  issuancesStored: number;
  /** Pending alerts by kind (at most health's PENDING_ALERTS_CAP in all). */
  pendingByKind: Record<string, number>;
}

export interface SlowSnapshot {
  alerts: AlertTally;
  iodefReceived: Record<string, number>;
  malformedByLog: Map<string, number>;
  issuances: IssuanceTally;
  classified: number;
  /** When this snapshot was computed. */
  at: Date;
}

export async function loadFast(store: Store, now: Date): Promise<FastSnapshot> {
  const [{ report, pendingAlerts: pending }, issuancesStored] = await Promise.all([
    readHealth(store, now),
    store.countIssuances(),
  ]);
  return { report, issuancesStored, pendingByKind: tallyAlerts(pending).pending };
}

/** Classifies the newest `cap` issuances, a page at a time, against one view context. */
async function classifyNewest(
  store: Store,
  cap: number,
): Promise<{ tally: IssuanceTally; classified: number }> {
  let tally: IssuanceTally = tallyIssuances([]);
  let classified = 0;
  if (cap <= 0) return { tally, classified };
  const context = await loadIssuanceViewContext(store);
  let after: IssuancePosition | undefined;
  while (classified < cap) {
    const limit = Math.min(CLASSIFY_PAGE, cap - classified);
    const page = await store.pageIssuances({ order: 'desc', limit, ...(after ? { after } : {}) });
    if (page.length === 0) break;
    // A few views at a time: `issuanceViews` runs its per-name history queries in parallel, and
    // 500 at once would fill the store's connection pool and hold up every other request (a
    // PostgreSQL scrape of the cheap part measured 1.1 s behind them instead of a few ms).
    for (let i = 0; i < page.length; i += CLASSIFY_CHUNK)
      tally = addIssuanceTally(
        tally,
        tallyIssuances(await issuanceViews(store, page.slice(i, i + CLASSIFY_CHUNK), context)),
      );
    classified += page.length;
    const last = page[page.length - 1];
    if (last === undefined || page.length < limit) break;
    after = { firstSeen: last.firstSeen, tbsSha256: last.tbsSha256 };
  }
  return { tally, classified };
}

export async function loadSlow(store: Store, now: Date, classifyCap: number): Promise<SlowSnapshot> {
  const alerts: AlertRecord[] = await store.listAlerts();
  const iodef = await store.listReceivedIodef();
  const malformed = await store.listMalformed();
  const { tally, classified } = await classifyNewest(store, classifyCap);
  return {
    alerts: tallyAlerts(alerts),
    iodefReceived: tallyIodef(iodef),
    malformedByLog: tallyMalformed(malformed),
    issuances: tally,
    classified,
    at: now,
  };
}
