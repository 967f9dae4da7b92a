/**
 * @module lab/services/tls-profiles
 * The two TLS stacks of the lab: the victim's (the real server) and the attacker's (the
 * TLS-terminating proxy in front of the XMPP ports). Both run on Node's OpenSSL here, so without
 * different settings their JARM fingerprints (salesforce/jarm: the ServerHello's cipher, version,
 * ALPN and extensions for ten odd ClientHellos) would be identical and `check mitm` could not see
 * the swap. In 2023 the interceptor was a different TLS stack from the real server's, so JARM
 * changed on the intercepted ports only; these two profiles make that true on one machine.
 *
 * - Victim: TLS 1.2 and 1.3, the server's cipher order (ECDHE-ECDSA-AES256-GCM first, then
 *   ChaCha20, then AES128), ALPN `http/1.1` and `xmpp-client` (XEP-0368 §3 names the latter for
 *   direct TLS). The same profile on every port of the victim, like one server software.
 * - Attacker: TLS 1.2 at most, the client's cipher order with AES128-GCM and CBC suites first,
 *   no ALPN at all. JARM's TLS 1.3 probes and its cipher-order probes therefore answer differently.
 *
 * Both lists carry ECDSA and RSA suites, so either key type of certificate works.
 */
import type { SecureContextOptions, TlsOptions } from 'node:tls';

/** A certificate to serve: leaf first, then its chain, in PEM; the leaf's private key in PEM. */
export interface ServiceCertificate {
  /** Leaf, then intermediates (what Node's `cert` option takes). `certPem` is an alias. */
  chainPem?: string;
  certPem?: string;
  keyPem: string;
}

/** The TLS settings of one side, as Node options (secure context + server-only options). */
export interface TlsProfile {
  name: 'victim' | 'attacker';
  context: Pick<
    SecureContextOptions,
    'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder' | 'ecdhCurve'
  >;
  /** ALPN protocols the server selects from, in its order; `undefined`: no ALPN extension sent. */
  alpn: string[] | undefined;
}

export const VICTIM_TLS: TlsProfile = {
  name: 'victim',
  context: {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    // TLS 1.3 suites are named in the same list (Node passes them to SSL_CTX_set_ciphersuites).
    ciphers: [
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
      'TLS_AES_128_GCM_SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
    ].join(':'),
    honorCipherOrder: true,
    ecdhCurve: 'X25519:P-256:P-384',
  },
  alpn: ['http/1.1', 'xmpp-client'],
};

export const ATTACKER_TLS: TlsProfile = {
  name: 'attacker',
  context: {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    ciphers: [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES128-SHA256',
      'ECDHE-RSA-AES128-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-AES128-SHA',
      'ECDHE-RSA-AES128-SHA',
    ].join(':'),
    honorCipherOrder: false,
    ecdhCurve: 'P-256:P-384',
  },
  alpn: undefined,
};

/** The PEM chain of `cert`, whichever name it came under. */
export function chainOf(cert: ServiceCertificate): string {
  const chain = cert.chainPem ?? cert.certPem;
  if (chain === undefined || chain.trim() === '') throw new TypeError('certificate without chainPem/certPem');
  return chain;
}

/** Node server options for `profile` serving `cert` (tls.createServer, https.createServer). */
export function serverOptions(
  profile: TlsProfile,
  cert: ServiceCertificate,
  handshakeTimeoutMs: number,
): TlsOptions {
  return {
    ...profile.context,
    cert: chainOf(cert),
    key: cert.keyPem,
    ...(profile.alpn === undefined ? {} : { ALPNProtocols: profile.alpn }),
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/** Secure-context options only (what `server.setSecureContext` takes for a renewal). */
export function contextOptions(profile: TlsProfile, cert: ServiceCertificate): SecureContextOptions {
  return { ...profile.context, cert: chainOf(cert), key: cert.keyPem };
}
