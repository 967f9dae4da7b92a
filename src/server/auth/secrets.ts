/**
 * @module server/auth/secrets
 * The secrets of access control and how they are kept: an API token or a session ID is 32 random
 * bytes (256 bits: guessing is hopeless, so a plain SHA-256 at rest is enough — unlike a password,
 * it needs no slow hash); a password is kept as scrypt (RFC 7914) with a per-user salt.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../../hash.js';

/** Prefix of every certvigil API token: recognisable in a leaked config or a secret scanner. */
export const TOKEN_PREFIX = 'cvt_';

/** A new random secret (base64url, 43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A new API token: the secret shown once, and what is stored. */
export function newToken(): { token: string; id: string; tokenSha256: string } {
  const token = `${TOKEN_PREFIX}${newSecret()}`;
  return { token, id: randomBytes(8).toString('hex'), tokenSha256: secretHash(token) };
}

/** SHA-256 (hex) of a token or session ID, the form stored and looked up. */
export function secretHash(secret: string): string {
  return sha256Hex(Buffer.from(secret, 'utf8'));
}

// scrypt cost: N = 2^15, r = 8, p = 1 (RFC 7914 §2; OWASP's minimum for scrypt), 32 MiB of memory
// and about 50–100 ms per check on this machine kind: slow for a guesser, fine for a login.
const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAX_MEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N: n, r, p, maxmem: MAX_MEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$key` (salt and key base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `password` matches `stored`; false (never an exception) for a malformed `stored`. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  if (!n || !r || !p || n > 1 << 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length < 8 || expected.length !== KEY_LENGTH) return false;
  try {
    return timingSafeEqual(await derive(password, salt, n, r, p), expected);
  } catch {
    return false;
  }
}
