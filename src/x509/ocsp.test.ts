/**
 * SCT lists in stapled OCSP responses (RFC 6962 §3.3). A real response made by `openssl ocsp`
 * (which has no SCT extension) and a synthetic one carrying the SCT list of a real certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { extension, genTime, octets, oidTlv, seq, tlv } from './der-builder.fixture.js';
import { X509Error } from './errors.js';
import { embeddedSctList, parsePemCertificates } from './index.js';
import { sctListsFromOcspResponse } from './ocsp.js';

const work = mkdtempSync(join(tmpdir(), 'certvigil-ocsp-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const openssl = (...args: string[]): string =>
  execFileSync('openssl', args, { cwd: work, encoding: 'utf8', stdio: 'pipe' });

/** A successful OCSP response from openssl's own responder, for a certificate of a throwaway CA. */
function opensslResponse(): Uint8Array {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-subj',
    '/CN=certvigil OCSP test CA',
    '-days',
    '2',
  );
  openssl('req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf.example.test');
  openssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-out',
    'leaf.pem',
    '-days',
    '2',
    '-set_serial',
    '0x1001',
  );
  const expiry = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(2, 14);
  writeFileSync(join(work, 'index.txt'), `V\t${expiry}Z\t\t1001\tunknown\t/CN=leaf.example.test\n`);
  openssl('ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-reqout', 'req.der', '-no_nonce');
  openssl(
    'ocsp',
    '-index',
    'index.txt',
    '-rsigner',
    'ca.pem',
    '-rkey',
    'ca.key',
    '-CA',
    'ca.pem',
    '-reqin',
    'req.der',
    '-respout',
    'resp.der',
    '-ndays',
    '1',
  );
  return new Uint8Array(readFileSync(join(work, 'resp.der')));
}

/** OCSPResponse { successful, [0] { id-pkix-ocsp-basic, OCTET STRING BasicOCSPResponse } }. */
function syntheticResponse(singleExtensions: Uint8Array[]): Uint8Array {
  const certId = seq(
    seq(oidTlv('1.3.14.3.2.26'), [0x05, 0x00]),
    octets(new Uint8Array(20)),
    octets(new Uint8Array(20)),
    tlv(0x02, [0x10, 0x01]),
  );
  const single = seq(certId, [0x80, 0x00], genTime('20261124000000Z'), tlv(0xa1, seq(...singleExtensions)));
  const data = seq(tlv(0xa2, octets(new Uint8Array(20))), genTime('20261124000000Z'), seq(single));
  const basic = seq(data, seq(oidTlv('1.2.840.10045.4.3.2')), tlv(0x03, [0x00, 0x01]));
  return seq(tlv(0x0a, [0x00]), tlv(0xa0, seq(oidTlv('1.3.6.1.5.5.7.48.1.1'), octets(basic))));
}

describe('sctListsFromOcspResponse', () => {
  it('reads a real openssl OCSP response and finds no SCTs', () => {
    expect(sctListsFromOcspResponse(opensslResponse())).toEqual([]);
  });

  it('finds the SCT list in a SingleResponse extension, byte for byte', () => {
    const pem = readFileSync(
      new URL('../../test/vectors/ct/ctgo/sct/TestEmbeddedCertPEM.pem', import.meta.url),
      'utf8',
    );
    const list = embeddedSctList(parsePemCertificates(pem)[0] as Uint8Array) as Uint8Array;
    const ext = extension('1.3.6.1.4.1.11129.2.4.5', false, octets(list));
    const other = extension('1.3.6.1.5.5.7.48.1.2', false, octets([0x01]));
    const found = sctListsFromOcspResponse(syntheticResponse([other, ext]));
    expect(found).toHaveLength(1);
    expect(Buffer.from(found[0]?.sctList ?? []).equals(Buffer.from(list))).toBe(true);
  });

  it.each([
    [
      'a second SCT list extension (it was silently ignored)',
      (list: Uint8Array) => [
        extension('1.3.6.1.4.1.11129.2.4.5', false, octets(list)),
        extension('1.3.6.1.4.1.11129.2.4.5', false, octets(list)),
      ],
    ],
    [
      'bytes after the inner OCTET STRING (they were ignored)',
      (list: Uint8Array) => [
        extension('1.3.6.1.4.1.11129.2.4.5', false, Uint8Array.from([...octets(list), 0x00])),
      ],
    ],
  ])('refuses %s', (_, exts) => {
    const list = Uint8Array.from([0x00, 0x00]);
    expect(() => sctListsFromOcspResponse(syntheticResponse(exts(list)))).toThrow(
      expect.objectContaining({ code: 'X509_MALFORMED' }),
    );
  });

  it('returns nothing for a non-successful response', () => {
    expect(sctListsFromOcspResponse(seq(tlv(0x0a, [0x01])))).toEqual([]);
  });

  it('throws only X509Error on arbitrary mutations (property test)', () => {
    const good = opensslResponse();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: good.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: good.length }),
        (pos, byte, cut) => {
          const b = Uint8Array.from(good);
          b[pos] = byte;
          try {
            sctListsFromOcspResponse(b.subarray(0, cut));
          } catch (err) {
            expect(err).toBeInstanceOf(X509Error);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
