/**
 * @module iodef/reporter/address
 * Which IP addresses an `iodef` https: report must never be sent to (SSRF protection: RFC 8659 §4.4
 * leaves the iodef URL entirely in the hands of whoever controls the zone). A CA runs inside a
 * network with metadata services (169.254.169.254), admin panels on RFC 1918 addresses and
 * loopback daemons; an attacker who publishes `iodef "https://10.0.0.1/…"` and then makes the CA
 * refuse a request would otherwise get a POST into that network.
 *
 * Refused: every IANA special-purpose block that is not globally reachable (RFC 6890 and its
 * registries): unspecified, "this network", loopback, RFC 1918, CGNAT shared space (RFC 6598),
 * link-local, IETF protocol assignments, documentation ranges, benchmarking (RFC 2544), multicast,
 * reserved/broadcast; for IPv6 also ULA (RFC 4193), site-local (deprecated), discard-only
 * (RFC 6666), and any address embedding an IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-compatible
 * ::/96, NAT64 64:ff9b::/96 of RFC 6052, 6to4 2002::/16 of RFC 3056) is judged by the embedded
 * IPv4 address, so `[::ffff:127.0.0.1]` is loopback. Pure: no DNS, no sockets.
 */
import net from 'node:net';

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
  ['240.0.0.0', 4, 'reserved'],
];

const V6_BLOCKS: readonly [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

function blockList(
  blocks: readonly [string, number, string][],
  type: 'ipv4' | 'ipv6',
): Map<string, net.BlockList> {
  const byLabel = new Map<string, net.BlockList>();
  for (const [prefix, bits, label] of blocks) {
    const list = byLabel.get(label) ?? new net.BlockList();
    list.addSubnet(prefix, bits, type);
    byLabel.set(label, list);
  }
  return byLabel;
}

const V4 = blockList(V4_BLOCKS, 'ipv4');
const V6 = blockList(V6_BLOCKS, 'ipv6');

/** Expands an IPv6 address into its eight 16-bit groups (the input must satisfy `net.isIPv6`). */
function ipv6Groups(address: string): number[] {
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

/** The IPv4 address an IPv6 address embeds (mapped, compatible, NAT64, 6to4), or null. */
export function embeddedIpv4(address: string): string | null {
  if (!net.isIPv6(address)) return null;
  const g = ipv6Groups(address);
  const zero = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return v4FromGroups(g[6] ?? 0, g[7] ?? 0);
  // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1); :: and ::1 are judged as IPv6 themselves.
  if (zero(0, 6) && (g[6] ?? 0) !== 0) return v4FromGroups(g[6] ?? 0, g[7] ?? 0);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4FromGroups(g[6] ?? 0, g[7] ?? 0);
  if (g[0] === 0x2002) return v4FromGroups(g[1] ?? 0, g[2] ?? 0);
  return null;
}

/**
 * The kind of non-public address `address` is (`loopback`, `private`, `link-local`, `cgnat`,
 * `unique-local`, `multicast`, `unspecified`, …), or null for a publicly routable one. Anything
 * that is not an IP address at all is `invalid`.
 */
export function nonPublicAddressKind(address: string): string | null {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (net.isIPv4(bare)) {
    for (const [label, list] of V4) if (list.check(bare, 'ipv4')) return label;
    return null;
  }
  if (net.isIPv6(bare)) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== null) {
      const kind = nonPublicAddressKind(v4);
      return kind === null ? null : `ipv4-embedded-${kind}`;
    }
    const plain = bare.replace(/%.*$/, '');
    for (const [label, list] of V6) if (list.check(plain, 'ipv6')) return label;
    return null;
  }
  return 'invalid';
}

/** Loopback in either family (the only non-public addresses the tests ever connect to). */
export function isLoopbackAddress(address: string): boolean {
  const kind = nonPublicAddressKind(address);
  return kind === 'loopback' || kind === 'ipv4-embedded-loopback';
}
