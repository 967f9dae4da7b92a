/**
 * @module server/api/certificates
 * `GET /api/v1/certificates` (search by name, filters, newest first, paginated),
 * `GET /api/v1/certificates/:hash` (one issuance), `GET /api/v1/certificates/:hash/pem`,
 * `POST /api/v1/certificates/:hash/authorize` (admin). Each certificate is the object
 * `certs list --json` prints for the same state.
 */
import type { Hono } from 'hono';
import { loadIssuanceViewContext } from '../../monitor/index.js';
import type { IssuanceView } from '../../monitor/index.js';
import { pemFromDerBase64 } from '../../notify/index.js';
import type { Issuance, IssuancePosition, Store } from '../../store/index.js';
import { requireRole } from '../auth/middleware.js';
import type { AppEnv } from '../types.js';
import {
  ApiInputError,
  boolParam,
  dateParam,
  decodeCursor,
  domainParam,
  encodeCursor,
  enumParam,
  hashParam,
  inputErrorResponse,
  limitParam,
  noteOfBody,
  param,
} from './params.js';
import type { ViewSource } from './views.js';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
/** Default page size of the certificate list. */
// 50, not 100: each item's view weighs the history of each of its names (up to HISTORY_DEPTH
// issuances a name), so a page spanning 50 busy domains stays well under 200 ms at 100k stored
// issuances (bench/server.ts); a client that wants more asks for `limit` up to 1000.
export const DEFAULT_CERT_LIMIT = 50;
/**
 * Bounds of one filtered request: the facts filters (issuer, since) are checked on the stored
 * issuance, cheaply, for up to `MAX_SCANNED` issuances; the view filters (known, severity) need
 * the view (inventory, history, reasons), computed for up to `MAX_VIEWED`. Past either, the answer
 * stops early with `next` where it stopped (a short page, maybe empty), and the client asks again.
 */
export const MAX_SCANNED = 20_000;
export const MAX_VIEWED = 1_000;

export interface CertificateFilter {
  known?: boolean;
  severity?: (typeof SEVERITIES)[number];
  /** Case-insensitive substring of the issuer DN. */
  issuer?: string;
  /** Issued (notBefore) at or after this ISO time. */
  since?: string;
}

/** Whether an issuance passes the filters on its own facts (issuer, since): pure, no view needed. */
export function matchesFacts(i: Pick<Issuance, 'issuer' | 'notBefore'>, f: CertificateFilter): boolean {
  if (f.issuer !== undefined && !i.issuer.toLowerCase().includes(f.issuer.toLowerCase())) return false;
  if (f.since !== undefined && !(Date.parse(i.notBefore) >= Date.parse(f.since))) return false;
  return true;
}

/** Whether a view passes the filters on what the monitor concluded (known, severity): pure. */
export function matchesView(v: Pick<IssuanceView, 'known' | 'severity'>, f: CertificateFilter): boolean {
  if (f.known !== undefined && v.known !== f.known) return false;
  if (f.severity !== undefined && v.severity !== f.severity) return false;
  return true;
}

const positionOf = (i: Issuance): IssuancePosition => ({ firstSeen: i.firstSeen, tbsSha256: i.tbsSha256 });

/**
 * One page of matching views, newest first: store pages are read (by `name`, through its index)
 * until `limit` views passed the filters, the store is exhausted, or a bound was reached. `next` is
 * the position of the last issuance examined (null: nothing more).
 */
export async function certificatePage(
  store: Store,
  views: ViewSource,
  q: { name?: string; after?: IssuancePosition; limit: number; filter: CertificateFilter },
): Promise<{ certificates: IssuanceView[]; next: string | null }> {
  const filtered = Object.values(q.filter).some((v) => v !== undefined);
  const out: IssuanceView[] = [];
  let after = q.after;
  let scanned = 0;
  let viewed = 0;
  for (;;) {
    const want = filtered ? Math.min(1000, Math.max(q.limit, 200)) : q.limit - out.length;
    const page = await store.pageIssuances({
      ...(q.name !== undefined ? { name: q.name } : {}),
      ...(after !== undefined ? { after } : {}),
      order: 'desc',
      limit: want,
    });
    scanned += page.length;
    const candidates = page.filter((i) => matchesFacts(i, q.filter));
    // Views in slices, so that a page that fills early computes no view it will not return.
    for (let k = 0; k < candidates.length;) {
      const slice = candidates.slice(k, k + Math.max(1, Math.min(q.limit - out.length, 100)));
      const sliceViews = await views.views(slice);
      viewed += slice.length;
      for (let j = 0; j < slice.length; j++) {
        const v = sliceViews[j];
        if (v !== undefined && matchesView(v, q.filter)) out.push(v);
        if (out.length >= q.limit) {
          // Stop exactly here, so that `next` resumes after the last one returned.
          const last = slice[j] as Issuance;
          return { certificates: out, next: encodeCursor(positionOf(last)) };
        }
      }
      k += slice.length;
      if (viewed >= MAX_VIEWED) {
        const last = slice[slice.length - 1] as Issuance;
        return { certificates: out, next: encodeCursor(positionOf(last)) };
      }
    }
    const last = page[page.length - 1];
    if (last !== undefined) after = positionOf(last);
    if (page.length < want) return { certificates: out, next: null };
    if (scanned >= MAX_SCANNED) return { certificates: out, next: after ? encodeCursor(after) : null };
  }
}

/** The one issuance a hash (TBS or certificate SHA-256, or a unique prefix) names; 404/409 otherwise. */
export async function issuanceByHash(store: Store, raw: string): Promise<Issuance> {
  const hash = hashParam(raw);
  const found = await store.findIssuances(hash);
  if (found.length === 0) throw new ApiInputError(`no issuance matches ${hash}`, 404);
  if (found.length > 1)
    throw new ApiInputError(`${hash} is ambiguous (${found.length} issuances): give more digits`, 409);
  return found[0] as Issuance;
}

export function registerCertificatesApi(app: Hono<AppEnv>, store: Store, views: ViewSource): void {
  app.get('/api/v1/certificates', async (c) => {
    try {
      const name = domainParam(c.req.query('name'), 'name');
      const issuer = param(c.req.query('issuer'), 'issuer');
      if (issuer !== undefined && issuer.length > 200)
        throw new ApiInputError('issuer is longer than 200 characters');
      const known = boolParam(c.req.query('known'), 'known');
      const severity = enumParam(c.req.query('severity'), 'severity', SEVERITIES);
      const since = dateParam(c.req.query('since'), 'since');
      const after = decodeCursor(c.req.query('cursor'), 'cursor');
      const limit = limitParam(c.req.query('limit'), DEFAULT_CERT_LIMIT);
      const page = await certificatePage(store, views, {
        ...(name !== undefined ? { name } : {}),
        ...(after !== undefined ? { after } : {}),
        limit,
        filter: {
          ...(known !== undefined ? { known } : {}),
          ...(severity !== undefined ? { severity } : {}),
          ...(issuer !== undefined ? { issuer } : {}),
          ...(since !== undefined ? { since } : {}),
        },
      });
      return c.json(page);
    } catch (err) {
      return inputErrorResponse(err);
    }
  });

  app.get('/api/v1/certificates/:hash', async (c) => {
    try {
      const [v] = await views.views([await issuanceByHash(store, c.req.param('hash'))]);
      return c.json({ certificate: v });
    } catch (err) {
      return inputErrorResponse(err);
    }
  });

  app.get('/api/v1/certificates/:hash/pem', async (c) => {
    try {
      const i = await issuanceByHash(store, c.req.param('hash'));
      // The store keeps what the monitor matched on (hashes, names, issuer, validity, where it was
      // logged), not the certificate's bytes — except in the alert of an issuance that was not
      // ours, which carries the logged certificate (or precertificate) for hooks and mail. Those
      // are the certificates someone wants to look at; for the others the log entries say where to
      // fetch it (RFC 6962 §4.6 get-entries, or the static-ct-api data tiles).
      const event = (await loadIssuanceViewContext(store)).alerted.get(i.tbsSha256);
      const der = event?.type === 'issuance' ? event.issuance.certificateDerBase64 : undefined;
      const pem = der === undefined ? null : pemFromDerBase64(der);
      if (pem !== null)
        return c.body(pem, 200, {
          'Content-Type': 'application/x-pem-file',
          'Content-Disposition': `attachment; filename="${i.tbsSha256.slice(0, 16)}.pem"`,
        });
      const [v] = await views.views([i]);
      return c.json(
        {
          error:
            'the certificate is not stored (the monitor keeps the bytes only of certificates it alerted on); fetch it from a log entry',
          entries: v?.entries ?? [],
        },
        404,
      );
    } catch (err) {
      return inputErrorResponse(err);
    }
  });

  app.post('/api/v1/certificates/:hash/authorize', requireRole('admin'), async (c) => {
    try {
      const i = await issuanceByHash(store, c.req.param('hash'));
      const type = c.req.header('content-type') ?? '';
      let body: unknown = null;
      const text = await c.req.text();
      if (text.trim() !== '') {
        if (!type.startsWith('application/json'))
          throw new ApiInputError('send the body as application/json: {"note": "why"}');
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          throw new ApiInputError('the body is not JSON');
        }
      }
      const note = noteOfBody(body);
      // As `certs authorize`: a prefix is resolved to the issuance's full TBS hash first.
      await store.authorize(i.tbsSha256, note);
      views.invalidate();
      const [v] = await views.views([i]);
      return c.json({ authorized: i.tbsSha256, certificate: v });
    } catch (err) {
      return inputErrorResponse(err);
    }
  });
}
