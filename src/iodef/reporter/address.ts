/**
 * @module iodef/reporter/address
 * Which IP addresses an `iodef` https: report may be sent to (SSRF protection: RFC 8659 §4.4
 * leaves the iodef URL entirely in the hands of whoever controls the zone). A CA runs inside a
 * network with metadata services (169.254.169.254), admin panels on RFC 1918 addresses, NAT64
 * gateways and loopback daemons; an attacker who publishes `iodef "https://10.0.0.1/…"` and then
 * makes the CA refuse a request would otherwise get a POST into that network.
 *
 * An ALLOW-list, so that a range we did not think of is refused rather than reached:
 * - IPv6: only global unicast, 2000::/3 (RFC 4291 §2.4), minus every block of the IANA IPv6
 *   Special-Purpose Address Registry that is not globally reachable or that tunnels to IPv4:
 *   2001::/23 (IETF protocol assignments, RFC 2928; holds Teredo 2001::/32, RFC 4380, and
 *   benchmarking 2001:2::/48), 2001:db8::/32 and 3fff::/20 (documentation, RFC 3849, RFC 9637),
 *   2002::/16 (6to4, RFC 3056: a relay would carry the packet to the embedded IPv4 address,
 *   deprecated by RFC 7526). Outside 2000::/3 (e.g. 5f00::/16 SRv6 SIDs, RFC 9602) only the
 *   well-known NAT64 prefix 64:ff9b::/96 (RFC 6052 §2.1) is allowed, and only when the IPv4 address
 *   it embeds is itself allowed; the local-use 64:ff9b:1::/48 (RFC 8215) is refused. IPv4-mapped
 *   (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96, RFC 2765 SIIT) and IPv4-compatible (::/96)
 *   forms are outside 2000::/3 and refused: they are not addresses on the wire (RFC 4291 §2.5.5).
 * - IPv4: everything except the non-global blocks of the IANA IPv4 Special-Purpose Address
 *   Registry (RFC 6890): 0/8, 10/8, 100.64/10 (RFC 6598), 127/8, 169.254/16, 172.16/12,
 *   192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15 (RFC 2544), 198.51.100/24,
 *   203.0.113/24, 224/4 (multicast), 240/4 (reserved) with 255.255.255.255 (broadcast).
 *
 * Pure: no DNS, no sockets.
 */
import net from 'node:net';

/** IPv4 blocks that are not globally reachable; the first match names the kind. */
const V4_BLOCKS: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'ietf-protocol'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4-relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
];

/** Inside 2000::/3: the special-purpose blocks that are refused (more specific first). */
const V6_GLOBAL_EXCEPTIONS: readonly [string, number, string][] = [
  ['2001:db8::', 32, 'documentation'],
  ['2001::', 32, 'teredo'],
  ['2001::', 23, 'ietf-protocol'],
  ['2002::', 16, '6to4'],
  ['3fff::', 20, 'documentation'],
];

/** Outside 2000::/3: names for the refusal message (everything there is refused anyway). */
const V6_NAMED: readonly [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'ipv4-mapped'],
  ['::ffff:0:0:0', 96, 'ipv4-translated'],
  ['::', 96, 'ipv4-compatible'],
  ['64:ff9b:1::', 48, 'nat64-local'],
  ['100::', 64, 'discard'],
  ['5f00::', 16, 'srv6-sid'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function matcher(
  blocks: readonly [string, number, string][],
  type: 'ipv4' | 'ipv6',
): (a: string) => string | null {
  const lists = blocks.map(([prefix, bits, label]) => {
    const list = new net.BlockList();
    list.addSubnet(prefix, bits, type);
    return [list, label] as const;
  });
  return (a) => lists.find(([list]) => list.check(a, type))?.[1] ?? null;
}

const v4Kind = matcher(V4_BLOCKS, 'ipv4');
const v6Exception = matcher(V6_GLOBAL_EXCEPTIONS, 'ipv6');
const v6Named = matcher(V6_NAMED, 'ipv6');
const GLOBAL_UNICAST = new net.BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');
const NAT64_WKP = new net.BlockList();
NAT64_WKP.addSubnet('64:ff9b::', 96, 'ipv6');

/** Expands an IPv6 address into its eight 16-bit groups (the input must satisfy `net.isIPv6`). */
export function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '');
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function v4FromGroups(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** The IPv4 address an IPv6 address embeds (mapped, translated, compatible, NAT64, 6to4), or null. */
export function embeddedIpv4(address: string): string | null {
  if (!net.isIPv6(address)) return null;
  const g = ipv6Groups(address);
  const zero = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return v4FromGroups(g[6] ?? 0, g[7] ?? 0);
  // SIIT IPv4-translated (RFC 2765 §2.1): ::ffff:0:a.b.c.d.
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4FromGroups(g[6] ?? 0, g[7] ?? 0);
  // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1); :: and ::1 are judged as IPv6 themselves.
  if (zero(0, 6) && (g[6] ?? 0) !== 0) return v4FromGroups(g[6] ?? 0, g[7] ?? 0);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4FromGroups(g[6] ?? 0, g[7] ?? 0);
  if (g[0] === 0x2002) return v4FromGroups(g[1] ?? 0, g[2] ?? 0);
  return null;
}

/**
 * The kind of address `address` is when a report must not go there (`loopback`, `private`,
 * `link-local`, `cgnat`, `documentation`, `6to4`, `teredo`, `nat64-private`, `ipv4-mapped`,
 * `not-global-unicast`, …), or null for a globally reachable unicast address. Anything that is
 * not an IP address at all is `invalid`.
 */
export function nonPublicAddressKind(address: string): string | null {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (net.isIPv4(bare)) return v4Kind(bare);
  if (!net.isIPv6(bare)) return 'invalid';
  const plain = bare.replace(/%.*$/, '');
  if (NAT64_WKP.check(plain, 'ipv6')) {
    // RFC 6052 §3.1: the well-known prefix only ever carries global IPv4 addresses.
    const kind = v4Kind(embeddedIpv4(plain) ?? '0.0.0.0');
    return kind === null ? null : `nat64-${kind}`;
  }
  if (!GLOBAL_UNICAST.check(plain, 'ipv6')) {
    const named = v6Named(plain);
    if (named === 'ipv4-mapped' || named === 'ipv4-translated' || named === 'ipv4-compatible') {
      // Say what it points at: `::ffff:127.0.0.1` is loopback to an operator reading the log.
      const inner = v4Kind(embeddedIpv4(plain) ?? '0.0.0.0');
      return inner === null ? named : `${named}-${inner}`;
    }
    return named ?? 'not-global-unicast';
  }
  const exception = v6Exception(plain);
  if (exception === '6to4') {
    const inner = v4Kind(embeddedIpv4(plain) ?? '0.0.0.0');
    return inner === null ? '6to4' : `6to4-${inner}`;
  }
  return exception;
}

/** Loopback in either family (the only non-public addresses the tests ever connect to). */
export function isLoopbackAddress(address: string): boolean {
  const kind = nonPublicAddressKind(address);
  return kind === 'loopback' || kind === 'ipv4-mapped-loopback';
}
