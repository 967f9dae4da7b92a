/**
 * @module probe/backfill-crtsh
 * crt.sh as a history source for `certvigil backfill` (issue 18): the JSON search and the download
 * of one certificate. Pure parsing and URLs here; the requests, retries and the store are in
 * backfill.ts.
 *
 * The JSON search, as crt.sh serves it (no published schema; the shape is that of its public
 * answers, e.g. wordeater/Format-CRTResponse and the pycrtsh/`crt.sh REST API` notes in the
 * analyzing-tls-certificate-transparency-logs skill's api-reference.md, found with the search
 * tool): `GET https://crt.sh/?q=example.com&output=json` (`q=%.example.com` for the names under
 * it: `%` is an SQL LIKE wildcard, so it does not match example.com itself) answers a JSON array,
 * one object per certificate or precertificate:
 *
 *     { "issuer_ca_id": 16418, "issuer_name": "C=US, O=Let's Encrypt, CN=R3",
 *       "common_name": "www.example.com", "name_value": "example.com\nwww.example.com",
 *       "id": 3616206571, "entry_timestamp": "2020-11-07T16:46:43.456",
 *       "not_before": "2020-11-07T15:46:43", "not_after": "2021-02-05T15:46:43",
 *       "serial_number": "03ffeea57322e24cd6fd207682f59ead324f" }
 *
 * Times are UTC without a zone designator. crt.sh gives no TBS hash, so each certificate is
 * downloaded (`GET https://crt.sh/?d=ID`, a PEM file) and its RFC 6962 §3.2 TBS hash computed by
 * x509 (poison and SCT list removed): the key under which the monitor stores it too.
 */
import { z } from 'zod';
import { CertvigilError } from '../errors.js';
import { parsePemCertificates } from '../x509/index.js';
import { baseUrl } from './ct-presence-apis.js';

/** The fields of a crt.sh row backfill reads; other fields pass. */
const CrtShRow = z.looseObject({
  id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  issuer_name: z.string().max(4096).optional(),
  name_value: z.string().max(1_000_000).optional(),
  not_before: z.string().max(64),
  not_after: z.string().max(64).optional(),
});

export interface CrtShRow {
  id: number;
  /** ms since the epoch (crt.sh's `not_before`, read as UTC). */
  notBefore: number;
}

export interface CrtShRows {
  rows: CrtShRow[];
  /** Array members of the wrong shape, left out. */
  invalid: number;
}

/** crt.sh times: ISO 8601 UTC without a zone (`2020-11-07T15:46:43`); a `Z` or offset is accepted too. */
export function crtShTime(text: string): number {
  const withZone = /(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  return /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(text) ? Date.parse(withZone.replace(' ', 'T')) : NaN;
}

/**
 * Pure: the rows of one JSON search answer. Anything but an array is `CT_BAD_RESPONSE` (crt.sh
 * answers an HTML page when overloaded, which fetchApiJson already refuses as not JSON); members
 * of the wrong shape or with an unreadable `not_before` are counted and left out.
 */
export function parseCrtShRows(json: unknown): CrtShRows {
  if (!Array.isArray(json))
    throw new CertvigilError('CT_BAD_RESPONSE', `crt.sh answered ${describe(json)}, not a JSON array`);
  const rows: CrtShRow[] = [];
  let invalid = 0;
  for (const item of json) {
    const parsed = CrtShRow.safeParse(item);
    const notBefore = parsed.success ? crtShTime(parsed.data.not_before) : NaN;
    if (!parsed.success || Number.isNaN(notBefore)) invalid++;
    else rows.push({ id: parsed.data.id, notBefore });
  }
  return { rows, invalid };
}

function describe(json: unknown): string {
  if (json === null) return 'null';
  return typeof json === 'object' ? 'a JSON object' : `a JSON ${typeof json}`;
}

/** The searches for `domain`: the name itself, and with subdomains also `%.domain` (LIKE: not the name). */
export function crtShSearchUrls(base: string, domain: string, subdomains: boolean): URL[] {
  return [domain, ...(subdomains ? [`%.${domain}`] : [])].map((q) => {
    const url = baseUrl(base);
    url.searchParams.set('q', q);
    url.searchParams.set('output', 'json');
    return url;
  });
}

/** `GET {base}/?d=ID`: the certificate with that crt.sh id. */
export function crtShCertificateUrl(base: string, id: number): URL {
  const url = baseUrl(base);
  url.searchParams.set('d', String(id));
  return url;
}

/** Pure: the DER of a `?d=` download, PEM (what crt.sh serves) or raw DER; null when neither. */
export function crtShCertificateDer(body: Buffer): Uint8Array | null {
  if (body.length > 0 && body[0] === 0x30) return body;
  const [der] = parsePemCertificates(body.toString('latin1'));
  return der ?? null;
}
