import { describe, expect, it } from 'vitest';
import { readVector } from './ct-vectors.fixture.js';
import { parsePemCertificates, summarizeCertificate } from './index.js';

const block = (b64: string): string => `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;

describe('parsePemCertificates (RFC 7468)', () => {
  it('skips the openssl text dump before the block (ctgo/testdata/test-cert.pem)', () => {
    const text = readVector('ctgo/testdata/test-cert.pem').toString();
    expect(text.startsWith('Certificate:')).toBe(true);
    const certs = parsePemCertificates(text);
    expect(certs).toHaveLength(1);
    const same = parsePemCertificates(readVector('ctgo/sct/TestCertPEM.pem').toString());
    expect(Buffer.from(certs[0] as Uint8Array).equals(Buffer.from(same[0] as Uint8Array))).toBe(true);
  });

  it.each([
    ['ctgo/trillian-testdata/leaf01.chain', 2],
    ['ctgo/trillian-testdata/subleaf.chain', 4],
    ['ctgo/trillian-testdata/subleaf-pre.chain', 4],
    ['le-staging/r10.pem', 1],
    ['ctgo/sct/LogPublicKeyPEM.pem', 0], // a PUBLIC KEY block is not a certificate
  ])('%s holds %i certificates', (path, n) => {
    const certs = parsePemCertificates(readVector(path).toString());
    expect(certs).toHaveLength(n);
    for (const der of certs) expect(() => summarizeCertificate(der)).not.toThrow();
  });

  it.each([
    ['AAEC', [0, 1, 2]],
    ['AAE=', [0, 1]],
    ['AA==', [0]],
    ['A A\r\n E\tC', [0, 1, 2]],
  ])('decodes %j', (b64, bytes) => {
    expect(Array.from(parsePemCertificates(`junk ${block(b64)} junk`)[0] as Uint8Array)).toEqual(bytes);
  });

  it('returns copies, not views of a shared pool', () => {
    const [der] = parsePemCertificates(block('AAEC'));
    expect(der?.buffer.byteLength).toBe(3);
  });

  it.each([
    ['no END line', '-----BEGIN CERTIFICATE-----\nAAEC\n'],
    ['non-base64 character', block('AA*C')],
    ['bad padding', block('AA=C')],
    ['length not a multiple of 4', block('AAE')],
    ['empty body', block('')],
    ['a second BEGIN before END', `-----BEGIN CERTIFICATE-----\nAAEC\n${block('AAEC')}`],
  ])('rejects %s', (_, text) => {
    expect(() => parsePemCertificates(text)).toThrow(expect.objectContaining({ code: 'X509_BAD_PEM' }));
  });

  it.each([
    // RFC 7468 §5.1 historical labels; OpenSSL reads "X509 CERTIFICATE" (cryptography-vectors'
    // x509/cryptography.io.old_header.pem). They were ignored, so such a file held "no certificate".
    ['X509 CERTIFICATE', '-----BEGIN X509 CERTIFICATE-----\nAAEC\n-----END X509 CERTIFICATE-----\n'],
    ['X.509 CERTIFICATE', '-----BEGIN X.509 CERTIFICATE-----\nAAEC\n-----END X.509 CERTIFICATE-----\n'],
  ])('reads the historical label %s', (_, text) => {
    expect(parsePemCertificates(`${text}${block('AAE=')}`).map((d) => Array.from(d))).toEqual([
      [0, 1, 2],
      [0, 1],
    ]);
  });

  it.each([['mismatched END label', '-----BEGIN X509 CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n']])(
    'rejects %s',
    (_, text) => {
      expect(() => parsePemCertificates(text)).toThrow(expect.objectContaining({ code: 'X509_BAD_PEM' }));
    },
  );

  it('does not read TRUSTED CERTIFICATE (OpenSSL trust format, not a Certificate)', () => {
    const text = '-----BEGIN TRUSTED CERTIFICATE-----\nAAEC\n-----END TRUSTED CERTIFICATE-----\n';
    expect(parsePemCertificates(text)).toEqual([]);
  });

  it('returns [] for text without certificates', () => {
    expect(parsePemCertificates('')).toEqual([]);
    expect(parsePemCertificates('-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----')).toEqual([]);
  });
});
