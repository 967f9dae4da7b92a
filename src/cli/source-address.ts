/**
 * @module cli/source-address
 * `monitor --source-address ADDR` / `ctSourceAddress:`: the address the CT log connections leave
 * from. Public logs rate-limit per client IP, so several workers on a multi-homed host each take one
 * of its addresses. Checked before anything is created: a literal IP (never a name: resolving it
 * could pick another address than the operator meant), and one this host can bind (an address it
 * does not have would fail every request later as a network error, with exit 2 at the end of a run
 * instead of a usage error at its start).
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';

/**
 * Returns `address` if it is a literal IPv4/IPv6 address of this host; else a USAGE error naming
 * `what` (the flag or config key). Binding a UDP socket to port 0 asks the kernel whether the
 * address is ours without sending anything.
 */
export async function checkSourceAddress(address: string, what: string): Promise<string> {
  const shown = `"${sanitizeText(address, { maxLength: 80 })}"`;
  const family = isIP(address);
  if (family === 0) throw new CertvigilError('USAGE', `${what} ${shown}: not a literal IPv4 or IPv6 address`);
  const socket = createSocket(family === 4 ? 'udp4' : 'udp6');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0, exclusive: true }, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CertvigilError('USAGE', `${what} ${shown}: not an address of this host (${code})`, {
      cause: err,
    });
  } finally {
    try {
      socket.close();
    } catch {
      // already closed by the failed bind
    }
  }
  return address;
}
