/**
 * @module cli/resolver-options
 * Builds the stub resolver from `--resolver`, `--timeout` and `--attempts`, falling back to
 * /etc/resolv.conf like every other DNS tool on the machine.
 */
import { loadResolvConf, parseEndpoint, StubResolver } from '../dns/index.js';
import { positiveInt } from './flags.js';

export interface ResolverFlags {
  resolver?: string[];
  timeout?: string;
  attempts?: string;
}

export async function resolverFromFlags(flags: ResolverFlags): Promise<StubResolver> {
  const timeoutMs = flags.timeout === undefined ? undefined : positiveInt(flags.timeout, '--timeout');
  const attempts = flags.attempts === undefined ? undefined : positiveInt(flags.attempts, '--attempts');
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
