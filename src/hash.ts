/**
 * @module hash
 * The one hex SHA-256 helper (certificate fingerprints, cache keys, SCT lookups). A shared leaf
 * like `sanitize.ts`: it imports only `node:crypto`, so every module may use it.
 */
import crypto from 'node:crypto';

// crypto.hash (one-shot, Node ≥ 20.12) avoids a Hash object per digest, which counts on the CT
// hot path (one digest per log entry); createHash on older Node 20 releases.
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'hex') => string }).hash;

/** Lower-case hex SHA-256 (FIPS 180-4) of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return oneShot !== undefined
    ? oneShot('sha256', data, 'hex')
    : crypto.createHash('sha256').update(data).digest('hex');
}
