/**
 * @module dns/resolver
 * A stub resolver that talks to one or more recursive resolvers (or, with recursion off, straight
 * to authoritative servers). Per query: UDP with EDNS0, a retry over TCP when the answer is
 * truncated (RFC 7766 §5), a per-attempt timeout, and bounded rounds over the server list.
 */
import { randomInt } from 'node:crypto';
import { CertvigilError, isCertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { decodeResponse, encodeQuery } from './message.js';
import { exchangeTcp, exchangeUdp, formatEndpoint } from './transport.js';
import type { DnsEndpoint, DnsResponse, QueryOptions } from './types.js';
import { UdpPool } from './udp-pool.js';
import type { UdpPoolOptions } from './udp-pool.js';

/** The port every DNS consumer in certvigil depends on; `caa` declares the same shape structurally. */
export interface DnsClient {
  query(name: string, type: string, options?: QueryOptions): Promise<DnsResponse>;
}

export interface ResolverOptions {
  servers: readonly DnsEndpoint[];
  /** Per attempt, per server, per transport. Default 3,000 ms. */
  timeoutMs?: number;
  /** Rounds over the whole server list. Default 2. */
  attempts?: number;
  /**
   * UDP sockets shared by concurrent and successive queries (see `udp-pool.ts` for why that is
   * safe), or `false` for a fresh socket per query. Default: shared, with the pool's defaults.
   */
  udpSockets?: UdpPoolOptions | false;
}

const MAX_NAME_LENGTH = 253;

/** RFC 1035 §2.3.4: labels of at most 63 octets, names of at most 255 octets on the wire. */
function assertQueryableName(name: string): void {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length > MAX_NAME_LENGTH) {
    throw new CertvigilError(
      'DNS_BAD_NAME',
      `domain name too long (${bare.length} > ${MAX_NAME_LENGTH}): ${sanitizeText(bare, { maxLength: 80 })}`,
    );
  }
  if (bare === '') return;
  for (const label of bare.split('.')) {
    if (label.length === 0 || label.length > 63) {
      throw new CertvigilError(
        'DNS_BAD_NAME',
        `invalid label length in domain name: "${sanitizeText(name, { maxLength: 80 })}"`,
      );
    }
  }
}

export class StubResolver implements DnsClient {
  readonly servers: readonly DnsEndpoint[];
  readonly timeoutMs: number;
  readonly attempts: number;
  private readonly udp: UdpPool | null;

  constructor(options: ResolverOptions) {
    if (options.servers.length === 0) throw new CertvigilError('DNS_NO_SERVERS', 'no DNS servers configured');
    this.servers = options.servers;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.attempts = Math.max(1, options.attempts ?? 2);
    this.udp = options.udpSockets === false ? null : new UdpPool(options.udpSockets);
  }

  /**
   * Closes the shared UDP sockets now; queries in flight fail with `DNS_NETWORK`. Optional: idle
   * sockets close by themselves and never keep the process alive. A later query opens new ones.
   */
  close(): void {
    this.udp?.close();
  }

  /**
   * Returns the first well-formed response from any server, whatever its RCODE.
   * Only transport failures (timeouts, network errors, undecodable bytes) move on to the next
   * server. A SERVFAIL is an answer, not a reason to shop for a better one: asking another resolver
   * until one says NOERROR would defeat the fail-closed rule (a non-validating resolver would
   * happily return what a validating one refused as bogus).
   */
  async query(name: string, type: string, options: QueryOptions = {}): Promise<DnsResponse> {
    assertQueryableName(name);
    const failures: CertvigilError[] = [];
    for (let round = 0; round < this.attempts; round++) {
      for (const server of this.servers) {
        if (options.signal?.aborted) throw new CertvigilError('DNS_TIMEOUT', 'query aborted');
        try {
          return await this.queryServer(server, name, type, options);
        } catch (err) {
          if (!isCertvigilError(err)) throw err;
          failures.push(err);
        }
      }
    }
    const last = failures[failures.length - 1];
    const allTimeouts = failures.every((f) => f.code === 'DNS_TIMEOUT');
    const summary = [...new Set(failures.map((f) => f.message))].join('; ');
    throw new CertvigilError(
      allTimeouts ? 'DNS_TIMEOUT' : (last?.code ?? 'DNS_NETWORK'),
      `${name}/${type}: ${failures.length} attempt(s) failed: ${summary}`,
      { cause: last },
    );
  }

  /** One server: UDP first, then TCP if (and only if) the UDP answer was truncated. */
  private async queryServer(
    server: DnsEndpoint,
    name: string,
    type: string,
    options: QueryOptions,
  ): Promise<DnsResponse> {
    const id = randomInt(0, 0x10000);
    let wire: Buffer;
    try {
      wire = encodeQuery({
        id,
        name,
        type,
        recursionDesired: options.recursionDesired ?? true,
        dnssecOk: options.dnssecOk ?? true,
        checkingDisabled: options.checkingDisabled ?? false,
      });
    } catch (cause) {
      throw new CertvigilError(
        'DNS_BAD_NAME',
        `cannot encode a query for "${sanitizeText(name, { maxLength: 80 })}"`,
        {
          cause,
        },
      );
    }
    const started = performance.now();
    const accept = (transport: 'udp' | 'tcp') => (reply: Buffer) =>
      decodeResponse(reply, {
        expectedId: id,
        expectedName: name,
        expectedType: type,
        server,
        transport,
        elapsedMs: Math.round(performance.now() - started),
      });
    const udp = this.udp
      ? await this.udp.exchange(server, wire, this.timeoutMs, accept('udp'), options.signal)
      : await exchangeUdp(server, wire, this.timeoutMs, accept('udp'), options.signal);
    if (!udp.flags.truncated) return udp;
    // RFC 7766 §5: a truncated UDP answer must be retried over TCP; never use the partial one
    // (a truncated CAA RRset could hide the very record that forbids issuance).
    const tcp = await exchangeTcp(server, wire, this.timeoutMs, accept('tcp'), options.signal);
    if (tcp.flags.truncated) {
      throw new CertvigilError(
        'DNS_TRUNCATED',
        `${formatEndpoint(server)} set TC on a TCP answer for ${name}/${type}`,
      );
    }
    return tcp;
  }
}
