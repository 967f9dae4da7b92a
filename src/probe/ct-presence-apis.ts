/**
 * @module probe/ct-presence-apis
 * The weakest CT presence sources, their word rather than a proof: crt.sh (`?q=<sha256>&output=json`)
 * and SSLMate's Cert Spotter API v1 (`/v1/issuances?domain=…`), each asked only when enabled. A
 * certificate matches by `certSha256` or by `tbsSha256` (so a logged precertificate matches the
 * final certificate). Answers are bounded in size and pages; their failures are typed
 * `CertvigilError`s that `guarded` turns into an `error` source.
 */
import { sanitizeText } from '../sanitize.js';
import { z } from 'zod';
import { CertvigilError } from '../errors.js';
import { guarded } from './ct-presence-lookup.js';
import type { CertificateHashes, LookupOptions } from './ct-presence-lookup.js';
import type { CtPresenceSource } from './types.js';

/** crt.sh's public base URL (pass it as `crtShUrl` to enable the lookup). */
export const DEFAULT_CRTSH_URL = 'https://crt.sh';
/** SSLMate Cert Spotter API base URL (pass it as `certSpotterUrl` to enable the lookup). */
export const DEFAULT_CERTSPOTTER_URL = 'https://api.certspotter.com';

/** Third-party answers larger than this are refused (a SHA-256 query answers a few hundred bytes). */
const MAX_API_BODY_BYTES = 4 * 1024 * 1024;
/** Cert Spotter pages read at most while looking for our certificate. */
const MAX_CERTSPOTTER_PAGES = 10;

export interface CertSpotterOptions extends LookupOptions {
  /** Sent as `Authorization: Bearer <key>`; without one the API is rate-limited harder. */
  apiKey?: string;
}

/**
 * An HTTP answer other than 200 (`CT_HTTP`), with what a caller that retries needs: the status and
 * the server's `Retry-After` in seconds (RFC 9110 §10.2.3: delay-seconds or an HTTP-date), if any.
 */
export class ApiHttpError extends CertvigilError {
  readonly status: number;
  readonly retryAfterSeconds: number | null;

  constructor(message: string, status: number, retryAfterSeconds: number | null) {
    super('CT_HTTP', message);
    this.name = 'ApiHttpError';
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Pure: `Retry-After` (RFC 9110 §10.2.3) as whole seconds from `now`, or null when absent or unreadable. */
export function retryAfterSeconds(value: string | string[] | undefined, now: number): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return null;
  if (/^\d{1,9}$/.test(v)) return Number(v);
  const when = Date.parse(v);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - now) / 1000));
}

/**
 * One bounded GET (single attempt: each caller decides whether to retry), the body as bytes.
 * Throws `CT_BODY_TOO_LARGE` past `maxBytes` and `ApiHttpError` (`CT_HTTP`) for any status but 200,
 * with a cleaned, bounded snippet of the body (an HTML error page becomes one short line).
 */
export async function fetchApiBody(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  maxBytes: number = MAX_API_BODY_BYTES,
): Promise<Buffer> {
  // Loaded here, not at start-up: only --crtsh/--certspotter and backfill need it.
  const { request } = await import('undici');
  const res = await request(url, {
    method: 'GET',
    signal,
    maxRedirections: 3,
    headers: { accept: 'application/json', 'user-agent': 'certvigil', ...headers },
  });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes)
        throw new CertvigilError('CT_BODY_TOO_LARGE', `GET ${url.href}: body exceeds ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
  const body = Buffer.concat(chunks);
  if (res.statusCode !== 200) {
    const snippet = sanitizeText(body.toString('utf8').replace(/\s+/g, ' ').trim(), { maxLength: 200 });
    throw new ApiHttpError(
      `GET ${url.href}: HTTP ${res.statusCode}${snippet === '' ? '' : `: ${snippet}`}`,
      res.statusCode,
      retryAfterSeconds(res.headers['retry-after'], Date.now()),
    );
  }
  return body;
}

/**
 * One bounded GET of a JSON API (single attempt: the caller's deadline is short). Throws
 * `CT_BODY_TOO_LARGE` past `maxBytes` (default `MAX_API_BODY_BYTES`), `CT_HTTP` for any status but
 * 200 and `CT_BAD_RESPONSE` for a body that is not JSON.
 */
export async function fetchApiJson(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  maxBytes: number = MAX_API_BODY_BYTES,
): Promise<unknown> {
  const body = (await fetchApiBody(url, headers, signal, maxBytes)).toString('utf8');
  try {
    return JSON.parse(body) as unknown;
  } catch (cause) {
    throw new CertvigilError('CT_BAD_RESPONSE', `GET ${url.href}: the answer is not JSON`, { cause });
  }
}

/** `base` as a directory URL without query or fragment (paths are resolved under it). */
export function baseUrl(base: string): URL {
  const url = new URL(base);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

/** Only what we read of crt.sh's JSON rows; other fields pass. */
const CrtShRows = z.array(
  z.looseObject({
    id: z.number(),
    entry_timestamp: z.string().nullish(),
  }),
);

/**
 * crt.sh: `GET {base}/?q={sha256}&output=json` answers a JSON array of the certificates with that
 * SHA-256 fingerprint (empty when crt.sh has not seen it). crt.sh indexes the certificates it
 * found in CT logs, so a row means "logged" — on crt.sh's word.
 */
export async function lookupCrtSh(
  base: string,
  certSha256Hex: string,
  opts: LookupOptions,
): Promise<CtPresenceSource> {
  return guarded('crtsh', base, opts, async (signal) => {
    const url = baseUrl(base);
    url.searchParams.set('q', certSha256Hex.toLowerCase());
    url.searchParams.set('output', 'json');
    const parsed = CrtShRows.safeParse(await fetchApiJson(url, {}, signal));
    if (!parsed.success) {
      return {
        kind: 'crtsh',
        where: base,
        status: 'error',
        detail: `unexpected crt.sh JSON (${parsed.error.issues[0]?.message ?? 'shape'})`,
      };
    }
    const [row] = parsed.data;
    if (row === undefined) {
      return {
        kind: 'crtsh',
        where: base,
        status: 'not-found',
        detail: `crt.sh knows no certificate with SHA-256 ${certSha256Hex}`,
      };
    }
    // The API's own strings: bounded and cleaned before they reach a finding.
    const when = row.entry_timestamp
      ? `, logged ${sanitizeText(row.entry_timestamp, { maxLength: 40 })}Z`
      : '';
    return { kind: 'crtsh', where: base, status: 'found', detail: `crt.sh id ${row.id}${when}` };
  });
}

/** Only what we read of a Cert Spotter issuance object; other fields pass. */
const CertSpotterIssuances = z.array(
  z.looseObject({
    id: z.string(),
    tbs_sha256: z.string().optional(),
    cert_sha256: z.string().optional(),
  }),
);

/**
 * Cert Spotter API v1: `GET {base}/v1/issuances?domain=NAME&include_subdomains=false&expand=dns_names`
 * lists the unexpired issuances valid for NAME (SSLMate coalesces a precertificate and its
 * certificate into one issuance, keyed by `tbs_sha256`); pages continue with `after=<last id>`.
 * A wildcard name is looked up at its parent with `include_subdomains=true`.
 */
export async function lookupCertSpotter(
  base: string,
  dnsName: string,
  hashes: CertificateHashes,
  opts: CertSpotterOptions,
): Promise<CtPresenceSource> {
  return guarded('certspotter', base, opts, async (signal) => {
    const wildcard = dnsName.startsWith('*.');
    const domain = (wildcard ? dnsName.slice(2) : dnsName).toLowerCase();
    const headers: Record<string, string> = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
    let after: string | undefined;
    let seen = 0;
    for (let page = 0; page < MAX_CERTSPOTTER_PAGES; page++) {
      const url = new URL('v1/issuances', baseUrl(base));
      url.searchParams.set('domain', domain);
      url.searchParams.set('include_subdomains', wildcard ? 'true' : 'false');
      url.searchParams.set('expand', 'dns_names');
      if (after !== undefined) url.searchParams.set('after', after);
      const parsed = CertSpotterIssuances.safeParse(await fetchApiJson(url, headers, signal));
      if (!parsed.success) {
        const why = parsed.error.issues[0]?.message ?? 'shape';
        return {
          kind: 'certspotter',
          where: base,
          status: 'error',
          detail: `unexpected Cert Spotter JSON (${why})`,
        };
      }
      const list = parsed.data;
      const match = matchIssuance(list, hashes);
      if (match !== null) return { kind: 'certspotter', where: base, status: 'found', detail: match };
      seen += list.length;
      const last = list.at(-1);
      if (last === undefined) break;
      after = last.id;
    }
    return {
      kind: 'certspotter',
      where: base,
      status: 'not-found',
      detail: `none of the ${seen} issuance(s) Cert Spotter lists for ${domain} has this certificate or TBS hash`,
    };
  });
}

/** Pure: the detail for the issuance matching our certificate or TBS hash, or null. */
export function matchIssuance(
  list: readonly { id: string; tbs_sha256?: string | undefined; cert_sha256?: string | undefined }[],
  hashes: CertificateHashes,
): string | null {
  const cert = hashes.certSha256.toLowerCase();
  const tbs = hashes.tbsSha256.toLowerCase();
  const byCert = list.find((i) => i.cert_sha256?.toLowerCase() === cert);
  if (byCert) return `issuance ${sanitizeText(byCert.id, { maxLength: 40 })} (same certificate SHA-256)`;
  const byTbs = list.find((i) => i.tbs_sha256?.toLowerCase() === tbs);
  if (byTbs)
    return `issuance ${sanitizeText(byTbs.id, { maxLength: 40 })} (same TBS SHA-256: the precertificate or certificate was logged)`;
  return null;
}

/** Pure: the name to ask Cert Spotter about (a non-wildcard one when there is one). */
export function certSpotterName(dnsNames: readonly string[]): string | undefined {
  return dnsNames.find((n) => !n.startsWith('*.')) ?? dnsNames[0];
}
