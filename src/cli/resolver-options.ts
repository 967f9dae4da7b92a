/**
 * @module cli/resolver-options
 * Builds the stub resolver from `--resolver`, `--timeout` and `--attempts`, falling back to
 * /etc/resolv.conf like every other DNS tool on the machine. Every flag is checked before any
 * query is sent: a bad value is a one-line usage error (exit 2).
 */
import { formatEndpoint, loadResolvConf, parseEndpoint, StubResolver } from '../dns/index.js';
import { parseDuration, positiveInt } from './flags.js';

export interface ResolverFlags {
  resolver?: string[];
  timeout?: string;
  attempts?: string;
}

/** Per-query timeout bounds: below 10 ms nothing answers; above a minute nobody waits. */
export const TIMEOUT_BOUNDS = { unit: 'ms', minMs: 10, maxMs: 60_000 } as const;
/** Rounds over the resolver list (resolv.conf(5) caps `attempts` at 5; allow a little more). */
export const MAX_ATTEMPTS = 10;

/** `--timeout` (bare number = milliseconds, or `2s`, `500ms`) and `--attempts`, validated. */
export function parseResolverLimits(flags: ResolverFlags): { timeoutMs?: number; attempts?: number } {
  return {
    ...(flags.timeout === undefined
      ? {}
      : { timeoutMs: parseDuration(flags.timeout, '--timeout', TIMEOUT_BOUNDS) }),
    ...(flags.attempts === undefined
      ? {}
      : { attempts: positiveInt(flags.attempts, '--attempts', MAX_ATTEMPTS) }),
  };
}

export async function resolverFromFlags(flags: ResolverFlags): Promise<StubResolver> {
  const { timeoutMs, attempts } = parseResolverLimits(flags);
  if (flags.resolver && flags.resolver.length > 0) {
    const servers = flags.resolver.flatMap((s) => s.split(',')).map((s) => parseEndpoint(s));
    return new StubResolver({ servers, timeoutMs, attempts });
  }
  const conf = await loadResolvConf();
  return new StubResolver({
    servers: conf.servers,
    timeoutMs: timeoutMs ?? conf.timeoutMs,
    attempts: attempts ?? conf.attempts,
  });
}

/** "127.0.0.1:53, [::1]:53": how a lookup-failed message names the resolver(s) asked. */
export function describeResolver(resolver: StubResolver): string {
  return resolver.servers.map(formatEndpoint).join(', ');
}

/**
 * Host-name resolution for connections a command makes (the iodef reporter's https: targets)
 * through the same `--resolver` as its DNS lookups: a CA resolves everything through its own
 * resolver, and a split-horizon or lab zone (`certvigil lab`) is visible only there. A and AAAA
 * are asked; a failed lookup or no address is an error, never an empty list.
 */
export function hostResolverVia(
  resolver: StubResolver,
): (host: string) => Promise<{ address: string; family: 4 | 6 }[]> {
  return async (host) => {
    const out: { address: string; family: 4 | 6 }[] = [];
    const failures: string[] = [];
    for (const type of ['A', 'AAAA'] as const) {
      const response = await resolver.query(host, type);
      if (response.rcode !== 'NOERROR') {
        failures.push(`${type} ${response.rcode}`);
        continue;
      }
      for (const r of response.answers)
        if (r.data.type === type) out.push({ address: r.data.address, family: type === 'A' ? 4 : 6 });
    }
    if (out.length === 0)
      throw new Error(failures.length > 0 ? `lookup failed (${failures.join(', ')})` : 'no A or AAAA record');
    return out;
  };
}
