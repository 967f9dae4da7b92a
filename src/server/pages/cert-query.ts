/**
 * @module server/pages/cert-query
 * The certificate search of the pages: the query string parsed into a filter (pure), and a
 * bounded keyset scan over `store.pageIssuances` that collects one page of matching views.
 *
 * Why a scan: the store pages by (`firstSeen`, `tbsSha256`) and filters by name only; known,
 * severity, issuer and date are properties of the view (recomputed against today's inventory, as
 * `certs list` does), so they are applied to each fetched batch. The scan reads at most
 * `SCAN_BUDGET` issuances per request and then links on from where it stopped, so a filter that
 * matches little never turns into a full table read (10k–100k issuances).
 */
import { domainToASCII } from 'node:url';
import { classify, issuanceViews } from '../../monitor/index.js';
import type { IssuanceView, IssuanceViewContext, KnownIndex } from '../../monitor/index.js';
import type { Issuance, IssuancePosition, Store } from '../../store/index.js';

export const PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/**
 * Issuances read per request at most, whatever the filter: a view costs a store read (about 0.1 ms
 * each on SQLite, measured by test/server-pages-perf.test.ts), so this keeps a filtered page near
 * 100 ms however many issuances are stored.
 */
export const SCAN_BUDGET = 1_000;
const BATCH = 200;

export type KnownFilter = 'all' | 'known' | 'unknown';
export type SeverityFilter = 'any' | 'critical' | 'warning' | 'info';

export interface CertFilter {
  /** A-label, lower case, no `%.`/`*.` prefix; null: all names. */
  name: string | null;
  known: KnownFilter;
  severity: SeverityFilter;
  /** Case-insensitive substring of the issuer DN; '' for any. */
  issuer: string;
  /** Validity start (notBefore) on or after / before the end of this day, `YYYY-MM-DD`; null: open. */
  from: string | null;
  to: string | null;
  limit: number;
}

export interface ParsedQuery {
  filter: CertFilter;
  /** What was wrong with the query (shown to the user; the rest of the filter still applies). */
  errors: string[];
}

/**
 * A search name as crt.sh users type it: `%.example.com`, `*.example.com`, `.example.com` and
 * `example.com` all mean "example.com and every name below it" (the store's suffix match at a
 * label boundary). IDNs are converted to A-labels. Returns null for something that is no DNS name.
 */
export function normaliseSearchName(input: string): string | null {
  let s = input.trim().toLowerCase();
  s = s.replace(/^(?:%|\*)?\.?/, '').replace(/\.$/, '');
  if (s === '' || s.length > 253) return null;
  const ascii = domainToASCII(s);
  if (ascii === '' || ascii.length > 253) return null;
  // RFC 1035 §2.3.1 labels (LDH), plus `_` which CT names do carry (e.g. _acme-challenge in SANs).
  if (
    !/^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(ascii)
  )
    return null;
  return ascii;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function dayParam(v: string | undefined, label: string, errors: string[]): string | null {
  if (v === undefined || v === '') return null;
  if (DAY.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))) return v;
  errors.push(`${label} must be a date YYYY-MM-DD; ignored`);
  return null;
}

export function parseCertQuery(q: Record<string, string | undefined>): ParsedQuery {
  const errors: string[] = [];
  let name: string | null = null;
  const rawName = q['q'] ?? '';
  if (rawName.trim() !== '') {
    name = normaliseSearchName(rawName);
    if (name === null) errors.push('the search must be a DNS name such as example.com or %.example.com');
  }
  const k = q['known'];
  const known: KnownFilter = k === 'known' || k === 'unknown' ? k : 'all';
  const s = q['severity'];
  const severity: SeverityFilter = s === 'critical' || s === 'warning' || s === 'info' ? s : 'any';
  const issuer = (q['issuer'] ?? '').trim().slice(0, 200);
  const from = dayParam(q['from'], 'from', errors);
  const to = dayParam(q['to'], 'to', errors);
  const l = q['limit'];
  const n = l !== undefined && /^\d{1,4}$/.test(l) ? Number(l) : PAGE_SIZE;
  const limit = n >= 1 && n <= MAX_PAGE_SIZE ? n : PAGE_SIZE;
  return { filter: { name, known, severity, issuer, from, to, limit }, errors };
}

/**
 * Whether an issuance passes the filters that need no store read: issuer, validity start, and
 * known/unknown (decided by the known index alone: `classify` settles "known" before it looks at
 * any history, so an empty history gives the view's own answer). Checked before the view is
 * computed, because a view costs store reads (the name history of the heuristics).
 */
export function matchesFacts(i: Issuance, f: CertFilter, known: KnownIndex): boolean {
  if (f.issuer !== '' && !i.issuer.toLowerCase().includes(f.issuer.toLowerCase())) return false;
  const nb = i.notBefore.slice(0, 10);
  if (f.from !== null && nb < f.from) return false;
  if (f.to !== null && nb > f.to) return false;
  if (f.known !== 'all' && classify(i, known, []).known !== (f.known === 'known')) return false;
  return true;
}

/** Whether a view passes the filters that need the classification (known, severity). */
export function matchesView(v: IssuanceView, f: CertFilter): boolean {
  if (f.known === 'known' && !v.known) return false;
  if (f.known === 'unknown' && v.known) return false;
  if (f.severity !== 'any' && v.severity !== f.severity) return false;
  return true;
}

/** A keyset cursor in a link: `firstSeen` and the TBS hash, base64url. */
export function encodeCursor(p: IssuancePosition): string {
  return Buffer.from(`${p.firstSeen}|${p.tbsSha256}`, 'utf8').toString('base64url');
}

export function decodeCursor(s: string | undefined): IssuancePosition | null {
  if (s === undefined || s === '' || s.length > 200 || !/^[A-Za-z0-9_-]+$/.test(s)) return null;
  const [firstSeen = '', tbsSha256 = '', ...rest] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !/^[0-9a-f]{64}$/.test(tbsSha256) || Number.isNaN(Date.parse(firstSeen)))
    return null;
  return { firstSeen, tbsSha256 };
}

function positionOf(i: Issuance | IssuanceView): IssuancePosition {
  return { firstSeen: i.firstSeen, tbsSha256: i.tbsSha256 };
}

export interface ScanResult {
  /** Newest first. */
  views: IssuanceView[];
  /** Where to go on for older ones (null: nothing older). */
  older: IssuancePosition | null;
  /** Where to go on for newer ones (null: this is the newest). */
  newer: IssuancePosition | null;
  scanned: number;
  /** The budget ran out before the page was full. */
  budgetHit: boolean;
}

/**
 * One page of matching views. `direction` `older` starts after `from` going back in time (the
 * newest page when `from` is null); `newer` starts after `from` going forward.
 */
export async function scanPage(
  store: Store,
  context: IssuanceViewContext,
  filter: CertFilter,
  direction: 'older' | 'newer',
  from: IssuancePosition | null,
  budget = SCAN_BUDGET,
): Promise<ScanResult> {
  const order = direction === 'older' ? 'desc' : 'asc';
  const found: IssuanceView[] = [];
  let after: IssuancePosition | undefined = from ?? undefined;
  let scanned = 0;
  let exhausted = false;
  let lastScanned: IssuancePosition | null = null;
  const unfiltered =
    filter.known === 'all' &&
    filter.severity === 'any' &&
    filter.issuer === '' &&
    filter.from === null &&
    filter.to === null;
  while (found.length < filter.limit && scanned < budget) {
    // Unfiltered, every row read is shown: read no more than the page needs.
    const want = Math.min(unfiltered ? filter.limit - found.length : BATCH, budget - scanned);
    const batch = await store.pageIssuances({
      ...(filter.name !== null ? { name: filter.name } : {}),
      ...(after !== undefined ? { after } : {}),
      order,
      limit: want,
    });
    if (batch.length === 0) {
      exhausted = true;
      break;
    }
    // Views only for issuances whose facts match, and only as many as the page still needs at a
    // time: an unfiltered page computes exactly `limit` views.
    let stoppedAt = -1;
    let k = 0;
    while (k < batch.length && stoppedAt < 0) {
      const chunk: { at: number; issuance: Issuance }[] = [];
      while (k < batch.length && chunk.length < filter.limit - found.length) {
        const i = batch[k] as Issuance;
        if (matchesFacts(i, filter, context.known)) chunk.push({ at: k, issuance: i });
        k++;
      }
      if (chunk.length === 0) break;
      const views = await issuanceViews(
        store,
        chunk.map((x) => x.issuance),
        context,
      );
      for (let j = 0; j < views.length; j++) {
        const v = views[j] as IssuanceView;
        if (!matchesView(v, filter)) continue;
        found.push(v);
        if (found.length === filter.limit) {
          stoppedAt = (chunk[j] as { at: number }).at;
          break;
        }
      }
    }
    const used = stoppedAt >= 0 ? stoppedAt + 1 : batch.length;
    scanned += used;
    lastScanned = positionOf(batch[used - 1] as Issuance);
    after = lastScanned;
    if (stoppedAt < 0 && batch.length < want) {
      exhausted = true;
      break;
    }
  }
  const budgetHit = !exhausted && found.length < filter.limit;
  // Whether anything lies beyond: when the page filled exactly at the end, one more look is cheap.
  let beyond = !exhausted;
  if (beyond && !budgetHit && lastScanned !== null) {
    const peek = await store.pageIssuances({
      ...(filter.name !== null ? { name: filter.name } : {}),
      after: lastScanned,
      order,
      limit: 1,
    });
    beyond = peek.length > 0;
  }
  const onward = beyond ? lastScanned : null;
  if (direction === 'older') {
    const first = found[0];
    return {
      views: found,
      older: onward,
      newer: from === null ? null : first !== undefined ? positionOf(first) : from,
      scanned,
      budgetHit,
    };
  }
  const newestFirst = found.reverse();
  const last = newestFirst[newestFirst.length - 1];
  return {
    views: newestFirst,
    newer: onward,
    older: last !== undefined ? positionOf(last) : from,
    scanned,
    budgetHit,
  };
}
