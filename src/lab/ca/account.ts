/**
 * @module lab/ca/account
 * ACME account keys and the strings derived from them: the RFC 7638 JWK thumbprint, the RFC 8555
 * §8.1 key authorization, and challenge tokens.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** A fresh ECDSA P-256 account key (RFC 8555 §6.2: ES256 is the algorithm every server supports). */
export function generateAccountKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/**
 * RFC 7638 §3: SHA-256 over the JWK's required members only, in lexicographic order, without
 * whitespace; EC keys: crv, kty, x, y (§3.2); RSA keys: e, kty, n. base64url without padding.
 */
export function jwkThumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  const canonical =
    jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

/** RFC 8555 §8.3: a token of at least 128 bits of entropy, base64url (here 256 bits). */
export function challengeToken(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(Thumbprint(accountKey)). */
export function keyAuthorization(token: string, thumbprint: string): string {
  return `${token}.${thumbprint}`;
}

/** RFC 8555 §8.3: the token's alphabet is base64url; anything else is not a token of ours. */
export const TOKEN_RE = /^[A-Za-z0-9_-]{22,128}$/;
