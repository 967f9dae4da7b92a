/**
 * Sample events for the notify tests. The certificate is a self-signed P-256 certificate made for
 * these tests (not from a log), so the PEM attachment and hook files hold something real:
 *
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
 *     -subj /CN=www.example.com -addext subjectAltName=DNS:www.example.com,DNS:example.com \
 *     -set_serial 0x03e8
 */
import type { MonitorEvent } from './types.js';

export const CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBoTCCAUagAwIBAgICA+gwCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPd3d3LmV4
YW1wbGUuY29tMB4XDTI2MTEyNDA0MDQxMloXDTI3MDIyMjA0MDQxMlowGjEYMBYG
A1UEAwwPd3d3LmV4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
8P+bCz/GrkatxRUPGXqz1GQZOfNKFSaDQjnx9lJG3HpxYK6F7nXGdQRTRs4xLhED
9a7XBtR9asHZ8YAa87wtM6N8MHowHQYDVR0OBBYEFOeLaRZiaxR8qRWd+e4RzWxj
RKm0MB8GA1UdIwQYMBaAFOeLaRZiaxR8qRWd+e4RzWxjRKm0MA8GA1UdEwEB/wQF
MAMBAf8wJwYDVR0RBCAwHoIPd3d3LmV4YW1wbGUuY29tggtleGFtcGxlLmNvbTAK
BggqhkjOPQQDAgNJADBGAiEAzAuZeMFB6/kA7Ea2woTOSXSwG/jsJYqta3uhRPmK
lAwCIQCKABN1navdQ8AulE21YE4geH8V1ud/XEXJT3ZitTnQVw==
-----END CERTIFICATE-----
`;

/** `openssl x509 -outform der | sha256sum` of CERT_PEM. */
export const CERT_SHA256 = '8890fa6456571c4f70e6df57cfac51f37b877bbbe04c7665187b0564a0040276';

export const CERT_DER_BASE64 = CERT_PEM.replace(/-----[A-Z ]+-----|\s/g, '');

export const TBS_SHA256 = 'a1'.repeat(32);
export const SPKI_SHA256 = 'b2'.repeat(32);
export const ISSUER = "CN=R11,O=Let's Encrypt,C=US";

/** An unknown certificate for two names, found as a precertificate and a certificate. */
export function issuanceEvent(): Extract<MonitorEvent, { type: 'issuance' }> {
  return {
    type: 'issuance',
    severity: 'critical',
    watchItems: ['.example.com', 'www.example.com'],
    known: false,
    reasons: [
      {
        code: 'not-in-inventory',
        severity: 'warning',
        message: 'no certificate in the inventory or authorisations matches it',
      },
      {
        code: 'new-key',
        severity: 'critical',
        message: 'a public key never seen before for these names (ecdsa-p256)',
      },
    ],
    issuance: {
      tbsSha256: TBS_SHA256,
      certSha256s: [CERT_SHA256],
      dnsNames: ['www.example.com', 'example.com'],
      ipAddresses: [],
      issuer: ISSUER,
      subject: 'CN=www.example.com',
      serial: '03e8',
      notBefore: '2026-11-24T04:04:12Z',
      notAfter: '2027-02-22T04:04:12Z',
      spkiSha256: SPKI_SHA256,
      keyType: 'ecdsa-p256',
      entries: [
        { log: 'https://ct.example/2026h2/', index: 6464843, type: 'precert', timestamp: 1795493052000 },
        { log: 'https://other.example/log/', index: 17, type: 'x509', timestamp: 1795493060000 },
      ],
      certificateDerBase64: CERT_DER_BASE64,
    },
  };
}

export function malformedEvent(): Extract<MonitorEvent, { type: 'malformed' }> {
  return {
    type: 'malformed',
    severity: 'warning',
    log: 'https://ct.example/2026h2/',
    index: 42,
    error: 'x509: truncated TBSCertificate',
    leafHash: 'q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=',
    entry: { leafInput: 'AAAB', extraData: 'AAAC' },
  };
}

export const otherEvents: MonitorEvent[] = [
  {
    type: 'log-misbehaviour',
    severity: 'critical',
    log: 'https://ct.example/2026h2/',
    message: 'two signed tree heads of size 100 with different roots',
    evidence: {
      sths: [
        { tree_size: 100, sha256_root_hash: 'AAAA' },
        { tree_size: 100, sha256_root_hash: 'BBBB' },
      ],
    },
  },
  {
    type: 'log-health',
    severity: 'warning',
    log: 'https://ct.example/2026h2/',
    message: 'unreachable for 6 h',
  },
  { type: 'test', severity: 'info', message: 'hello from certvigil alerts test' },
];
