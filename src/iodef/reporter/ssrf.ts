/**
 * @module iodef/reporter/ssrf
 * The SSRF guard of the https: channel. The iodef URL is whatever the zone publishes (RFC 8659
 * §4.4), so the host is resolved here and every address is checked (address.ts; IPv4, IPv6,
 * IPv4-mapped/embedded): if any one is non-public, the report is given up (unless
 * `allowPrivateAddresses`). The caller connects to the one checked address returned, so a DNS
 * answer that changes between check and connect (rebinding) is never consulted.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import { nonPublicAddressKind } from './address.js';
import { DeliveryError } from './delivery-error.js';
import type { ReporterPolicy } from './policy.js';

/** Resolves a host name to all its addresses (default: the system resolver, `dns.lookup`). */
export type HostResolver = (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;

const defaultResolve: HostResolver = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Resolves and checks the host; the one address to connect to, or a permanent refusal. */
export async function vetHost(
  host: string,
  policy: Pick<ReporterPolicy, 'allowPrivateAddresses'>,
  resolve: HostResolver = defaultResolve,
): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const literal = net.isIP(bare);
  let addresses: { address: string; family: 4 | 6 }[];
  if (literal !== 0) addresses = [{ address: bare, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(bare);
    } catch (cause) {
      throw new DeliveryError(`cannot resolve ${bare}: ${(cause as Error).message}`, false);
    }
  }
  if (addresses.length === 0) throw new DeliveryError(`${bare} has no addresses`, false);
  if (!policy.allowPrivateAddresses)
    for (const a of addresses) {
      const kind = nonPublicAddressKind(a.address);
      if (kind !== null)
        throw new DeliveryError(
          `refused: ${bare} resolves to ${a.address}, a ${kind} address (SSRF guard)`,
          true,
        );
    }
  return addresses[0] as { address: string; family: 4 | 6 };
}
