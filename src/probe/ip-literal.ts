/**
 * @module probe/ip-literal
 * Node's `isIP`, without running its IPv6 pattern where no IPv6 address can be. `isIP` tests IPv4
 * first, then a large IPv6 regular expression whose first use costs ~4 ms of CPU per process
 * (compiling it; measured with process.cpuUsage, Node 20.20), paid by every `check endpoint` or
 * `jarm` run that tests a name or a HOST:PORT although neither can be IPv6.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * 4 or 6 when `text` is an IPv4 or IPv6 address, else 0: the same answers as Node's `isIP`. Every
 * text form of an IPv6 address has at least two colons (RFC 4291 §2.2: eight groups, or `::` for
 * the zeros; RFC 4007 §11 zone indexes only add text after them), so text with fewer is not one.
 */
export function ipVersion(text: string): 0 | 4 | 6 {
  const colon = text.indexOf(':');
  if (colon < 0) return isIPv4(text) ? 4 : 0;
  return text.indexOf(':', colon + 1) > 0 && isIPv6(text) ? 6 : 0;
}
