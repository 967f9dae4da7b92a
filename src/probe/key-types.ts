/**
 * @module probe/key-types
 * Dual-certificate servers (an RSA and an ECDSA certificate, as nginx/Apache/HAProxy allow): which
 * certificate a server presents depends on what the client offers, so `--key-types rsa,ecdsa`
 * makes one handshake per key type with an offer only that certificate can satisfy.
 *
 * - TLS 1.3 (RFC 8446 §4.2.3, §4.4.2.2): the server's certificate must match a scheme of the
 *   client's `signature_algorithms`, so offering only ECDSA schemes forces the ECDSA certificate.
 * - TLS 1.2 (RFC 5246 §7.4.2, RFC 8422 §5.1): the cipher suite names the authentication
 *   (ECDHE_ECDSA vs ECDHE_RSA; Ed25519 signs under ECDHE_ECDSA suites) and the certificate must
 *   also fit `signature_algorithms` (RFC 5246 §7.4.1.4.1), so both are restricted.
 *
 * Pure: the offers and the matching rule; `handshake.ts` and `endpoint.ts` use them.
 */
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';

export type ServerKeyType = 'rsa' | 'ecdsa' | 'ed25519';

export const SERVER_KEY_TYPES: readonly ServerKeyType[] = ['rsa', 'ecdsa', 'ed25519'];

export interface KeyTypeOffer {
  /** OpenSSL signature scheme names for Node's `sigalgs`. */
  sigalgs: string;
  /** OpenSSL cipher string for TLS ≤ 1.2 (Node keeps its TLS 1.3 suites). */
  ciphers: string;
  /** TLS 1.2 suites for the raw hello of `tls-hello.ts` (IANA values). */
  helloSuites: number[];
}

const ECDSA_SUITES = [0xc02b, 0xc02c, 0xcca9, 0xc009, 0xc00a];
const RSA_SUITES = [0xc02f, 0xc030, 0xcca8, 0x009e, 0x009f, 0x009c, 0x009d, 0xc013, 0xc014, 0x002f, 0x0035];

const OFFERS: Record<ServerKeyType, KeyTypeOffer> = {
  rsa: {
    sigalgs: [
      'rsa_pss_rsae_sha256',
      'rsa_pss_rsae_sha384',
      'rsa_pss_rsae_sha512',
      'rsa_pss_pss_sha256',
      'rsa_pss_pss_sha384',
      'rsa_pss_pss_sha512',
      'rsa_pkcs1_sha256',
      'rsa_pkcs1_sha384',
      'rsa_pkcs1_sha512',
    ].join(':'),
    ciphers: 'aRSA:!aNULL:!eNULL',
    helloSuites: RSA_SUITES,
  },
  ecdsa: {
    sigalgs: 'ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:ecdsa_secp521r1_sha512',
    ciphers: 'aECDSA:!aNULL:!eNULL',
    helloSuites: ECDSA_SUITES,
  },
  ed25519: { sigalgs: 'ed25519', ciphers: 'aECDSA:!aNULL:!eNULL', helloSuites: ECDSA_SUITES },
};

export function keyTypeOffer(keyType: ServerKeyType): KeyTypeOffer {
  return OFFERS[keyType];
}

/**
 * `--key-types rsa,ecdsa`: a comma-separated list (also repeatable), each once. A typo is a usage
 * error rather than a key type silently never checked.
 */
export function parseKeyTypes(values: readonly string[], flag = '--key-types'): ServerKeyType[] {
  const out: ServerKeyType[] = [];
  for (const value of values)
    for (const raw of value.split(',')) {
      const k = raw.trim().toLowerCase();
      if (!SERVER_KEY_TYPES.includes(k as ServerKeyType))
        throw new CertvigilError(
          'USAGE',
          `${flag} takes ${SERVER_KEY_TYPES.join(', ')} (got "${sanitizeText(raw, { maxLength: 40 })}")`,
        );
      if (!out.includes(k as ServerKeyType)) out.push(k as ServerKeyType);
    }
  if (out.length === 0) throw new CertvigilError('USAGE', `${flag} is empty`);
  return out;
}

/** Whether a certificate key (`CertSummary.keyType`: `rsa-2048`, `ecdsa-p256`, …) is of `want`. */
export function keyTypeMatches(want: ServerKeyType, keyType: string): boolean {
  if (want === 'rsa') return /^rsa(?:-pss)?-\d+$/.test(keyType);
  if (want === 'ecdsa') return keyType.startsWith('ecdsa-');
  return keyType === 'ed25519';
}

/** How an address is named in findings when checked per key type: `127.0.0.1 [ecdsa]`. */
export function keyTypeAddress(address: string, keyType: ServerKeyType | undefined): string {
  return keyType ? `${address} [${keyType}]` : address;
}
