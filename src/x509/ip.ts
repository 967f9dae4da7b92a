/**
 * @module x509/ip
 * Text form of a SAN iPAddress (RFC 5280 §4.2.1.6: 4 octets for IPv4, 16 for IPv6, network order).
 * IPv6 follows RFC 5952 §4 (lower case, no leading zeros, the longest run of two or more zero
 * groups as "::", the first such run on a tie) and §5 (IPv4-mapped addresses end in dotted quad).
 */

/** Formats `buf[start, end)` as an IP address, or returns null for a length other than 4 or 16. */
export function formatIp(buf: Uint8Array, start: number, end: number): string | null {
  const len = end - start;
  if (len === 4) return `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}`;
  if (len !== 16) return null;
  const groups: number[] = [];
  for (let i = start; i < end; i += 2) groups.push(((buf[i] as number) << 8) | (buf[i + 1] as number));
  // RFC 5952 §5: ::ffff:0:0/96 (IPv4-mapped) is written with the IPv4 part as a dotted quad.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${buf[start + 12]}.${buf[start + 13]}.${buf[start + 14]}.${buf[start + 15]}`;
  }
  // RFC 5952 §4.2.1–4.2.3: find the longest run (length >= 2) of zero groups, first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return text(0, 8);
  return `${text(0, bestStart)}::${text(bestStart + bestLen, 8)}`;
}
