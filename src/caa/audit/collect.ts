/**
 * @module caa/audit/collect
 * The I/O half of `caa audit`: through the recursive resolver, find the zone cut of DOMAIN, its
 * name servers and their addresses; then ask every name server address directly (recursion off)
 * for CAA at every search-path name inside the zone, once in lower case and once with a
 * mixed-case (0x20-style) QNAME; finally DNSSEC state (validation result, DS at the parent).
 */
import { randomInt } from 'node:crypto';
import { isCertvigilError } from '../../errors.js';
import { StubResolver } from '../../dns/index.js';
import type { DnsClient, DnsResponse } from '../../dns/index.js';
import { parseIdentifier, searchPath } from '../identifier.js';
import type { CaaRecord } from '../property.js';
import type { AuditData, DnssecState, PathEntry, ServerAnswer, ServerObservation } from './types.js';

export interface CollectOptions {
  /** Recursive (validating) resolver. */
  resolver: DnsClient;
  /** Port to reach the authoritative servers on (default 53). */
  nsPort?: number;
  /** Per-query timeout for direct queries (default 2,000 ms). */
  timeoutMs?: number;
  /** Makes the mixed-case QNAME; default random case per letter (always at least one change). */
  mixCase?: (name: string) => string;
  /** Client for one authoritative server; default a StubResolver (1 attempt) at address:nsPort. */
  directClient?: (address: string, port: number, timeoutMs: number) => DnsClient;
}

/** Random 0x20 case: every letter flipped with probability 1/2, at least one letter upper-cased. */
export function randomCase(name: string): string {
  let out = '';
  for (const ch of name) out += /[a-z]/.test(ch) && randomInt(2) === 1 ? ch.toUpperCase() : ch;
  if (out === name) {
    const i = name.search(/[a-z]/);
    if (i >= 0) out = name.slice(0, i) + name.charAt(i).toUpperCase() + name.slice(i + 1);
  }
  return out;
}

function caaOf(r: DnsResponse): CaaRecord[] {
  const out: CaaRecord[] = [];
  for (const a of r.answers)
    if (a.data.type === 'CAA') out.push({ flags: a.data.flags, tag: a.data.tag, value: a.data.value });
  return out;
}

function errorCode(err: unknown): string {
  if (isCertvigilError(err)) return err.code;
  return err instanceof Error ? err.message : String(err);
}

/** Walks up from `name` until a SOA owned by the queried name comes back: the zone apex. */
async function findZoneCut(resolver: DnsClient, name: string): Promise<string | null> {
  for (const candidate of searchPath(name)) {
    try {
      // CD: a bogus zone must still be found (its bogusness is reported separately).
      const r = await resolver.query(candidate, 'SOA', { dnssecOk: true, checkingDisabled: true });
      if (r.answers.some((a) => a.type === 'SOA' && a.name === candidate)) return candidate;
    } catch {
      // try the parent
    }
  }
  return null;
}

async function nameServers(
  resolver: DnsClient,
  zone: string,
): Promise<{ name: string; addresses: string[] }[]> {
  const ns = await resolver.query(zone, 'NS', { dnssecOk: true, checkingDisabled: true });
  const names = [
    ...new Set(
      ns.answers.flatMap((a) => (a.data.type === 'NS' ? [a.data.host.toLowerCase().replace(/\.$/, '')] : [])),
    ),
  ].sort();
  return Promise.all(
    names.map(async (name) => {
      const addresses: string[] = [];
      for (const type of ['A', 'AAAA']) {
        try {
          const r = await resolver.query(name, type, { checkingDisabled: true });
          for (const a of r.answers)
            if (a.data.type === 'A' || a.data.type === 'AAAA') addresses.push(a.data.address);
        } catch {
          // no addresses of this family
        }
      }
      return { name, addresses };
    }),
  );
}

async function askDirect(client: DnsClient, qname: string): Promise<ServerAnswer> {
  try {
    const r = await client.query(qname, 'CAA', { recursionDesired: false });
    return {
      rcode: r.rcode,
      timeout: false,
      error: null,
      authoritative: r.flags.authoritative,
      records: caaOf(r),
    };
  } catch (err) {
    const code = errorCode(err);
    return { rcode: null, timeout: code === 'DNS_TIMEOUT', error: code, authoritative: false, records: [] };
  }
}

async function pathEntry(resolver: DnsClient, name: string, zone: string | null): Promise<PathEntry> {
  const inZone = zone !== null && (name === zone || name.endsWith(`.${zone}`));
  try {
    const r = await resolver.query(name, 'CAA', { dnssecOk: true });
    const cname = r.answers.find((a) => a.type === 'CNAME' && a.name === name);
    return {
      name,
      inZone,
      rcode: r.rcode,
      error: null,
      records: caaOf(r),
      cnameTarget: cname?.data.type === 'CNAME' ? cname.data.target.toLowerCase().replace(/\.$/, '') : null,
    };
  } catch (err) {
    return { name, inZone, rcode: null, error: errorCode(err), records: [], cnameTarget: null };
  }
}

async function dnssecState(
  resolver: DnsClient,
  zone: string | null,
  domain: string,
): Promise<{ dnssec: DnssecState; hasDs: boolean | null }> {
  let dnssec: DnssecState = 'unknown';
  try {
    const r = await resolver.query(domain, 'CAA', { dnssecOk: true });
    dnssec = r.validation === 'authenticated' ? 'secure' : r.validation === 'failed' ? 'bogus' : 'insecure';
  } catch {
    dnssec = 'unknown';
  }
  let hasDs: boolean | null = null;
  if (zone !== null) {
    try {
      const r = await resolver.query(zone, 'DS', { dnssecOk: true });
      if (r.validation === 'failed') hasDs = true;
      else if (r.rcode === 'NOERROR' || r.rcode === 'NXDOMAIN')
        hasDs = r.answers.some((a) => a.type === 'DS');
    } catch {
      hasDs = null;
    }
  }
  return { dnssec, hasDs };
}

function defaultDirectClient(address: string, port: number, timeoutMs: number): DnsClient {
  return new StubResolver({ servers: [{ host: address, port }], timeoutMs, attempts: 1 });
}

/** Collects everything the findings need for one domain. */
export async function collectAudit(domain: string, options: CollectOptions): Promise<AuditData> {
  const id = parseIdentifier(domain);
  if (!id.ok) throw new Error(`invalid domain ${JSON.stringify(domain)}: ${id.error}`);
  const name = id.lookupName;
  const resolver = options.resolver;
  const zone = await findZoneCut(resolver, name);
  const nameservers = zone === null ? [] : await nameServers(resolver, zone).catch(() => []);
  const path = await Promise.all(searchPath(name).map((n) => pathEntry(resolver, n, zone)));
  const mix = options.mixCase ?? randomCase;
  const inZone = path.filter((e) => e.inZone).map((e) => e.name);
  const observations: ServerObservation[] = [];
  await Promise.all(
    nameservers.flatMap((ns) =>
      ns.addresses.map(async (address) => {
        const client = (options.directClient ?? defaultDirectClient)(
          address,
          options.nsPort ?? 53,
          options.timeoutMs ?? 2000,
        );
        for (const n of inZone) {
          const mixedQname = mix(n);
          const [lower, mixed] = await Promise.all([askDirect(client, n), askDirect(client, mixedQname)]);
          observations.push({ nsName: ns.name, address, name: n, lower, mixedQname, mixed });
        }
      }),
    ),
  );
  observations.sort((a, b) => `${a.name} ${a.address}`.localeCompare(`${b.name} ${b.address}`));
  const { dnssec, hasDs } = await dnssecState(resolver, zone, name);
  return { domain: name, zone, nameservers, path, observations, dnssec, hasDs };
}
