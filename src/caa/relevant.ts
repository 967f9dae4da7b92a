/**
 * @module caa/relevant
 * Finding the Relevant RRset (RFC 8659 §3) through a recursive resolver. The only module in `caa`
 * that performs I/O, and only through the `CaaResolverPort` it is given.
 */
import { errorMessage } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { CaaRecord } from './property.js';
import type {
  CaaLookupTrace,
  CaaResolverPort,
  DnssecStatus,
  ErrorReason,
  PortRecord,
  PortResponse,
} from './types.js';

/** Alias chains longer than this are treated as a loop (resolvers use similar bounds). */
const MAX_ALIAS_HOPS = 16;

export type LookupOutcome =
  | { ok: true; trace: CaaLookupTrace; records: CaaRecord[]; ttl: number | null }
  | { ok: false; trace: CaaLookupTrace; reason: ErrorReason; message: string };

function dnssecOf(r: PortResponse): DnssecStatus {
  if (r.validation === 'failed') return 'bogus';
  return r.validation === 'authenticated' ? 'secure' : 'insecure';
}

/**
 * Follows CNAMEs (and DNAMEs, RFC 6672 §2.3: only for names *below* the DNAME owner) inside one
 * answer section, as the recursive resolver already chased them. Returns the final owner name,
 * or null on a loop.
 */
export function followAliases(
  qname: string,
  answers: readonly PortRecord[],
): { target: string; hops: PortRecord[] } | null {
  let current = qname;
  const hops: PortRecord[] = [];
  for (let i = 0; i <= MAX_ALIAS_HOPS; i++) {
    const cname = answers.find(
      (a) => a.type === 'CNAME' && a.name === current && a.data.target !== undefined,
    );
    if (cname) {
      hops.push(cname);
      current = cname.data.target as string;
      continue;
    }
    const dname = answers.find(
      (a) => a.type === 'DNAME' && a.data.target !== undefined && current.endsWith(`.${a.name}`),
    );
    if (dname) {
      hops.push(dname);
      current = `${current.slice(0, current.length - dname.name.length - 1)}.${dname.data.target as string}`;
      continue;
    }
    return { target: current, hops };
  }
  return null;
}

/** RFC 2308 §5: a negative answer lives for min(SOA TTL, SOA MINIMUM). */
function negativeTtl(r: PortResponse): number | null {
  const soa = r.authorities.find((a) => a.type === 'SOA');
  if (!soa) return null;
  return Math.min(soa.ttl, soa.data.minimum ?? soa.ttl);
}

/** Text from the network is shown to people: the one sanitiser keeps controls and bidi overrides out. */
function printable(text: string): string {
  return sanitizeText(text, { maxLength: 200 });
}

function emptyTrace(name: string): CaaLookupTrace {
  return {
    name,
    rcode: null,
    dnssec: 'unknown',
    caaRecords: 0,
    aliasTarget: null,
    extendedErrors: [],
    error: null,
    server: null,
    transport: null,
    elapsedMs: null,
  };
}

const ERROR_CODE_REASON: Record<string, ErrorReason> = {
  DNS_TIMEOUT: 'dns-timeout',
  DNS_MALFORMED_RESPONSE: 'dns-malformed-response',
  DNS_TRUNCATED: 'dns-truncated',
  DNS_BAD_NAME: 'invalid-name',
};

/** One CAA query at one name of the search path, classified. Never rejects. */
export async function lookupCaaAt(resolver: CaaResolverPort, name: string): Promise<LookupOutcome> {
  const trace = emptyTrace(name);
  let response: PortResponse;
  try {
    response = await resolver.query(name, 'CAA', { dnssecOk: true });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = errorMessage(err);
    trace.error = message;
    return {
      ok: false,
      trace,
      reason: (typeof code === 'string' && ERROR_CODE_REASON[code]) || 'dns-network',
      message,
    };
  }
  trace.rcode = response.rcode;
  trace.dnssec = dnssecOf(response);
  trace.extendedErrors = response.extendedErrors.map((e) => ({ ...e, text: printable(e.text) }));
  trace.server = response.server ? `${response.server.host}:${response.server.port}` : null;
  trace.transport = response.transport ?? null;
  trace.elapsedMs = response.elapsedMs ?? null;
  const ede = trace.extendedErrors
    .map((e) => ` (EDE ${e.code} ${e.name}${e.text ? `: ${e.text}` : ''})`)
    .join('');
  const from = trace.server ? ` from ${trace.server}` : '';

  // Fail closed (RFC 8659 §3, CA/B BR §3.2.2.8): anything but an answer or a proven absence is an error.
  if (response.validation === 'failed') {
    return {
      ok: false,
      trace,
      reason: 'dnssec-bogus',
      message: `DNSSEC validation failed for ${name}${ede}`,
    };
  }
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') {
    // A failed lookup proves nothing about signatures either way.
    trace.dnssec = 'unknown';
    const reason: ErrorReason =
      response.rcode === 'SERVFAIL'
        ? 'dns-servfail'
        : response.rcode === 'REFUSED'
          ? 'dns-refused'
          : 'dns-rcode';
    return { ok: false, trace, reason, message: `${response.rcode}${from} for ${name}${ede}` };
  }

  const chain = followAliases(name, response.answers);
  if (chain === null) {
    return {
      ok: false,
      trace,
      reason: 'cname-loop',
      message: `alias chain from ${name} loops or exceeds ${MAX_ALIAS_HOPS} hops`,
    };
  }
  trace.aliasTarget = chain.hops.length > 0 ? chain.target : null;
  const caa = response.answers.filter((a) => a.type === 'CAA' && a.name === chain.target);
  trace.caaRecords = caa.length;
  const records: CaaRecord[] = caa.map((a) => ({
    flags: a.data.flags ?? 0,
    tag: a.data.tag ?? '',
    value: a.data.value ?? '',
  }));
  const ttls = [...caa, ...chain.hops].map((a) => a.ttl);
  const ttl =
    caa.length > 0 ? Math.min(...ttls) : minOrNull([negativeTtl(response), ...chain.hops.map((h) => h.ttl)]);
  return { ok: true, trace, records, ttl };
}

function minOrNull(values: (number | null)[]): number | null {
  const nums = values.filter((v): v is number => v !== null);
  return nums.length > 0 ? Math.min(...nums) : null;
}

export type RelevantRrset =
  | {
      ok: true;
      records: CaaRecord[];
      foundAt: string | null;
      aliasTarget: string | null;
      dnssec: DnssecStatus;
      ttl: number | null;
      lookups: CaaLookupTrace[];
    }
  | {
      ok: false;
      reason: ErrorReason;
      message: string;
      failedAt: string;
      dnssec: DnssecStatus;
      lookups: CaaLookupTrace[];
    };

/** Weakest status wins: one unsigned step lets an attacker forge what lies beyond it. */
function combine(statuses: DnssecStatus[]): DnssecStatus {
  if (statuses.includes('bogus')) return 'bogus';
  if (statuses.includes('unknown')) return 'unknown';
  if (statuses.includes('insecure')) return 'insecure';
  return statuses.length > 0 ? 'secure' : 'unknown';
}

/**
 * RFC 8659 §3: CAA(X) for X = the name, then each parent, stopping at the first non-empty RRset.
 * CNAMEs of X are followed by the resolver; the parents of an alias target are NOT searched — the
 * climb continues at P(X), the parent of the *original* name.
 *
 * All levels are queried at once and read in order (as boulder's `parallelCAALookup`/`selectCAA`
 * do): a lookup error met before any non-empty RRset fails the whole search, while an error above
 * the level where the RRset was found does not matter.
 */
export async function findRelevantRrset(
  resolver: CaaResolverPort,
  path: readonly string[],
): Promise<RelevantRrset> {
  const outcomes = await Promise.all(path.map((name) => lookupCaaAt(resolver, name)));
  const consulted: LookupOutcome[] = [];
  for (const outcome of outcomes) {
    consulted.push(outcome);
    const lookups = consulted.map((o) => o.trace);
    const dnssec = combine(lookups.map((t) => t.dnssec));
    if (!outcome.ok) {
      return {
        ok: false,
        reason: outcome.reason,
        message: outcome.message,
        failedAt: outcome.trace.name,
        dnssec,
        lookups,
      };
    }
    if (outcome.records.length > 0) {
      return {
        ok: true,
        records: outcome.records,
        foundAt: outcome.trace.name,
        aliasTarget: outcome.trace.aliasTarget,
        dnssec,
        ttl: outcome.ttl,
        lookups,
      };
    }
  }
  const lookups = consulted.map((o) => o.trace);
  const ttl = minOrNull(consulted.map((o) => (o.ok ? o.ttl : null)));
  return {
    ok: true,
    records: [],
    foundAt: null,
    aliasTarget: null,
    dnssec: combine(lookups.map((t) => t.dnssec)),
    ttl,
    lookups,
  };
}
