/**
 * @module probe/ct-presence
 * Is the certificate a server presents in Certificate Transparency? An SCT is only a promise
 * (RFC 6962 §3: the log "promises" to incorporate the entry within the MMD); this module looks for
 * evidence that the promise was kept, from the strongest to the weakest source:
 *
 * 1. An inclusion proof from the log named in an SCT, against a signed tree head verified with the
 *    log-list key: RFC 6962 §4.3 get-sth + §4.5 get-proof-by-hash, or for a static-ct-api log
 *    (c2sp.org/static-ct-api) the signed checkpoint and the hash tiles around the SCT's
 *    `leaf_index` (the proof is built from tiles by `ct/tile-proof`). The leaf hash is the
 *    RFC 6962 §3.4 MerkleTreeLeaf the SCT signed (`ct/sct-entry`), so a proof covers exactly this
 *    certificate (or its precertificate). Stops at the first log that proves it.
 * 2. certvigil's own monitor store: issuances the monitor already found in the logs it watches.
 * 3. Third-party indexes, when enabled: crt.sh (`?q=<sha256>&output=json`) and SSLMate's Cert
 *    Spotter API v1 (`/v1/issuances?domain=…`). Weakest: their word, not a proof.
 *
 * Certificates are matched by `certSha256` (the DER served) or `tbsSha256` (the TBSCertificate
 * without the CT poison and SCT-list extensions, as `x509/summary` computes it for the store), so a
 * precertificate logged in CT matches the final certificate served.
 *
 * Every source is bounded by `timeoutMs` and reports `found`, `not-found` or `error` with a detail;
 * one failing source never throws. Decisions are small pure functions; only the fetchers do I/O.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import {
  checkpointOrigin,
  CtHttpClient,
  CtHttpError,
  findLog,
  hashEquals,
  hashTileKey,
  inclusionProofFromTiles,
  MerkleError,
  publicKeyFromSpki,
  Rfc6962LogClient,
  rootFromInclusionProof,
  StaticCtLogClient,
  tilesForInclusionProof,
  verifyCheckpoint,
  verifyInclusion,
  verifySth,
} from '../ct/index.js';
import type { CtHttpOptions, LogInfo, SignedTreeHead } from '../ct/index.js';
import type { Store } from '../store/index.js';
import { summarizeCertificate } from '../x509/index.js';
import { sha256Hex } from '../hash.js';
import type { CtPresence, CtPresenceSource, SctCheck } from './types.js';

/** crt.sh's public base URL (pass it as `crtShUrl` to enable the lookup). */
export const DEFAULT_CRTSH_URL = 'https://crt.sh';
/** SSLMate Cert Spotter API base URL (pass it as `certSpotterUrl` to enable the lookup). */
export const DEFAULT_CERTSPOTTER_URL = 'https://api.certspotter.com';

/** Third-party answers larger than this are refused (a SHA-256 query answers a few hundred bytes). */
const MAX_API_BODY_BYTES = 4 * 1024 * 1024;
/** Cert Spotter pages read at most while looking for our certificate. */
const MAX_CERTSPOTTER_PAGES = 10;

/** What every lookup needs: its deadline, the caller's cancellation, and HTTP client settings. */
export interface LookupOptions {
  /** Deadline for the whole lookup (all its requests), ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** CtHttpClient settings for the log APIs (defaults: 2 attempts, short backoff, `timeoutMs`). */
  http?: CtHttpOptions;
}

export interface ProofOptions extends LookupOptions {
  /** The SCT's timestamp (ms): tells "not yet incorporated" from "missing past the MMD". */
  sctTimestamp?: number;
}

export interface CertSpotterOptions extends LookupOptions {
  /** Sent as `Authorization: Bearer <key>`; without one the API is rate-limited harder. */
  apiKey?: string;
}

export interface CertificateHashes {
  /** Hex SHA-256 of the DER certificate. */
  certSha256: string;
  /** Hex SHA-256 of the TBSCertificate without CT poison and SCT-list extensions. */
  tbsSha256: string;
}

/** The two hashes CT sources index a certificate by (the store's definition of `tbsSha256`). */
export function certificateHashes(der: Uint8Array): CertificateHashes {
  return { certSha256: sha256Hex(der), tbsSha256: summarizeCertificate(der).tbsSha256 };
}

// ---------------------------------------------------------------------------------------------
// Small helpers: deadlines, error text, hex.

const isoTime = (ms: number): string => new Date(ms).toISOString();

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseHexHash(hex: string): Uint8Array | null {
  return /^[0-9a-fA-F]{64}$/.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : null;
}

/** A signal that fires on the caller's cancel or after `timeoutMs`, and whether it was the timeout. */
function deadline(timeoutMs: number, signal?: AbortSignal): { signal: AbortSignal; timedOut: () => boolean } {
  const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  return { signal: combined, timedOut: () => timeout.aborted && signal?.aborted !== true };
}

/**
 * Runs one lookup under its deadline; whatever it throws becomes an `error` source. A timeout is
 * reported as such (not as the "cancelled" the HTTP layer sees), and so is the caller's cancel.
 */
async function guarded(
  kind: CtPresenceSource['kind'],
  where: string,
  opts: LookupOptions,
  run: (signal: AbortSignal) => Promise<CtPresenceSource>,
): Promise<CtPresenceSource> {
  const d = deadline(opts.timeoutMs, opts.signal);
  let timer: NodeJS.Timeout | undefined;
  // Code that ignores the signal (a store query) still cannot outlive the deadline.
  const expired = new Promise<never>((_, reject) => {
    const fire = (): void => reject(new Error('deadline'));
    if (d.signal.aborted) fire();
    else d.signal.addEventListener('abort', fire, { once: true });
    timer = setTimeout(fire, Math.max(1, opts.timeoutMs) + 50);
  });
  expired.catch(() => undefined);
  try {
    return await Promise.race([run(d.signal), expired]);
  } catch (err) {
    if (d.timedOut())
      return { kind, where, status: 'error', detail: `no answer within ${opts.timeoutMs} ms` };
    if (opts.signal?.aborted === true) return { kind, where, status: 'error', detail: 'cancelled' };
    return { kind, where, status: 'error', detail: message(err) };
  } finally {
    clearTimeout(timer);
  }
}

function httpClient(opts: LookupOptions, signal: AbortSignal): CtHttpClient {
  // A check is interactive: retry a transient failure once, quickly, and never wait out a long
  // Retry-After; the caller may widen this through `http`.
  return new CtHttpClient({
    timeoutMs: opts.timeoutMs,
    maxAttempts: 2,
    maxRateLimitedAttempts: 2,
    backoffBaseMs: 100,
    backoffMaxMs: 1_000,
    maxRetryAfterMs: Math.min(opts.timeoutMs, 5_000),
    ...opts.http,
    signal,
  });
}

function logKey(log: LogInfo): KeyObject {
  try {
    return publicKeyFromSpki(log.key);
  } catch (err) {
    throw new Error(`the log list key of ${log.description} is not a usable public key (${message(err)})`, {
      cause: err,
    });
  }
}

/**
 * Pure: why a leaf is absent from a signed head, from the SCT and head timestamps (RFC 6962 §3:
 * the log must incorporate the entry within the MMD of the SCT's timestamp). Null without an SCT
 * timestamp.
 */
export function pendingReason(
  mmdSeconds: number,
  headTimestamp: number,
  sctTimestamp: number | undefined,
): string | null {
  if (sctTimestamp === undefined) return null;
  if (sctTimestamp >= headTimestamp) {
    return `not yet incorporated: the SCT of ${isoTime(sctTimestamp)} is newer than the tree head`;
  }
  const due = sctTimestamp + mmdSeconds * 1000;
  if (headTimestamp < due) {
    return `not yet incorporated: the log has until ${isoTime(due)} (SCT + MMD of ${mmdSeconds} s)`;
  }
  return `missing although the MMD (${mmdSeconds} s) has passed since the SCT of ${isoTime(sctTimestamp)}`;
}

function absenceDetail(log: LogInfo, head: SignedTreeHead, sctTimestamp: number | undefined): string {
  const at = `tree head of ${isoTime(head.timestamp)}, size ${head.treeSize}`;
  const why = pendingReason(log.mmdSeconds, head.timestamp, sctTimestamp);
  return why === null ? at : `${at}; ${why}`;
}

// ---------------------------------------------------------------------------------------------
// Inclusion proofs.

const found = (where: string, detail: string): CtPresenceSource => ({
  kind: 'inclusion-proof',
  where,
  status: 'found',
  detail,
});
const notFound = (where: string, detail: string): CtPresenceSource => ({
  kind: 'inclusion-proof',
  where,
  status: 'not-found',
  detail,
});
const error = (where: string, detail: string): CtPresenceSource => ({
  kind: 'inclusion-proof',
  where,
  status: 'error',
  detail,
});

/**
 * RFC 6962 §4.5 get-proof-by-hash for `leafHash` against a fresh get-sth (§4.3) whose signature
 * (§3.5) verifies with the log-list key, then §2.1.1 verification against that head's root.
 * 400/404 from get-proof-by-hash (how logs say "no such leaf") is `not-found`.
 */
export async function proveInclusionRfc6962(
  log: LogInfo,
  leafHash: Uint8Array,
  opts: ProofOptions,
): Promise<CtPresenceSource> {
  const where = log.url;
  return guarded('inclusion-proof', where, opts, async (signal) => {
    const key = logKey(log);
    const http = httpClient(opts, signal);
    try {
      const client = new Rfc6962LogClient(log.url, http);
      const raw = await client.getSth({ signal });
      const sth: SignedTreeHead = {
        treeSize: raw.treeSize,
        timestamp: raw.timestamp,
        rootHash: raw.rootHash,
        signature: raw.signature,
      };
      try {
        verifySth(sth, key);
      } catch (err) {
        return error(
          where,
          `get-sth: the tree head signature does not verify with the log key (${message(err)})`,
        );
      }
      if (sth.treeSize === 0) return notFound(where, absenceDetail(log, sth, opts.sctTimestamp));
      let proof: { leafIndex: number; auditPath: Uint8Array[] };
      try {
        proof = await client.getProofByHash(leafHash, sth.treeSize, { signal });
      } catch (err) {
        if (
          err instanceof CtHttpError &&
          err.code === 'CT_HTTP' &&
          (err.status === 404 || err.status === 400)
        ) {
          return notFound(
            where,
            `no leaf with this hash (get-proof-by-hash: HTTP ${err.status}); ${absenceDetail(log, sth, opts.sctTimestamp)}`,
          );
        }
        throw err;
      }
      try {
        verifyInclusion(proof.leafIndex, sth.treeSize, leafHash, proof.auditPath, sth.rootHash);
      } catch (err) {
        if (!(err instanceof MerkleError)) throw err;
        return error(
          where,
          `get-proof-by-hash: the proof for leaf ${proof.leafIndex} does not verify against the signed root of size ${sth.treeSize} (${err.message})`,
        );
      }
      return found(
        where,
        `leaf ${proof.leafIndex} of the tree of size ${sth.treeSize} (signed ${isoTime(sth.timestamp)}); RFC 6962 inclusion proof verified`,
      );
    } finally {
      await http.destroy();
    }
  });
}

/**
 * static-ct-api: verify the checkpoint with the log-list key (origin = submission prefix), then
 * build the audit path of `leafIndex` from the hash tiles a tree of the checkpoint's size implies
 * (`ct/tile-proof`). The level-0 tile holds the leaf hash the log stored at that index: equal to
 * ours and leading to the signed root → found; different but authentic (its own proof leads to the
 * root) → not-found; anything not leading to the root → error (tiles inconsistent with the head).
 */
export async function proveInclusionStatic(
  log: LogInfo,
  leafIndex: number,
  leafHash: Uint8Array,
  opts: ProofOptions,
): Promise<CtPresenceSource> {
  const where = log.url;
  return guarded('inclusion-proof', where, opts, async (signal) => {
    if (!Number.isSafeInteger(leafIndex) || leafIndex < 0) return error(where, `bad leaf_index ${leafIndex}`);
    const key = logKey(log);
    const http = httpClient(opts, signal);
    try {
      const client = new StaticCtLogClient(log.url, http);
      const note = await client.getCheckpoint({ signal });
      let head: SignedTreeHead;
      try {
        head = verifyCheckpoint(note, { origin: checkpointOrigin(log), key, spki: log.key });
      } catch (err) {
        return error(where, `checkpoint does not verify with the log key (${message(err)})`);
      }
      if (leafIndex >= head.treeSize) {
        // The SCT names a position the signed tree does not reach yet: by definition pending.
        const why = pendingReason(log.mmdSeconds, head.timestamp, opts.sctTimestamp);
        return notFound(
          where,
          `leaf_index ${leafIndex} not yet incorporated: the checkpoint of ${isoTime(head.timestamp)} covers ${head.treeSize} entries${why === null ? '' : ` (${why})`}`,
        );
      }
      const refs = tilesForInclusionProof(leafIndex, head.treeSize);
      const fetched = await Promise.all(
        refs.map(
          async (r) =>
            [
              hashTileKey(r.level, r.index),
              await client.getHashTile(r.level, r.index, r.width, { signal }),
            ] as const,
        ),
      );
      const proof = inclusionProofFromTiles(leafIndex, head.treeSize, new Map(fetched));
      const rootFor = (h: Uint8Array): Uint8Array =>
        rootFromInclusionProof(leafIndex, head.treeSize, h, proof.auditPath);
      const signed = `tree of size ${head.treeSize} (checkpoint signed ${isoTime(head.timestamp)})`;
      if (hashEquals(rootFor(leafHash), head.rootHash)) {
        return found(where, `leaf ${leafIndex} of the ${signed}; inclusion proof from tiles verified`);
      }
      if (!hashEquals(proof.leafHash, leafHash) && hashEquals(rootFor(proof.leafHash), head.rootHash)) {
        return notFound(
          where,
          `leaf ${leafIndex} of the ${signed} is another entry (leaf hash ${Buffer.from(proof.leafHash).toString('hex')}): the SCT's entry is not at the index it names`,
        );
      }
      return error(where, `the hash tiles do not lead to the checkpoint root of the ${signed}`);
    } finally {
      await http.destroy();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Third-party indexes.

/** One bounded GET of a JSON API (single attempt: the caller's deadline is short). */
async function getJson(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<unknown> {
  // Loaded here, not at start-up: only --crtsh/--certspotter need it, and a plugin starts often.
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
      if (total > MAX_API_BODY_BYTES)
        throw new Error(`GET ${url.href}: body exceeds ${MAX_API_BODY_BYTES} bytes`);
      chunks.push(chunk);
    }
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
  const body = Buffer.concat(chunks).toString('utf8');
  if (res.statusCode !== 200) {
    const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 200);
    throw new Error(`GET ${url.href}: HTTP ${res.statusCode}${snippet === '' ? '' : `: ${snippet}`}`);
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new Error(`GET ${url.href}: the answer is not JSON`);
  }
}

function baseUrl(base: string): URL {
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
    const parsed = CrtShRows.safeParse(await getJson(url, {}, signal));
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
    const when = row.entry_timestamp ? `, logged ${row.entry_timestamp}Z` : '';
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
      const parsed = CertSpotterIssuances.safeParse(await getJson(url, headers, signal));
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
  if (byCert) return `issuance ${byCert.id} (same certificate SHA-256)`;
  const byTbs = list.find((i) => i.tbs_sha256?.toLowerCase() === tbs);
  if (byTbs) return `issuance ${byTbs.id} (same TBS SHA-256: the precertificate or certificate was logged)`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// The monitor's own store.

/**
 * Issuances the monitor found in the logs it watches, by certificate or TBS hash. Only as complete
 * as the monitor's watch list and log coverage: not-found here proves nothing.
 */
export async function lookupStore(
  store: Store,
  hashes: CertificateHashes,
  opts: LookupOptions = { timeoutMs: 10_000 },
): Promise<CtPresenceSource> {
  const where = store.kind;
  return guarded('store', where, opts, async () => {
    const cert = hashes.certSha256.toLowerCase();
    const tbs = hashes.tbsSha256.toLowerCase();
    const candidates = [...(await store.findIssuances(tbs)), ...(await store.findIssuances(cert))];
    const hit = candidates.find((i) => i.tbsSha256 === tbs || i.certSha256s.includes(cert));
    if (hit === undefined) {
      return {
        kind: 'store',
        where,
        status: 'not-found',
        detail: 'the monitor has not seen this issuance in the logs it watches',
      };
    }
    const entries = hit.entries
      .slice(0, 3)
      .map((e) => `${e.type} #${e.index} in log ${e.logId}`)
      .join(', ');
    const more = hit.entries.length > 3 ? ` and ${hit.entries.length - 3} more` : '';
    return {
      kind: 'store',
      where,
      status: 'found',
      detail: `seen by the monitor since ${hit.firstSeen}: ${entries}${more}`,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Orchestration.

export interface CtPresenceOptions {
  /** The log list (both kinds), to find each SCT's log and key. */
  logs: LogInfo[];
  scts: SctCheck[];
  certSha256: string;
  tbsSha256: string;
  /** The certificate's DNS names; the first non-wildcard one is asked of Cert Spotter. */
  dnsNames: string[];
  store?: Store;
  /** crt.sh base URL (e.g. `DEFAULT_CRTSH_URL`); null or absent: not asked. */
  crtShUrl?: string | null;
  /** Cert Spotter base URL (e.g. `DEFAULT_CERTSPOTTER_URL`); null or absent: not asked. */
  certSpotterUrl?: string | null;
  certSpotterApiKey?: string;
  /** Deadline of each source, ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** CtHttpClient settings for the log APIs. */
  fetchOptions?: CtHttpOptions;
}

/** A proof to attempt: the SCT's log and leaf, or why it cannot be attempted. */
export type ProofPlan =
  | { kind: 'rfc6962'; log: LogInfo; leafHash: Uint8Array; sct: SctCheck }
  | { kind: 'static-ct-api'; log: LogInfo; leafIndex: number; leafHash: Uint8Array; sct: SctCheck }
  | { kind: 'skip'; where: string; reason: string };

/** Pure: the log-list entry an SCT names (by URL and kind, else by log ID and kind). */
function logFor(logs: readonly LogInfo[], sct: SctCheck): LogInfo | undefined {
  const sameKind = logs.filter((l) => l.kind === sct.logKind);
  const byUrl = sct.logUrl === null ? undefined : findLog(sameKind, sct.logUrl);
  return byUrl ?? sameKind.find((l) => l.logId === sct.logId);
}

/**
 * Pure: the proofs to try, one per distinct (log, leaf), SCTs with a verified signature first.
 * SCTs whose log is unknown need nothing (no log to ask); a known log without what a proof needs
 * (a static-ct-api SCT without `leaf_index`, a malformed leaf hash) is reported as skipped.
 */
export function planProofs(logs: readonly LogInfo[], scts: readonly SctCheck[]): ProofPlan[] {
  const order = (s: SctCheck): number => (s.status === 'valid' ? 0 : s.status === 'unknown-log' ? 1 : 2);
  const plans: ProofPlan[] = [];
  const seen = new Set<string>();
  for (const sct of [...scts].sort((a, b) => order(a) - order(b))) {
    if (sct.logKind === null) continue;
    const log = logFor(logs, sct);
    if (log === undefined) continue;
    const key = `${log.kind} ${log.url} ${sct.leafHash.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const leafHash = parseHexHash(sct.leafHash);
    if (leafHash === null) {
      plans.push({
        kind: 'skip',
        where: log.url,
        reason: `the SCT's leaf hash "${sct.leafHash}" is not hex SHA-256`,
      });
    } else if (log.kind === 'rfc6962') {
      plans.push({ kind: 'rfc6962', log, leafHash, sct });
    } else if (sct.leafIndex === undefined) {
      plans.push({
        kind: 'skip',
        where: log.url,
        reason: 'the SCT of this static-ct-api log carries no leaf_index extension',
      });
    } else {
      plans.push({ kind: 'static-ct-api', log, leafIndex: sct.leafIndex, leafHash, sct });
    }
  }
  return plans;
}

/** Pure: the name to ask Cert Spotter about (a non-wildcard one when there is one). */
export function certSpotterName(dnsNames: readonly string[]): string | undefined {
  return dnsNames.find((n) => !n.startsWith('*.')) ?? dnsNames[0];
}

async function runProofs(o: CtPresenceOptions): Promise<CtPresenceSource[]> {
  const out: CtPresenceSource[] = [];
  const base = { timeoutMs: o.timeoutMs, signal: o.signal, http: o.fetchOptions };
  for (const plan of planProofs(o.logs, o.scts)) {
    if (plan.kind === 'skip') {
      out.push(error(plan.where, plan.reason));
      continue;
    }
    const opts: ProofOptions = { ...base, sctTimestamp: plan.sct.timestamp };
    const result =
      plan.kind === 'rfc6962'
        ? await proveInclusionRfc6962(plan.log, plan.leafHash, opts)
        : await proveInclusionStatic(plan.log, plan.leafIndex, plan.leafHash, opts);
    out.push(result);
    if (result.status === 'found') break;
  }
  return out;
}

/**
 * Looks for the certificate in every enabled source: inclusion proofs first (stopping at the
 * first log that proves it), then — concurrently — the monitor store, crt.sh and Cert Spotter.
 * `sources` keeps that order; `found` is true when any source found it. Never throws.
 */
export async function lookupCtPresence(o: CtPresenceOptions): Promise<CtPresence> {
  const hashes: CertificateHashes = { certSha256: o.certSha256, tbsSha256: o.tbsSha256 };
  const lookup: LookupOptions = { timeoutMs: o.timeoutMs, signal: o.signal, http: o.fetchOptions };
  const others: Promise<CtPresenceSource>[] = [];
  if (o.store !== undefined) others.push(lookupStore(o.store, hashes, lookup));
  if (o.crtShUrl != null) others.push(lookupCrtSh(o.crtShUrl, o.certSha256, lookup));
  if (o.certSpotterUrl != null) {
    const name = certSpotterName(o.dnsNames);
    others.push(
      name === undefined
        ? Promise.resolve({
            kind: 'certspotter',
            where: o.certSpotterUrl,
            status: 'error',
            detail: 'the certificate has no DNS name to look up',
          })
        : lookupCertSpotter(o.certSpotterUrl, name, hashes, { ...lookup, apiKey: o.certSpotterApiKey }),
    );
  }
  const [proofs, rest] = await Promise.all([runProofs(o), Promise.all(others)]);
  const sources = [...proofs, ...rest];
  return { sources, found: sources.some((s) => s.status === 'found') };
}
