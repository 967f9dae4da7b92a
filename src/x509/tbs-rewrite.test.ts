/**
 * tbsWithoutCtExtensions: the TBS shared by a precertificate and its certificate (RFC 6962 §3.2).
 * Beyond byte equality with what logs store, the embedded SCTs are verified over the rebuilt TBS,
 * which proves the rebuild is byte-exact without trusting our own encoder.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { POISON, buildTbs, extension, ia5, octets, sanExtension, tlv } from './der-builder.fixture.js';
import { navigliEntries, pemVector, readVector, rfc6962Entries } from './ct-vectors.fixture.js';
import {
  certificateParts,
  embeddedSctList,
  subjectPublicKeyInfo,
  summarizeCertificate,
  summarizeTbs,
  tbsWithoutCtExtensions,
} from './index.js';

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const tbsOf = (der: Uint8Array): Uint8Array => certificateParts(der).tbs;
const pem0 = (path: string): Uint8Array => pemVector(path)[0] as Uint8Array;

describe('against what logs store', () => {
  it('navigli2025h2: every leaf TBS equals the pre_certificate TBS without poison (1024 entries)', () => {
    const entries = navigliEntries();
    let equal = 0;
    for (const e of entries) if (same(tbsWithoutCtExtensions(tbsOf(e.preCertificate)), e.tbs)) equal++;
    expect(equal).toBe(1024);
  });

  it('GetEntriesResp entry 0: the leaf TBS equals the pre_certificate TBS without poison', () => {
    const [pre] = rfc6962Entries('ctgo/client/GetEntriesResp.json');
    expect(
      same(
        tbsWithoutCtExtensions(tbsOf(pre?.preCertificate as Uint8Array)),
        pre?.leafCertOrTbs as Uint8Array,
      ),
    ).toBe(true);
  });

  it('ctgo/sct: TestEmbeddedCertPEM without the SCT list equals TestPreCertPEM without poison', () => {
    // Same serial (7), issuer, validity, subject and key: the pair is a real precert/cert pair.
    const pre = tbsWithoutCtExtensions(tbsOf(pem0('ctgo/sct/TestPreCertPEM.pem')));
    const emb = tbsWithoutCtExtensions(tbsOf(pem0('ctgo/sct/TestEmbeddedCertPEM.pem')));
    const invalid = tbsWithoutCtExtensions(tbsOf(pem0('ctgo/sct/TestInvalidEmbeddedCertPEM.pem')));
    expect(same(pre, emb)).toBe(true);
    expect(same(pre, invalid)).toBe(true);
    expect(summarizeTbs(pre)).toMatchObject({ isPrecertificate: false, hasEmbeddedScts: false });
  });
});

/** Verifies an RFC 6962 §3.2 precert_entry SCT (v1, ECDSA P-256/SHA-256) over `tbs`. */
function verifyPrecertSct(
  sct: Uint8Array,
  issuerSpki: Uint8Array,
  tbs: Uint8Array,
  logKeyPem: string,
): boolean {
  const b = Buffer.from(sct);
  const timestamp = b.subarray(33, 41);
  const extLen = b.readUInt16BE(41);
  const extensions = b.subarray(41, 43 + extLen);
  const sigLen = b.readUInt16BE(45 + extLen);
  const signature = b.subarray(47 + extLen, 47 + extLen + sigLen);
  const tbsLen = Buffer.from([tbs.length >> 16, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const signed = Buffer.concat([
    Buffer.from([0, 0]), // sct_version v1, signature_type certificate_timestamp
    timestamp,
    Buffer.from([0, 1]), // entry_type precert_entry
    sha256(issuerSpki),
    tbsLen,
    tbs,
    extensions,
  ]);
  return verify('sha256', signed, createPublicKey(logKeyPem), signature);
}

/** The SerializedSCTs of a SignedCertificateTimestampList (RFC 6962 §3.3). */
function scts(list: Uint8Array): Uint8Array[] {
  const b = Buffer.from(list);
  const out: Uint8Array[] = [];
  for (let p = 2; p < b.length; p += 2 + b.readUInt16BE(p))
    out.push(b.subarray(p + 2, p + 2 + b.readUInt16BE(p)));
  return out;
}

describe('embedded SCTs verify over the rebuilt TBS', () => {
  it('ctgo/sct TestEmbeddedCertPEM (TestPreCertProof, LogPublicKeyPEM)', () => {
    const cert = pem0('ctgo/sct/TestEmbeddedCertPEM.pem');
    const [sct] = scts(embeddedSctList(cert) as Uint8Array);
    const key = readVector('ctgo/sct/LogPublicKeyPEM.pem').toString();
    const issuer = subjectPublicKeyInfo(pem0('ctgo/sct/CACertPEM.pem'));
    const tbs = tbsWithoutCtExtensions(tbsOf(cert));
    expect(verifyPrecertSct(sct as Uint8Array, issuer, tbs, key)).toBe(true);
    // Control: the same SCT does not verify over the TBS with the SCT list still in it.
    expect(verifyPrecertSct(sct as Uint8Array, issuer, tbsOf(cert), key)).toBe(false);
    // And summarizeCertificate's tbsSha256 is the hash of exactly that TBS.
    expect(summarizeCertificate(cert).tbsSha256).toBe(sha256(tbs).toString('hex'));
  });

  it('sunlight example-cert-with-scts.pem (navigli2025h2 SCT, issuer e6-cross)', () => {
    const cert = pem0('sunlight/extracted/example-cert-with-scts.pem');
    const key = readVector('sunlight/extracted/navigli2025h2.pub.pem').toString();
    const logId = sha256(createPublicKey(key).export({ type: 'spki', format: 'der' }));
    const sct = scts(embeddedSctList(cert) as Uint8Array).find((s) => logId.equals(s.subarray(1, 33)));
    expect(sct).toBeDefined();
    const issuer = subjectPublicKeyInfo(pem0('le-staging/e6-cross.pem'));
    expect(verifyPrecertSct(sct as Uint8Array, issuer, tbsWithoutCtExtensions(tbsOf(cert)), key)).toBe(true);
  });
});

describe('rewrite rules (synthetic TBSs)', () => {
  const spki = subjectPublicKeyInfo(pem0('le-staging/r10.pem'));
  const san = sanExtension(tlv(0x82, Buffer.from('a.example')));
  const sctList = extension('1.3.6.1.4.1.11129.2.4.2', false, octets([0x00, 0x00]));
  const big = extension('1.2.3.4', false, new Uint8Array(300)); // pushes lengths past 255
  const aia = extension('1.3.6.1.5.5.7.1.1', false, ia5('x'));

  it.each([
    ['poison only: the whole [3] is dropped (ct-go omitempty)', [POISON], undefined],
    ['SCT list only: [3] dropped', [sctList], undefined],
    ['poison first', [POISON, san], [san]],
    ['poison last', [san, aia, POISON], [san, aia]],
    ['poison between', [san, POISON, aia], [san, aia]],
    ['poison and SCT list (not valid CT, both removed)', [sctList, san, POISON], [san]],
    ['lengths shrink across the 256-byte boundary', [big, POISON], [big]],
    ['large list, poison removed from the middle', [san, big, POISON, aia, big], [san, big, aia, big]],
  ])('%s', (_, withCt, without) => {
    const input = buildTbs({ version: 2, spki, extensions: withCt });
    const expected = buildTbs({ version: 2, spki, extensions: without });
    const out = tbsWithoutCtExtensions(input);
    expect(Buffer.from(out).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
    expect(summarizeTbs(out).isPrecertificate).toBe(false);
  });

  it('returns the very same bytes when there is nothing to remove', () => {
    for (const tbs of [buildTbs({ version: 2, spki, extensions: [san] }), buildTbs({ spki })]) {
      expect(tbsWithoutCtExtensions(tbs)).toBe(tbs);
    }
  });

  it.each([
    // Two SANs (RFC 5280 §4.2) and an empty list (§4.1 SIZE (1..MAX)) are read, like OpenSSL does.
    ['two SAN extensions', [san, san]],
    ['an empty extensions SEQUENCE', []],
  ])('keeps a TBS with %s unchanged', (_, exts) => {
    const tbs = buildTbs({ version: 2, spki, extensions: exts });
    expect(tbsWithoutCtExtensions(tbs)).toBe(tbs);
  });

  it.each([
    ['two poisons', [POISON, POISON]],
    ['two SCT lists', [sctList, san, sctList]],
  ])('rejects %s', (_, exts) => {
    const tbs = buildTbs({ version: 2, spki, extensions: exts });
    expect(() => tbsWithoutCtExtensions(tbs)).toThrow(expect.objectContaining({ code: 'X509_MALFORMED' }));
  });
});
