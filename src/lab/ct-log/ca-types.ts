/**
 * @module
 * The types of {@link LabIssuer} (ca.ts): key types, what to issue, what was issued.
 */
import type { KeyObject } from 'node:crypto';

export type KeyType = 'ec-p256' | 'rsa-2048';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export interface IssueOptions {
  /** SAN dNSName entries, written byte for byte (latin1), so odd bytes can be injected on purpose. */
  dnsNames: string[];
  /** Subject CN; default the first DNS name; `null` leaves the subject empty. */
  commonName?: string | null;
  notBefore?: Date;
  notAfter?: Date;
  /** Used when `notAfter` is not given: notAfter = notBefore + validityDays (default 90). */
  validityDays?: number;
  /** Serial magnitude; default 16 random bytes with the top bit cleared (positive, 16 bytes). */
  serial?: Buffer;
  /** Fresh subject key of this type unless `subjectKey` is given; default 'ec-p256'. */
  keyType?: KeyType;
  /** Certify this public key instead of a fresh one, e.g. `ca.attackerKey.publicKey`. */
  subjectKey?: KeyObject;
  /** Sign with this key instead of the CA's: the certificate claims the CA as issuer but won't verify. */
  signingKey?: KeyObject;
}

export interface IssuedCertificate {
  der: Buffer;
  tbs: Buffer;
  serial: Buffer;
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  /** DER SubjectPublicKeyInfo of the certified key. */
  spki: Buffer;
  publicKey: KeyObject;
  /** Present when the CA generated the key. */
  privateKey?: KeyObject;
  /** Issuer chain for a log submission: [root]. */
  chain: Buffer[];
  /** Lowercase hex SHA-256 of `der`. */
  sha256: string;
  /** The certificate in PEM (RFC 7468), as an ACME client's `cert.pem`. */
  pem: string;
  /** The issuer chain in PEM (`chain.pem`). */
  chainPem: string;
  /** Certificate then chain (`fullchain.pem`): what a TLS server presents. */
  fullChainPem: string;
  /** PKCS#8 PEM of `privateKey` (`privkey.pem`), present when the CA generated the key. */
  privateKeyPem?: string;
}
