/**
 * @module probe/backfill-certspotter
 * SSLMate's Cert Spotter API v1 as a history source for `certvigil backfill` (issue 18). Pure
 * parsing and URLs here; the requests, paging, retries and the store are in backfill.ts.
 *
 * From SSLMate's reference, "Certificate Transparency Search API v1"
 * (https://sslmate.com/help/reference/ct_search_api_v1, found with the search tool; the older
 * https://sslmate.com/certspotter/api/docs-v1 agrees on these):
 * `GET https://api.certspotter.com/v1/issuances?domain=DOMAIN` lists the unexpired issuances valid
 * for DOMAIN (SANs and CN); `include_subdomains=true` adds names below it (any depth),
 * `match_wildcards=true` adds wildcard names that match it, `expand=` (repeatable) adds fields.
 * The answer is a JSON array of issuance objects in discovery order; the next page is asked with
 * `after=<id of the last one>`, and an empty array ends the list. An issuance object:
 *
 *     { "id": "3958735442",                  string, opaque
 *       "tbs_sha256": "<hex>",               RFC 6962 §3.2 TBS hash: the monitor's issuance key
 *       "cert_sha256": "<hex>",              the certificate, or precertificate if none is known
 *       "pubkey_sha256": "<hex>",            SubjectPublicKeyInfo
 *       "not_before": "2026-01-01T00:00:00Z", "not_after": "…",   RFC 3339
 *       "revoked": false,
 *       "dns_names": ["example.com"],        only with expand=dns_names
 *       "issuer": { "name": "C=US, O=…", "friendly_name": "…", … },   only with expand=issuer
 *       "cert_der": "<base64>" }             only with expand=cert_der
 *
 * Requests carry `Authorization: Bearer <API key>`; errors are JSON `{"code": …, "message": …}`
 * with an HTTP status (401 bad key, 429 rate limited with Retry-After).
 */
import { z } from 'zod';
import { CertvigilError } from '../errors.js';
import { baseUrl } from './ct-presence-apis.js';

const HEX64 = /^[0-9a-f]{64}$/;
const hex64 = z
  .string()
  .transform((s) => s.toLowerCase())
  .refine((s) => HEX64.test(s));

/** The fields backfill reads; other fields pass. A DER is at most ~100 KB: base64 bounded to 256 KiB. */
const Issuance = z.looseObject({
  id: z.string().min(1).max(64),
  tbs_sha256: hex64,
  cert_sha256: hex64.optional(),
  pubkey_sha256: hex64,
  not_before: z.string().max(64),
  not_after: z.string().max(64),
  dns_names: z.array(z.string().max(1024)).max(10_000).optional(),
  issuer: z.looseObject({ name: z.string().max(4096).optional() }).optional(),
  cert_der: z
    .string()
    .max(256 * 1024)
    .optional(),
});

export type CertSpotterIssuance = z.infer<typeof Issuance>;

export interface CertSpotterPage {
  issuances: CertSpotterIssuance[];
  /** Array members of the wrong shape, left out. */
  invalid: number;
  /** The id to ask `after` for the next page (the last member's, valid or not); null: the list ended. */
  next: string | null;
}

/**
 * Pure: one page. Anything but an array is `CT_BAD_RESPONSE`; members of the wrong shape are
 * counted and left out, but the paging still continues after the last member when it has an id.
 */
export function parseCertSpotterPage(json: unknown): CertSpotterPage {
  if (!Array.isArray(json))
    throw new CertvigilError('CT_BAD_RESPONSE', 'Cert Spotter answered something else than a JSON array');
  const issuances: CertSpotterIssuance[] = [];
  let invalid = 0;
  for (const item of json) {
    const parsed = Issuance.safeParse(item);
    if (parsed.success) issuances.push(parsed.data);
    else invalid++;
  }
  const last: unknown = json.at(-1);
  const lastId =
    last !== null && typeof last === 'object' && 'id' in last && typeof last.id === 'string' ? last.id : null;
  if (json.length > 0 && (lastId === null || lastId.length > 64))
    throw new CertvigilError(
      'CT_BAD_RESPONSE',
      'Cert Spotter page ends with an issuance without an id: cannot page on',
    );
  return { issuances, invalid, next: json.length === 0 ? null : lastId };
}

/** `GET {base}/v1/issuances?…` for one page of `domain`, `after` the given id. */
export function certSpotterUrl(base: string, domain: string, subdomains: boolean, after: string | null): URL {
  const url = new URL('v1/issuances', baseUrl(base));
  url.searchParams.set('domain', domain);
  url.searchParams.set('include_subdomains', subdomains ? 'true' : 'false');
  // A wildcard certificate valid for the domain is an issuance for it (certspotter's own monitor
  // matches wildcards too).
  url.searchParams.set('match_wildcards', 'true');
  for (const field of ['dns_names', 'issuer', 'cert_der']) url.searchParams.append('expand', field);
  if (after !== null) url.searchParams.set('after', after);
  return url;
}

/** Pure: the DER of `cert_der` (base64), or null when absent or not base64. */
export function certSpotterDer(issuance: CertSpotterIssuance): Uint8Array | null {
  const b64 = issuance.cert_der;
  if (b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  const der = Buffer.from(b64, 'base64');
  return der.length > 0 ? der : null;
}
