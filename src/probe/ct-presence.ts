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
 *
 * This file runs the sources and holds the store lookup; the others live beside it:
 * `ct-presence-proof` (1), `ct-presence-plan` (which log and leaf each SCT leads to),
 * `ct-presence-apis` (3), `ct-presence-lookup` (the options, hashes and deadline they share).
 */
import type { CtHttpOptions, LogInfo } from '../ct/index.js';
import type { Store } from '../store/index.js';
import { certSpotterName, lookupCertSpotter, lookupCrtSh } from './ct-presence-apis.js';
import { guarded } from './ct-presence-lookup.js';
import type { CertificateHashes, LookupOptions } from './ct-presence-lookup.js';
import { runProofs } from './ct-presence-proof.js';
import type { CtPresence, CtPresenceSource, SctCheck } from './types.js';

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
  const [proofs, rest] = await Promise.all([runProofs(o.logs, o.scts, lookup), Promise.all(others)]);
  const sources = [...proofs, ...rest];
  return { sources, found: sources.some((s) => s.status === 'found') };
}
