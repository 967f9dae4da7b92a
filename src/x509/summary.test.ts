/**
 * Summaries of the CT vectors (test/vectors/ct/README.md) and of crafted certificates.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as crafted from './crafted.fixture.js';
import { buildCert, buildTbs, name, sanExtension, tlv, utf8 } from './der-builder.fixture.js';
import { navigliEntries, pemVector, readVector, rfc6962Entries } from './ct-vectors.fixture.js';
import {
  certificateParts,
  embeddedSctList,
  parsePemCertificates,
  subjectPublicKeyInfo,
  summarizeCertificate,
  summarizeTbs,
} from './index.js';
import type { CertSummary } from './index.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const only = (pem: string): Uint8Array => parsePemCertificates(pem)[0] as Uint8Array;

describe('ctgo/scanner/FourEntries.json (README §2)', () => {
  const entries = rfc6962Entries('ctgo/scanner/FourEntries.json');
  it.each([
    [0, 'mail.google.com', ['mail.google.com']],
    [
      1,
      'www.struleartscentre.purchase-tickets-online.co.uk',
      ['www.struleartscentre.purchase-tickets-online.co.uk'],
    ],
    [2, 'www.netkeiba.com', ['www.netkeiba.com']],
    [3, 'www.oxfordplayhouse.com', ['www.oxfordplayhouse.com', 'oxfordplayhouse.com']],
  ])('entry %i: CN %s', (i, cn, dns) => {
    const e = entries[i];
    expect(e?.entryType).toBe('x509');
    const s = summarizeCertificate(e?.leafCertOrTbs as Uint8Array);
    expect(s.subjectCommonName).toBe(cn);
    expect(s.dnsNames).toEqual(dns);
    expect(s.isPrecertificate).toBe(false);
  });

  it('formats issuers with RFC 4514 escaping of a comma', () => {
    expect(summarizeCertificate(entries[1]?.leafCertOrTbs as Uint8Array).issuer).toBe(
      'CN=GeoTrust SSL CA,O=GeoTrust\\, Inc.,C=US',
    );
  });
});

describe('ctgo/client/GetEntriesResp.json (README §2)', () => {
  const [pre, x509] = rfc6962Entries('ctgo/client/GetEntriesResp.json');
  const names = ['kjasdhf.trust', 'ssdfs.trust', 'sdfedsf.trust', 'www.sdfedsf.trust'];

  it('entry 0 is a precert_entry: the leaf TBS and the pre_certificate name the same hosts', () => {
    expect(pre?.entryType).toBe('precert');
    expect(pre?.timestamp).toBe(1422867427528);
    expect(pre?.chain).toHaveLength(3);
    const fromTbs = summarizeTbs(pre?.leafCertOrTbs as Uint8Array);
    const fromPre = summarizeCertificate(pre?.preCertificate as Uint8Array);
    for (const s of [fromTbs, fromPre]) {
      expect(s.dnsNames).toEqual(names);
      expect(s.subjectCommonName).toBe('sdfedsf.trust');
    }
    // The log removed the poison from the leaf's TBS (RFC 6962 §3.2).
    expect(fromTbs.isPrecertificate).toBe(false);
    expect(fromPre.isPrecertificate).toBe(true);
    expect(fromTbs.tbsSha256).toBe(fromPre.tbsSha256);
    expect(fromTbs.spkiSha256).toBe(fromPre.spkiSha256);
    expect(fromTbs.issuer).toBe(
      'CN=GeoTrust EV SSL TEST CA - G4,OU=FOR TEST PURPOSES ONLY,O=GeoTrust Inc.,C=US',
    );
  });

  it('entry 1 is an x509_entry for csrcn.ssl24.jp with embedded SCTs', () => {
    const s = summarizeCertificate(x509?.leafCertOrTbs as Uint8Array);
    expect(x509?.entryType).toBe('x509');
    expect(x509?.timestamp).toBe(1415843953342);
    expect(x509?.chain).toHaveLength(2);
    expect(s.dnsNames).toEqual(['csrcn.ssl24.jp']);
    expect(s.hasEmbeddedScts).toBe(true);
  });
});

describe('sunlight navigli2025h2 tiles (README §3, items 5, 6, 8)', () => {
  const entries = navigliEntries();

  it('holds 1024 precert entries', () => {
    expect(entries).toHaveLength(1024);
    expect(entries[0]?.timestamp).toBe(1746292399101);
    expect(entries[1023]?.timestamp).toBe(1746292689102);
  });

  it('every leaf TBS and pre_certificate give the names tile DNS list and CN', () => {
    for (const e of entries) {
      const fromTbs = summarizeTbs(e.tbs);
      const fromPre = summarizeCertificate(e.preCertificate);
      const want = (e.names.DNS ?? []).map((n) => n.toLowerCase());
      expect(e.names.Timestamp, `entry ${e.index}`).toBe(e.timestamp);
      expect(fromTbs.dnsNames, `entry ${e.index}`).toEqual(want);
      expect(fromTbs.subjectCommonName ?? '', `entry ${e.index}`).toBe(e.names.Subject?.CommonName ?? '');
      expect(fromPre.dnsNames).toEqual(fromTbs.dnsNames);
      expect(fromPre.tbsSha256, `entry ${e.index}`).toBe(fromTbs.tbsSha256);
      expect(fromPre.isPrecertificate).toBe(true);
      expect(fromPre.hasEmbeddedScts).toBe(false);
      expect(fromTbs.issuer).toMatch(
        /^CN=\(STAGING\) [A-Za-z ]+ (R1[01]|E[56]),O=\(STAGING\) Let's Encrypt,C=US$/,
      );
      expect(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384']).toContain(fromTbs.keyType);
      expect(fromTbs.notBefore < fromTbs.notAfter).toBe(true);
    }
  });

  it('last entry names sberbank.avito.sber.kwid9.jccsmatrei.top', () => {
    expect(summarizeTbs(entries[1023]?.tbs as Uint8Array).dnsNames).toEqual([
      'sberbank.avito.sber.kwid9.jccsmatrei.top',
    ]);
  });

  it('issuer_key_hash is SHA-256 of one of the le-staging issuers’ SPKI', () => {
    const issuers = ['r10', 'r11', 'e5-cross', 'e6-cross'].map((f) =>
      sha256(subjectPublicKeyInfo(pemVector(`le-staging/${f}.pem`)[0] as Uint8Array)),
    );
    for (const e of entries) expect(issuers).toContain(Buffer.from(e.issuerKeyHash).toString('hex'));
  });
});

describe('PEM vectors', () => {
  it('ctgo/sct: serial 0 CA, the precertificate and the embedded-SCT certificate', () => {
    const ca = summarizeCertificate(pemVector('ctgo/sct/CACertPEM.pem')[0] as Uint8Array);
    expect(ca).toMatchObject({ serialHex: '0', isCa: true, keyType: 'rsa-1024', subjectCommonName: null });
    expect(ca.subject).toBe('L=Erw Wen,ST=Wales,O=Certificate Transparency CA,C=GB');
    const pre = summarizeCertificate(pemVector('ctgo/sct/TestPreCertPEM.pem')[0] as Uint8Array);
    const emb = summarizeCertificate(pemVector('ctgo/sct/TestEmbeddedCertPEM.pem')[0] as Uint8Array);
    expect(pre).toMatchObject({
      serialHex: '07',
      isPrecertificate: true,
      hasEmbeddedScts: false,
      isCa: false,
    });
    expect(emb).toMatchObject({ serialHex: '07', isPrecertificate: false, hasEmbeddedScts: true });
    expect(emb.notBefore).toBe('2012-06-01T00:00:00Z');
    expect(emb.notAfter).toBe('2022-06-01T00:00:00Z');
  });

  it('embeddedSctList returns the TLS list holding TestPreCertProof.sct (RFC 6962 §3.3)', () => {
    const list = embeddedSctList(pemVector('ctgo/sct/TestEmbeddedCertPEM.pem')[0] as Uint8Array);
    const sct = readVector('ctgo/sct/TestPreCertProof.sct');
    // SignedCertificateTimestampList: total<2>, then SerializedSCT<2> entries.
    expect(list).not.toBeNull();
    const buf = Buffer.from(list as Uint8Array);
    expect(buf.readUInt16BE(0)).toBe(buf.length - 2);
    expect(buf.readUInt16BE(2)).toBe(sct.length);
    expect(buf.subarray(4).equals(sct)).toBe(true);
    expect(embeddedSctList(pemVector('ctgo/sct/TestCertPEM.pem')[0] as Uint8Array)).toBeNull();
  });

  it('sunlight example-cert-with-scts.pem embeds 2 SCTs', () => {
    const der = pemVector('sunlight/extracted/example-cert-with-scts.pem')[0] as Uint8Array;
    const s = summarizeCertificate(der);
    expect(s).toMatchObject({ subjectCommonName: 'harderradiofmjump.rad.io', hasEmbeddedScts: true });
    expect(s.issuer).toBe("CN=(STAGING) False Fennel E6,O=(STAGING) Let's Encrypt,C=US");
    const buf = Buffer.from(embeddedSctList(der) as Uint8Array);
    let count = 0;
    for (let p = 2; p < buf.length; p += 2 + buf.readUInt16BE(p)) count++;
    expect(count).toBe(2);
  });

  it.each([
    ['r10', 'rsa-2048', 'CN=(STAGING) Counterfeit Cashew R10'],
    ['r11', 'rsa-2048', 'CN=(STAGING) Wannabe Watercress R11'],
    ['e5-cross', 'ecdsa-p384', 'CN=(STAGING) Pseudo Plum E5'],
    ['e6-cross', 'ecdsa-p384', 'CN=(STAGING) False Fennel E6'],
    ['letsencrypt-stg-root-x1', 'rsa-4096', 'CN=(STAGING) Pretend Pear X1'],
  ])('le-staging/%s.pem is a %s CA', (file, keyType, cn) => {
    const s = summarizeCertificate(pemVector(`le-staging/${file}.pem`)[0] as Uint8Array);
    expect(s).toMatchObject({ keyType, isCa: true, dnsNames: [] });
    expect(s.subject.startsWith(`${cn},O=(STAGING) `)).toBe(true);
  });

  it('ctgo/trillian-testdata: chains leaf first, poisoned subleaf-pre', () => {
    const chain = pemVector('ctgo/trillian-testdata/subleaf-pre.chain').map((d) => summarizeCertificate(d));
    expect(chain.map((s) => s.isCa)).toEqual([false, true, true, true]);
    expect(chain[0]?.isPrecertificate).toBe(true);
    expect(chain[0]?.issuer).toBe(chain[1]?.subject);
    expect(
      summarizeCertificate(pemVector('ctgo/trillian-testdata/subleaf-pre.cert')[0] as Uint8Array),
    ).toMatchObject({
      isPrecertificate: true,
      serialHex: 'deadbeef',
      keyType: 'ecdsa-p256',
    });
  });
});

describe('crafted certificates (crafted.fixture.ts)', () => {
  it('Ed25519 with every SAN kind, a negative serial and RFC 4514 specials', () => {
    const s = summarizeCertificate(only(crafted.ed25519San));
    expect(s).toMatchObject({
      serialHex: '-05',
      keyType: 'ed25519',
      isCa: true,
      dnsNames: ['mixed.example.com', 'second.example'],
      ipAddresses: ['192.0.2.1', '2001:db8::1', '::ffff:192.0.2.1'],
      subjectCommonName: 'Example, Inc. "q"',
    });
    expect(s.subject).toBe(
      'C=DE,OU=\\ lead and trail\\ ,O=\\#Hash\\+Plus\\;Semi\\<Lt\\>,CN=Example\\, Inc. \\"q\\"',
    );
  });

  it('Ed448 v1 certificate with a multi-valued RDN and a padded serial 255', () => {
    const s = summarizeCertificate(only(crafted.ed448V1));
    expect(s).toMatchObject({ serialHex: 'ff', keyType: 'ed448', isCa: false, hasEmbeddedScts: false });
    expect(s.subject).toBe('DC=net,DC=example,UID=u1+CN=multi.example.net');
    // No SAN: the CN is taken as a host name.
    expect(s.dnsNames).toEqual(['multi.example.net']);
  });

  it.each([
    ['ecP384', 'ecdsa-p384', 'host-p384.example.org'],
    ['ecP521', 'ecdsa-p521', 'host-p521.example.org'],
    ['ecK256', 'ecdsa-1.3.132.0.10', 'host-k256.example.org'],
  ] as const)('%s: %s, serial 0, CN lower-cased into dnsNames', (key, keyType, host) => {
    const s = summarizeCertificate(only(crafted[key]));
    expect(s).toMatchObject({ keyType, serialHex: '0', dnsNames: [host] });
  });

  it('GeneralizedTime notAfter beyond 2049', () => {
    expect(summarizeCertificate(only(crafted.ecP521)).notAfter).toMatch(/^2126-/);
  });

  it('RSA-3072 v1 with TeletexString and BMPString values', () => {
    const s = summarizeCertificate(only(crafted.rsa3072Intl));
    expect(s).toMatchObject({
      keyType: 'rsa-3072',
      serialHex: '7fffffffffffffffffff',
      subjectCommonName: 'Müller',
    });
    expect(s.subject).toBe('L=Zürich,O=Łódź €,CN=Müller');
    expect(s.dnsNames).toEqual([]);
  });

  it('RSA-PSS key; an IP-address CN is not a host name', () => {
    const s = summarizeCertificate(only(crafted.rsaPss));
    expect(s).toMatchObject({ keyType: 'rsa-pss-2048', dnsNames: [], ipAddresses: ['192.0.2.7'] });
  });
});

describe('certificateParts and subjectPublicKeyInfo', () => {
  it('returns views into the input, not copies', () => {
    const der = pemVector('le-staging/r11.pem')[0] as Uint8Array;
    const parts = certificateParts(der);
    expect(parts.tbs.buffer).toBe(der.buffer);
    expect(parts.tbs[0]).toBe(0x30);
    expect(parts.signatureAlgorithm[0]).toBe(0x30);
    expect(parts.signature).toHaveLength(512); // signed by the RSA-4096 staging root
    const spki = subjectPublicKeyInfo(der);
    expect(spki.buffer).toBe(der.buffer);
    expect(Buffer.from(subjectPublicKeyInfo(parts.tbs, true)).equals(Buffer.from(spki))).toBe(true);
  });
});

describe('names are lower-cased in ASCII only, byte for byte (issue 12)', () => {
  const spki = subjectPublicKeyInfo(pemVector('le-staging/r10.pem')[0] as Uint8Array);
  const withSan = (...dns: number[][]): CertSummary =>
    summarizeCertificate(
      buildCert(
        buildTbs({
          version: 2,
          spki,
          subject: name(['2.5.4.10', utf8('no CN')]),
          extensions: [sanExtension(...dns.map((d) => tlv(0x82, d)))],
        }),
      ),
    );
  const bytesOf = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
  const codes = (s: string): number[] => [...s].map((c) => c.codePointAt(0) as number);

  it.each([
    // Raw UTF-8 "é" (c3 a9): Unicode toLowerCase() turned "Ã" (c3) into "ã" (e3), other bytes.
    [
      'raw UTF-8 in a dNSName',
      [0x63, 0x61, 0x66, 0xc3, 0xa9, 0x2e, 0x54, 0x45, 0x53, 0x54],
      'caf\u00c3\u00a9.test',
    ],
    ['Latin-1 capitals are not lower-cased', [0xc0, 0xde, 0x2e, 0x74], '\u00c0\u00de.t'],
    ['ASCII capitals are', bytesOf('WWW.Example.TEST'), 'www.example.test'],
    ['controls are kept, not dropped', [0x61, 0x00, 0x1b, 0x2e, 0x74], 'a\u0000\u001b.t'],
  ])('%s', (_, bytes, expected) => {
    const s = withSan(bytes);
    expect(s.dnsNames).toEqual([expected]);
    // One character per byte: the bytes can be recovered exactly (A–Z aside).
    expect(codes(s.dnsNames[0] as string)).toEqual(bytes.map((b) => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b)));
  });

  it('two different byte strings never give the same name', () => {
    const names = [[0xc3, 0x80], [0xc3, 0xa0], [0xe3, 0x80], [0xc0], [0xe0], bytesOf('a'), bytesOf('A')];
    const out = names.map((n) => withSan(n).dnsNames[0]);
    // Only "a" and "A" (ASCII case, RFC 4343 §3) may meet.
    expect(new Set(out).size).toBe(names.length - 1);
  });

  it.each([
    // U+212A KELVIN SIGN lower-cases to ASCII "k" under Unicode rules: a CN "\u212Aey.example"
    // became the legitimate, different name "key.example" in dnsNames.
    ['KELVIN SIGN', '\u212Aey.example'],
    // U+0130 lower-cases to "i" + U+0307.
    ['capital I with dot', '\u0130nfo.example'],
    ['non-ASCII letters', 'b\u00fccher.example'],
  ])('a CN with %s is not a host name for the CN fallback', (_, cn) => {
    const der = buildCert(buildTbs({ version: 2, spki, subject: name(['2.5.4.3', utf8(cn)]) }));
    const s = summarizeCertificate(der);
    expect(s.subjectCommonName).toBe(cn);
    expect(s.dnsNames).toEqual([]);
  });

  it('an ASCII CN still falls back, lower-cased', () => {
    const der = buildCert(buildTbs({ version: 2, spki, subject: name(['2.5.4.3', utf8('Key.Example')]) }));
    expect(summarizeCertificate(der).dnsNames).toEqual(['key.example']);
  });
});
