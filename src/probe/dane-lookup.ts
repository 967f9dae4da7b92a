/**
 * @module probe/dane-lookup
 * The I/O half of `--dane`: one TLSA query (RFC 6698 §3: `_PORT._tcp.HOST`) through the configured
 * resolver with the DO bit, its DNSSEC verdict taken from the AD flag of that (validating, local)
 * resolver, then the pure matcher (`dane.ts`) once per distinct presented chain. CNAMEs on the way
 * are the recursive resolver's business; the TLSA records of its final answer are used.
 */
import { errorMessage } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { ipVersion } from './ip-literal.js';
import type { DnsClient, DnsResponse } from '../dns/index.js';
import { sanitizeText } from '../sanitize.js';
import { daneChainFindings, daneLookupFindings, relaxForDane } from './dane.js';
import type { DaneContext, TlsaLookup, TlsaRecord } from './dane.js';
import { statusOfFindings } from './plugin-output.js';
import type { Finding, PluginStatus, StartTlsProtocol } from './types.js';

/** `EndpointCheckOptions.dane`: the resolver TLSA is asked through (`--resolver`, else the system's). */
export interface DaneSettings {
  resolver: DnsClient;
}

/** What the endpoint check knows about the target when DANE is asked for. */
export interface DaneTarget {
  host: string;
  port: number;
  /** SNI / reference identifier; the TLSA base domain when the host is an IP literal. */
  sni: string | undefined;
  starttls: StartTlsProtocol | undefined;
}

/**
 * RFC 6698 §3 / RFC 7671 §7: the TLSA base domain is the host name the client connects to.
 * DEVIATION: the CNAME expansion of the host's address records (RFC 7671 §7) is not followed;
 * the name given is the base domain. For an IP literal the SNI name is (checkSpec requires one).
 */
export function tlsaBaseDomain(target: DaneTarget): string | null {
  const host = target.host.replace(/\.$/, '');
  if (ipVersion(host) === 0) return host.toLowerCase();
  return target.sni ? target.sni.replace(/\.$/, '').toLowerCase() : null;
}

/** RFC 6698 §3: `_<port>._tcp.<base domain>`. */
export function tlsaOwner(base: string, port: number): string {
  return `_${port}._tcp.${base}`;
}

/** Turns the resolver's answer into what `dane.ts` decides on. Pure. */
export function interpretTlsaResponse(owner: string, response: DnsResponse): TlsaLookup {
  if (response.rcode === 'SERVFAIL') {
    const ede = response.extendedErrors
      .map((e) => `EDE ${e.code} ${e.name}${e.text ? `: ${sanitizeText(e.text, { maxLength: 200 })}` : ''}`)
      .join('; ');
    return {
      kind: 'servfail',
      owner,
      detail: ede || 'no reason given: DNSSEC validation failure or a broken zone',
    };
  }
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN')
    return { kind: 'failed', owner, detail: `the resolver answered ${response.rcode}` };
  const records: TlsaRecord[] = [];
  for (const a of response.answers)
    if (a.data.type === 'TLSA')
      records.push({
        usage: a.data.usage,
        selector: a.data.selector,
        matchingType: a.data.matchingType,
        data: a.data.data,
      });
  // RFC 6698 §4.1 + RFC 4035 §3.2.3: only the AD flag of a validating resolver we trust (ideally
  // on this host) says the records, or their absence, are authenticated.
  return response.flags.authenticData
    ? { kind: 'secure', owner, records }
    : { kind: 'insecure', owner, records };
}

export async function lookupTlsa(
  resolver: DnsClient,
  owner: string,
  signal?: AbortSignal,
): Promise<TlsaLookup> {
  try {
    const response = await resolver.query(owner, 'TLSA', { dnssecOk: true, ...(signal ? { signal } : {}) });
    return interpretTlsaResponse(owner, response);
  } catch (e) {
    return { kind: 'failed', owner, detail: sanitizeText(errorMessage(e)) };
  }
}

/** One address as the endpoint check saw it. */
export interface DaneObserved {
  address: string;
  handshake: { chain: Uint8Array[]; authorized: boolean } | null;
  /**
   * The chain exactly as the server sent it, when known (probe/chain.ts): Node's `chain` may end
   * with a root taken from our trust store, and RFC 7671 §5.2 matches DANE-TA against what is served.
   */
  servedChain?: Uint8Array[] | null;
}

/** The per-address result the findings go into (structurally `AddressResult`). */
export interface DaneAddressResult {
  address: string;
  status: PluginStatus;
  findings: Finding[];
}

const chainKey = (chain: readonly Uint8Array[], authorized: boolean): string =>
  `${authorized ? 1 : 0}:${chain.map(sha256Hex).join(',')}`;

/**
 * Looks TLSA up once and matches each distinct presented chain once. Adds per-address findings to
 * `results` (and re-derives their status; SMTP PKIX findings relaxed by a DANE match, `relaxForDane`)
 * and returns every new finding for the endpoint's list. Addresses without a handshake get nothing
 * (they are CRITICAL already); when none has one, no query is sent.
 */
export async function checkDane(
  settings: DaneSettings,
  target: DaneTarget,
  observed: readonly DaneObserved[],
  results: DaneAddressResult[],
  limits: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<Finding[]> {
  const withChain = observed.filter((o) => (o.handshake?.chain.length ?? 0) > 0);
  if (withChain.length === 0) return [];
  const base = tlsaBaseDomain(target);
  if (base === null)
    return [
      {
        id: 'dane-lookup-failed',
        severity: 'unknown',
        message: 'DANE needs a host name (give HOST or --sni NAME)',
        address: '*',
      },
    ];
  // Bounded by -t on its own too: a resolver that never answers must not hold the plugin past it.
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  const lookup = await lookupTlsa(settings.resolver, tlsaOwner(base, target.port), signal);
  const shared = daneLookupFindings(lookup);
  if (lookup.kind !== 'secure' || lookup.records.length === 0) return shared;

  const ctx: DaneContext = { smtp: target.starttls === 'smtp' };
  const name = target.sni ?? base;
  const byChain = new Map<string, ReturnType<typeof daneChainFindings>>();
  const added: Finding[] = [...shared];
  for (const o of withChain) {
    const h = o.handshake;
    const result = results.find((r) => r.address === o.address);
    if (!h || !result) continue;
    const chain = o.servedChain ?? h.chain;
    const key = chainKey(chain, h.authorized);
    let verdict = byChain.get(key);
    if (!verdict) {
      verdict = daneChainFindings(lookup, { chain, pkixValid: h.authorized, name }, ctx, o.address);
      byChain.set(key, verdict);
    }
    const own = verdict.findings.map((f) => ({ ...f, address: o.address }));
    if (verdict.match) relaxForDane(result.findings, verdict.match, ctx);
    result.findings.push(...own);
    result.status = statusOfFindings(result.findings);
    added.push(...own);
  }
  return added;
}
