/**
 * @module caa/audit/collect
 * The I/O half of `caa audit`: through the recursive resolver, find the zone cut of DOMAIN, its
 * name servers and their addresses; then ask every name server address directly (recursion off)
 * for CAA at every search-path name inside the zone, once in lower case and once with a
 * mixed-case (0x20-style) QNAME; finally DNSSEC state (validation result of DOMAIN's CAA answer,
 * DS at the parent).
 *
 * Fail closed: every resolver query that gets no usable answer is recorded (`failures`, or the
 * search-path entry's `error`/`rcode`) for the findings to report as `lookup-failed`; none is read
 * as "nothing there". A failed zone-cut lookup or an NXDOMAIN domain ends the collection at once.
 */
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { CertvigilError, errorMessage, hasErrorCode } from '../../errors.js';
import { parseIdentifier, searchPath } from '../identifier.js';
import type { CaaRecord } from '../property.js';
import type {
  AuditData,
  AuditDnsClient,
  AuditQueryOptions,
  AuditResponse,
  DnssecState,
  LookupFailure,
  PathEntry,
  ServerAnswer,
  ServerObservation,
} from './types.js';

export interface CollectOptions {
  /** Recursive (validating) resolver. */
  resolver: AuditDnsClient;
  /** Port to reach the authoritative servers on (default 53). */
  nsPort?: number;
  /** Per-query timeout for direct queries (default 2,000 ms). */
  timeoutMs?: number;
  /** Makes the mixed-case QNAME; default random case per letter (always at least one change). */
  mixCase?: (name: string) => string;
  /** How to name the resolver in a lookup-failed finding, e.g. "127.0.0.1:53". */
  resolverLabel?: string;
  /**
   * Client for one authoritative server at address:port (the CLI gives a StubResolver, 1 attempt):
   * received, like `resolver`, so that caa builds no DNS transport of its own.
   */
  directClient: (address: string, port: number, timeoutMs: number) => AuditDnsClient;
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

function caaOf(r: AuditResponse): CaaRecord[] {
  const out: CaaRecord[] = [];
  for (const a of r.answers)
    if (a.data.type === 'CAA') out.push({ flags: a.data.flags, tag: a.data.tag, value: a.data.value });
  return out;
}

function errorCode(err: unknown): string {
  // Ours or an environment error's code (ECONNREFUSED): the finding shows the code, not prose.
  if (hasErrorCode(err)) return err.code;
  return errorMessage(err);
}

/** The resolver's error without its "name/TYPE: " prefix (the finding names the query itself). */
function failureText(err: unknown, name: string, type: string): string {
  const text = errorMessage(err);
  return text.startsWith(`${name}/${type}: `) ? text.slice(name.length + type.length + 3) : text;
}

/** An answer we can use: data, or a proven absence (NODATA/NXDOMAIN). Anything else is a failure. */
const usable = (r: AuditResponse): boolean => r.rcode === 'NOERROR' || r.rcode === 'NXDOMAIN';

/**
 * Asks the resolver and classifies the outcome. Never rejects: a failure is recorded in `failures`
 * (fail closed — RFC 8659 §3 has a CA refuse when it cannot look CAA up, so the audit must not read
 * a failed lookup as "nothing there") and returned as null.
 */
async function ask(
  resolver: AuditDnsClient,
  label: string,
  failures: LookupFailure[],
  name: string,
  type: string,
  options: AuditQueryOptions,
): Promise<AuditResponse | null> {
  try {
    const r = await resolver.query(name, type, options);
    if (usable(r)) return r;
    const ede = r.extendedErrors
      .map((e) => ` (EDE ${e.code} ${e.name}${e.text ? `: ${e.text}` : ''})`)
      .join('');
    failures.push({ name, type, server: formatEndpoint(r.server), error: `${r.rcode}${ede}` });
  } catch (err) {
    failures.push({ name, type, server: label, error: failureText(err, name, type) });
  }
  return null;
}

type ZoneCut = { zone: string | null; exists: boolean; failed: boolean };

/**
 * Walks up from `name` until a SOA owned by the queried name comes back: the zone apex. A failed
 * lookup stops the walk (a parent found past a failure could be the wrong zone), and so does
 * NXDOMAIN for the name itself, which means the domain does not exist (unless it is an alias).
 */
async function findZoneCut(
  resolver: AuditDnsClient,
  label: string,
  failures: LookupFailure[],
  name: string,
): Promise<ZoneCut> {
  let exists = true;
  for (const candidate of searchPath(name)) {
    // CD: a bogus zone must still be found (its bogusness is reported separately).
    const r = await ask(resolver, label, failures, candidate, 'SOA', {
      dnssecOk: true,
      checkingDisabled: true,
    });
    if (r === null) return { zone: null, exists, failed: true };
    if (r.answers.some((a) => a.type === 'SOA' && a.name === candidate))
      return { zone: candidate, exists, failed: false };
    const alias = r.answers.some((a) => (a.type === 'CNAME' || a.type === 'DNAME') && a.name === candidate);
    // RFC 8020: NXDOMAIN means nothing exists at or below the name; the parents are only walked to
    // name the zone in the report.
    if (candidate === name && r.rcode === 'NXDOMAIN' && !alias) exists = false;
  }
  return { zone: null, exists, failed: false };
}

async function nameServers(
  resolver: AuditDnsClient,
  label: string,
  failures: LookupFailure[],
  zone: string,
): Promise<{ name: string; addresses: string[] }[]> {
  const ns = await ask(resolver, label, failures, zone, 'NS', { dnssecOk: true, checkingDisabled: true });
  if (ns === null) return [];
  const names = [
    ...new Set(
      ns.answers.flatMap((a) =>
        a.data.type === 'NS' && a.name === zone ? [a.data.host.replace(/\.$/, '')] : [],
      ),
    ),
  ].sort();
  if (names.length === 0) {
    // Every zone apex has an NS RRset (RFC 1034 §4.2.1): an empty one is a broken answer, not "no servers".
    failures.push({
      name: zone,
      type: 'NS',
      server: formatEndpoint(ns.server),
      error: 'no NS records at the zone apex',
    });
    return [];
  }
  return Promise.all(
    names.map(async (name) => {
      const addresses: string[] = [];
      for (const type of ['A', 'AAAA']) {
        const r = await ask(resolver, label, failures, name, type, { checkingDisabled: true });
        for (const a of r?.answers ?? [])
          if ((a.data.type === 'A' || a.data.type === 'AAAA') && a.type === type)
            addresses.push(a.data.address);
      }
      return { name, addresses };
    }),
  );
}

async function askDirect(client: AuditDnsClient, qname: string): Promise<ServerAnswer> {
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

async function pathEntry(resolver: AuditDnsClient, name: string, zone: string | null): Promise<PathEntry> {
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
      validation: r.validation,
    };
  } catch (err) {
    return {
      name,
      inZone,
      rcode: null,
      error: errorMessage(err),
      records: [],
      cnameTarget: null,
      validation: null,
    };
  }
}

/** DNSSEC state of DOMAIN's CAA answer (the first search-path entry), and whether the parent has a DS. */
async function dnssecState(
  resolver: AuditDnsClient,
  label: string,
  failures: LookupFailure[],
  zone: string,
  first: PathEntry | undefined,
): Promise<{ dnssec: DnssecState; hasDs: boolean | null }> {
  const v = first?.validation ?? null;
  const dnssec: DnssecState =
    v === 'authenticated'
      ? 'secure'
      : v === 'failed'
        ? 'bogus'
        : v === 'unauthenticated'
          ? 'insecure'
          : 'unknown';
  let hasDs: boolean | null = null;
  try {
    const r = await resolver.query(zone, 'DS', { dnssecOk: true });
    // A bogus DS answer still proves the parent publishes one (the chain is broken below it).
    if (r.validation === 'failed') hasDs = true;
    else if (usable(r)) hasDs = r.answers.some((a) => a.type === 'DS');
    else failures.push({ name: zone, type: 'DS', server: formatEndpoint(r.server), error: r.rcode });
  } catch (err) {
    failures.push({ name: zone, type: 'DS', server: label, error: failureText(err, zone, 'DS') });
  }
  return { dnssec, hasDs };
}

/** `host:port`, `[v6]:port`: the same text as `dns.formatEndpoint`, for lookup-failed findings. */
function formatEndpoint(e: { host: string; port: number }): string {
  return isIPv6(e.host) ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** Collects everything the findings need for one domain. */
export async function collectAudit(domain: string, options: CollectOptions): Promise<AuditData> {
  const id = parseIdentifier(domain);
  if (!id.ok) throw new CertvigilError('DNS_BAD_NAME', `invalid domain: ${id.error}`);
  const name = id.lookupName;
  const resolver = options.resolver;
  const label = options.resolverLabel ?? 'the resolver';
  const failures: LookupFailure[] = [];
  const nothing = { nameservers: [], path: [], observations: [], dnssec: 'unknown' as const, hasDs: null };
  const cut = await findZoneCut(resolver, label, failures, name);
  // Stop here when the zone cut is unknown or the domain does not exist: every later question
  // depends on the zone, and an unreachable resolver must cost one lookup's time, not twenty.
  if (cut.failed || cut.zone === null || !cut.exists)
    return { domain: name, exists: cut.exists, failures, zone: cut.zone, ...nothing };
  const zone = cut.zone;
  const [nameservers, path] = await Promise.all([
    nameServers(resolver, label, failures, zone),
    Promise.all(searchPath(name).map((n) => pathEntry(resolver, n, zone))),
  ]);
  const mix = options.mixCase ?? randomCase;
  const inZone = path.filter((e) => e.inZone).map((e) => e.name);
  const observations: ServerObservation[] = [];
  await Promise.all(
    nameservers.flatMap((ns) =>
      ns.addresses.map(async (address) => {
        const client = options.directClient(address, options.nsPort ?? 53, options.timeoutMs ?? 2000);
        for (const n of inZone) {
          const mixedQname = mix(n);
          const [lower, mixed] = await Promise.all([askDirect(client, n), askDirect(client, mixedQname)]);
          observations.push({ nsName: ns.name, address, name: n, lower, mixedQname, mixed });
        }
      }),
    ),
  );
  observations.sort((a, b) => `${a.name} ${a.address}`.localeCompare(`${b.name} ${b.address}`));
  const { dnssec, hasDs } = await dnssecState(resolver, label, failures, zone, path[0]);
  return { domain: name, exists: true, failures, zone, nameservers, path, observations, dnssec, hasDs };
}
