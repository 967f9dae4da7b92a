/**
 * The Certificate outer structure (tbs.ts): the signatureValue BIT STRING (issue 12: a non-zero
 * unused-bits count made valid certificates "malformed", hiding their names from the monitor).
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as crafted from './crafted.fixture.js';
import { buildCert, buildTbs, seq, tlv } from './der-builder.fixture.js';
import { pemVector } from './ct-vectors.fixture.js';
import {
  certificateParts,
  parsePemCertificates,
  subjectPublicKeyInfo,
  summarizeCertificate,
} from './index.js';
import { locateCertificate, readBitStringUnusedBits } from './tbs.js';

/**
 * `der` with its signatureValue's unused-bits octet set to `unused` and the last signature octet's
 * low bits set to `padding` (the signature bytes are otherwise kept, so the TBS is untouched).
 */
function withSignatureBits(der: Uint8Array, unused: number, padding = 0): Uint8Array {
  const out = Uint8Array.from(der);
  const layout = locateCertificate(out);
  out[layout.signatureStart - 1] = unused;
  const mask = unused >= 8 ? 0xff : (1 << unused) - 1;
  const last = layout.signatureEnd - 1;
  out[last] = ((out[last] as number) & ~mask) | (padding & mask);
  return out;
}

const ecP384 = parsePemCertificates(crafted.ecP384)[0] as Uint8Array;

describe('signatureValue BIT STRING (X.690 §8.6.2, §11.2)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7])(
    'an unused-bits count of %i with zero padding bits is read (OpenSSL reads it too)',
    (unused) => {
      const der = withSignatureBits(ecP384, unused);
      // OpenSSL (Node) reads it: the certificate is valid DER.
      expect(new X509Certificate(der).subject).toContain('Host-p384.Example.ORG');
      const s = summarizeCertificate(der);
      expect(s).toEqual(summarizeCertificate(ecP384));
      expect(s.dnsNames).toEqual(['host-p384.example.org']);
      expect(certificateParts(der).signatureUnusedBits).toBe(unused);
    },
  );

  it.each([
    ['a count above 7 (§8.6.2.2)', withSignatureBits(ecP384, 8), /above 7/],
    ['a count of 0xff', withSignatureBits(ecP384, 0xff), /above 7/],
    [
      'non-zero padding bits (DER §11.2.1; Go and rust-asn1 refuse too)',
      withSignatureBits(ecP384, 3, 0b100),
      /not zero/,
    ],
    ['one non-zero padding bit of 7', withSignatureBits(ecP384, 7, 1), /not zero/],
  ])('refuses %s', (_, der, message) => {
    expect(() => summarizeCertificate(der)).toThrow(expect.objectContaining({ code: 'X509_MALFORMED' }));
    expect(() => summarizeCertificate(der)).toThrow(message);
  });

  const spki = subjectPublicKeyInfo(pemVector('le-staging/r10.pem')[0] as Uint8Array);
  const tbs = buildTbs({ spki });
  const alg = seq(tlv(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]), [0x05, 0x00]);
  const withSignature = (bitString: number[]): Uint8Array => seq(tbs, alg, tlv(0x03, bitString));

  it('reads an empty signature (count 0, no octets: §8.6.2.3)', () => {
    const der = withSignature([0x00]);
    expect(certificateParts(der).signature).toHaveLength(0);
    expect(summarizeCertificate(der).serialHex).toBe(summarizeCertificate(buildCert(tbs)).serialHex);
  });

  it.each([
    ['no unused-bits octet at all (§8.6.2.1)', [], /without its unused-bits octet/],
    ['a non-zero count on an empty bit string (§8.6.2.3)', [0x01], /empty BIT STRING/],
  ])('refuses %s', (_, bits, message) => {
    expect(() => summarizeCertificate(withSignature(bits))).toThrow(message);
  });

  it.each([
    [[0x00], 0],
    [[0x00, 0xff], 0],
    [[0x07, 0x80], 7],
    [[0x01, 0xfe], 1],
  ])('readBitStringUnusedBits(%j) = %i', (bits, unused) => {
    const buf = Uint8Array.from(bits);
    expect(readBitStringUnusedBits(buf, 0, buf.length, 'x')).toBe(unused);
  });
});
