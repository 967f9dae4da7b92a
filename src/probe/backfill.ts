/**
 * @module probe/backfill
 * `certvigil backfill` (issue 18): the certificates a third party already indexed for a domain —
 * crt.sh or SSLMate's Cert Spotter API — imported into the monitor's store, marked with their
 * source, so the history the monitor never read (it started with `--start-at-end`, as everyone
 * does) is there for the internal check, `certs list` and the dashboard. Each certificate is keyed
 * by its RFC 6962 §3.2 TBS hash, computed by x509 from its DER exactly as the monitor computes it
 * from a log entry, so a certificate imported here and later found in a log is one issuance.
 *
 * Bounded everywhere: bodies (fetchApiBody), pages, certificates (`maxCertificates`), request
 * time, retries; every string from outside is cleaned (sanitizeText) before it is stored.
 */
import { CertvigilError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { sanitizeText } from '../sanitize.js';
import type { ImportedIssuance, IssuanceImport } from '../store/index.js';
import { summarizeCertificate } from '../x509/index.js';
import { certSpotterDer, certSpotterUrl, parseCertSpotterPage } from './backfill-certspotter.js';
import type { CertSpotterIssuance } from './backfill-certspotter.js';
import {
  crtShCertificateDer,
  crtShCertificateUrl,
  crtShSearchUrls,
  parseCrtShRows,
} from './backfill-crtsh.js';
import { ApiHttpError, fetchApiBody, fetchApiJson } from './ct-presence-apis.js';

export type BackfillSource = 'crtsh' | 'certspotter';

/** Largest answers: a crt.sh search of a big domain is tens of MB; one certificate is < 64 KiB. */
const MAX_LIST_BYTES = 64 * 1024 * 1024;
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_CERT_BYTES = 64 * 1024;
/** Cert Spotter pages read at most (a page holds up to ~100 issuances). */
const MAX_PAGES = 1000;
/** Issuances handed to the store per transaction (store: at most 1000). */
const IMPORT_CHUNK = 200;
/** Statuses worth another try after a wait: rate limited, or briefly unavailable. */
const RETRYABLE = new Set([429, 503]);

export interface BackfillOptions {
  source: BackfillSource;
  /** A checked, lower-case DNS name (the CLI checks it). */
  domain: string;
  subdomains: boolean;
  /** API base URL (`https://crt.sh`, `https://api.certspotter.com`, or a stand-in). */
  baseUrl: string;
  /** Only certificates valid from this time on (notBefore ≥ since); null: all. */
  since: Date | null;
  /** Cert Spotter: sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Certificates imported at most (the newest first for crt.sh); default 5000. */
  maxCertificates?: number;
  /** Per request; default 60 s. */
  timeoutMs?: number;
  /** Tries per request for 429/503; default 5. */
  maxAttempts?: number;
  /** Longest wait asked by Retry-After that is honoured (longer: give up); default 120 s. */
  maxRetryWaitSeconds?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (event: BackfillProgress) => void;
}

export type BackfillProgress =
  | { kind: 'listed'; listed: number; page: number }
  | { kind: 'certificates'; done: number; total: number }
  | { kind: 'retry'; status: number; waitSeconds: number; attempt: number };

/** What one run did: the `--json` summary of the CLI. */
export interface BackfillSummary {
  source: `backfill:${BackfillSource}`;
  domain: string;
  subdomains: boolean;
  since: string | null;
  /** Entries the API listed (crt.sh rows, Cert Spotter issuances), each id once. */
  listed: number;
  /** Left out: valid before `since`. */
  beforeSince: number;
  /** Left out: past `maxCertificates`. */
  truncated: number;
  /** Left out: members of the wrong shape. */
  invalid: number;
  /** Left out: certificate bytes x509 could not read (crt.sh; Cert Spotter falls back to its fields). */
  unreadable: number;
  /** Issuances handed to the store (each TBS hash once). */
  imported: number;
  /** Of those, new to the store. */
  added: number;
  /** Of those, already stored (found in a log, or imported before). */
  known: number;
  requests: number;
  retries: number;
}

interface Run {
  opts: BackfillOptions;
  summary: BackfillSummary;
  headers: Record<string, string>;
}

const clean = (text: string, max = 1024): string => sanitizeText(text, { maxLength: max });

/** The issuance facts of a certificate or precertificate DER, as the monitor records a logged one. */
export function importedFromDer(der: Uint8Array, sourceId: string): ImportedIssuance {
  const s = summarizeCertificate(der);
  return {
    tbsSha256: s.tbsSha256,
    certSha256: sha256Hex(der),
    dnsNames: s.dnsNames.map((n) => clean(n)),
    ipAddresses: s.ipAddresses,
    issuer: clean(s.issuer, 4096),
    serial: s.serialHex,
    notBefore: s.notBefore,
    notAfter: s.notAfter,
    spkiSha256: s.spkiSha256,
    keyType: s.keyType,
    sourceId: clean(sourceId, 64),
  };
}

/**
 * A Cert Spotter issuance: from its `cert_der` when that parses (every field the monitor keeps),
 * else from the API's own fields (no serial or key type: left empty, never guessed).
 */
export function importedFromCertSpotter(i: CertSpotterIssuance): ImportedIssuance {
  const der = certSpotterDer(i);
  if (der !== null) {
    try {
      return importedFromDer(der, i.id);
    } catch {
      // Unreadable DER: the API's fields below still say which issuance it is.
    }
  }
  return {
    tbsSha256: i.tbs_sha256,
    certSha256: i.cert_sha256 ?? null,
    dnsNames: (i.dns_names ?? []).map((n) => clean(n)),
    ipAddresses: [],
    issuer: clean(i.issuer?.name ?? '', 4096),
    serial: '',
    notBefore: clean(i.not_before, 64),
    notAfter: clean(i.not_after, 64),
    spkiSha256: i.pubkey_sha256,
    keyType: '',
    sourceId: clean(i.id, 64),
  };
}

/**
 * One request with its time limit, retried on 429/503 after the server's Retry-After (or 1, 2, 4 …
 * s), at most `maxAttempts` times; a wait longer than `maxRetryWaitSeconds` is not waited for.
 * Network failures and time-outs become coded errors (one line in the CLI, exit 2).
 */
async function request<T>(run: Run, what: string, fetch: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { opts, summary } = run;
  const attempts = opts.maxAttempts ?? 5;
  const maxWait = opts.maxRetryWaitSeconds ?? 120;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    summary.requests++;
    try {
      return await fetch(AbortSignal.timeout(opts.timeoutMs ?? 60_000));
    } catch (err) {
      if (err instanceof ApiHttpError && RETRYABLE.has(err.status)) {
        const wait = err.retryAfterSeconds ?? 2 ** (attempt - 1);
        if (attempt >= attempts || wait > maxWait)
          throw new CertvigilError(
            'CT_RATE_LIMITED',
            `${what}: ${err.message} — gave up after ${attempt} attempt(s)${wait > maxWait ? ` (asked to wait ${wait} s)` : ''}`,
            { cause: err },
          );
        summary.retries++;
        opts.onProgress?.({ kind: 'retry', status: err.status, waitSeconds: wait, attempt });
        await sleep(wait * 1000);
        continue;
      }
      if (
        opts.source === 'certspotter' &&
        err instanceof ApiHttpError &&
        (err.status === 401 || err.status === 403)
      )
        throw new CertvigilError(
          'CT_HTTP',
          `${what}: ${err.message} — the API refused the key (set $CERTSPOTTER_API_KEY to a valid one)`,
          { cause: err },
        );
      if (err instanceof CertvigilError) throw err;
      const e = err as Error;
      const timeout = e.name === 'TimeoutError' || e.name === 'AbortError';
      throw new CertvigilError(
        timeout ? 'CT_TIMEOUT' : 'CT_NETWORK',
        `${what}: ${timeout ? 'no answer in time' : clean(e.message, 200)}`,
        { cause: err },
      );
    }
  }
}

const before = (run: Run, notBefore: number): boolean =>
  run.opts.since !== null && notBefore < run.opts.since.getTime();

async function fromCrtSh(run: Run): Promise<ImportedIssuance[]> {
  const { opts, summary } = run;
  const seen = new Map<number, number>();
  for (const url of crtShSearchUrls(opts.baseUrl, opts.domain, opts.subdomains)) {
    const json = await request(run, 'crt.sh search', (signal) =>
      fetchApiJson(url, {}, signal, MAX_LIST_BYTES),
    );
    const { rows, invalid } = parseCrtShRows(json);
    summary.invalid += invalid;
    for (const r of rows) seen.set(r.id, r.notBefore);
    opts.onProgress?.({ kind: 'listed', listed: seen.size, page: 1 });
  }
  summary.listed = seen.size;
  // Newest first, so a bound on downloads keeps the recent history.
  const wanted = [...seen].filter(([, nb]) => !before(run, nb)).sort((a, b) => b[1] - a[1] || b[0] - a[0]);
  summary.beforeSince = seen.size - wanted.length;
  const max = opts.maxCertificates ?? 5000;
  summary.truncated = Math.max(0, wanted.length - max);
  const out: ImportedIssuance[] = [];
  const todo = wanted.slice(0, max);
  for (const [id] of todo) {
    const url = crtShCertificateUrl(opts.baseUrl, id);
    let body: Buffer;
    try {
      body = await request(run, `crt.sh certificate ${id}`, (signal) =>
        fetchApiBody(url, {}, signal, MAX_CERT_BYTES),
      );
    } catch (err) {
      // One oversized or vanished certificate is bad data, not a failed source: count it, go on.
      const code = (err as { code?: unknown }).code;
      const status = err instanceof ApiHttpError ? err.status : 0;
      if (code !== 'CT_BODY_TOO_LARGE' && status !== 404) throw err;
      summary.unreadable++;
      continue;
    }
    const der = crtShCertificateDer(body);
    try {
      if (der === null) throw new Error('not a certificate');
      out.push(importedFromDer(der, String(id)));
    } catch {
      summary.unreadable++;
    }
    if (out.length % 25 === 0)
      opts.onProgress?.({ kind: 'certificates', done: out.length, total: todo.length });
  }
  return out;
}

async function fromCertSpotter(run: Run): Promise<ImportedIssuance[]> {
  const { opts, summary } = run;
  const max = opts.maxCertificates ?? 5000;
  const out: ImportedIssuance[] = [];
  const ids = new Set<string>();
  let after: string | null = null;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const url = certSpotterUrl(opts.baseUrl, opts.domain, opts.subdomains, after);
    const json = await request(run, 'Cert Spotter', (signal) =>
      fetchApiJson(url, run.headers, signal, MAX_PAGE_BYTES),
    );
    const parsed = parseCertSpotterPage(json);
    summary.invalid += parsed.invalid;
    for (const i of parsed.issuances) {
      if (ids.has(i.id)) continue;
      ids.add(i.id);
      const issuance = importedFromCertSpotter(i);
      const notBefore = Date.parse(issuance.notBefore);
      if (before(run, Number.isNaN(notBefore) ? 0 : notBefore)) summary.beforeSince++;
      else if (out.length >= max) summary.truncated++;
      else out.push(issuance);
    }
    summary.listed = ids.size;
    opts.onProgress?.({ kind: 'listed', listed: ids.size, page });
    if (parsed.next === null || parsed.next === after) return out;
    after = parsed.next;
  }
  throw new CertvigilError('CT_TRUNCATED', `Cert Spotter: more than ${MAX_PAGES} pages for ${opts.domain}`);
}

/**
 * Reads the source's history of `opts.domain` and imports it into `store` (in transactions of
 * IMPORT_CHUNK), returning what it did. Throws a coded CertvigilError when the source fails (after
 * retries) or answers something that is not its API; what was imported before stays (idempotent).
 */
export async function runBackfill(opts: BackfillOptions, store: IssuanceImport): Promise<BackfillSummary> {
  const summary: BackfillSummary = {
    source: `backfill:${opts.source}`,
    domain: opts.domain,
    subdomains: opts.subdomains,
    since: opts.since === null ? null : opts.since.toISOString(),
    listed: 0,
    beforeSince: 0,
    truncated: 0,
    invalid: 0,
    unreadable: 0,
    imported: 0,
    added: 0,
    known: 0,
    requests: 0,
    retries: 0,
  };
  const headers: Record<string, string> =
    opts.apiKey !== undefined && opts.apiKey !== '' ? { authorization: `Bearer ${opts.apiKey}` } : {};
  const run: Run = { opts, summary, headers };
  const found = opts.source === 'crtsh' ? await fromCrtSh(run) : await fromCertSpotter(run);
  // A precertificate and its certificate (two crt.sh ids) share the TBS hash: one issuance.
  const unique = [...new Map(found.map((i) => [i.tbsSha256, i])).values()];
  for (let i = 0; i < unique.length; i += IMPORT_CHUNK) {
    const result = await store.importIssuances(summary.source, unique.slice(i, i + IMPORT_CHUNK));
    summary.added += result.added;
    summary.known += result.known;
  }
  summary.imported = unique.length;
  return summary;
}
