/**
 * Differential test against Node's `crypto.X509Certificate` (OpenSSL) for every certificate in the
 * CT vectors, the OpenSSL-made certificates of crafted.fixture.ts and synthetic edge cases.
 *
 * Where the two legitimately differ in form, Node's output is normalised here:
 * - serialNumber is upper-case (`BN_bn2hex`); ours is the same digits lower-cased.
 * - validFrom/validTo are `Jun  1 00:00:00 2012 GMT`; parsed with `Date` and compared as ISO.
 * - subjectAltName is `DNS:a, IP Address:b, …` (entries with special characters JSON-quoted);
 *   DNS names are lower-cased like ours; IPv6 is printed uncompressed in upper case, so both sides
 *   go through libuv's inet_ntop (`net.SocketAddress`), an independent RFC 5952 formatter.
 * - our dnsNames may end with the subject CN when it is host-like and not in the SAN; Node does not
 *   do that, so that one trailing entry is allowed.
 * - issuer/subject are multi-line RFC 2253-escaped text; only the CN is compared, unescaped.
 * - `ca` is `X509_check_ca() == 1`, i.e. basicConstraints cA TRUE, the same as our `isCa`.
 */
import { X509Certificate, createHash } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import * as crafted from './crafted.fixture.js';
import {
  buildCert,
  buildTbs,
  extension,
  genTime,
  name,
  octets,
  printable,
  sanExtension,
  seq,
  tlv,
  utcTime,
  utf8,
} from './der-builder.fixture.js';
import { allCertificates, pemVector } from './ct-vectors.fixture.js';
import { newTlv, readTlv } from './der.js';
import { escapeValue } from './name.js';
import { parsePemCertificates, subjectPublicKeyInfo, summarizeCertificate } from './index.js';
import type { CertSummary } from './index.js';

/** Splits Node's subjectAltName text into entries, honouring its JSON-quoted values. */
function sanEntries(text: string | undefined): string[] {
  if (text === undefined) return [];
  const out: string[] = [];
  const re = /([^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  for (let m = re.exec(text); m !== null && m[0] !== ''; m = re.exec(text)) {
    const value = (m[2] as string).startsWith('"')
      ? (JSON.parse(m[2] as string) as string)
      : (m[2] as string);
    out.push(`${m[1] as string}:${value}`);
  }
  return out;
}

const canonicalIp = (ip: string): string =>
  new net.SocketAddress({ address: ip, family: ip.includes(':') ? 'ipv6' : 'ipv4' }).address;

/** The last CN of Node's multi-line name, with RFC 2253 escapes undone. */
function nodeCommonName(text: string | undefined): string | null {
  const cns = (text ?? '')
    .split('\n')
    .flatMap((line) => line.split(' + '))
    .filter((a) => a.startsWith('CN='))
    .map((a) => a.slice(3).replace(/\\(.)/g, '$1'));
  return cns.length === 0 ? null : (cns[cns.length - 1] as string);
}

function compare(der: Uint8Array, label: string): { ours: CertSummary; node: X509Certificate } {
  const ours = summarizeCertificate(der);
  const node = new X509Certificate(der);
  expect(ours.serialHex, label).toBe(node.serialNumber.toLowerCase());
  expect(ours.notBefore, label).toBe(new Date(node.validFrom).toISOString().replace('.000Z', 'Z'));
  expect(ours.notAfter, label).toBe(new Date(node.validTo).toISOString().replace('.000Z', 'Z'));
  const spki = node.publicKey.export({ type: 'spki', format: 'der' });
  expect(ours.spkiSha256, label).toBe(createHash('sha256').update(spki).digest('hex'));
  const san = sanEntries(node.subjectAltName);
  const nodeDns = san.filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).toLowerCase());
  const nodeIps = san.filter((e) => e.startsWith('IP Address:')).map((e) => canonicalIp(e.slice(11)));
  expect(ours.dnsNames.slice(0, nodeDns.length), label).toEqual(nodeDns);
  if (ours.dnsNames.length > nodeDns.length) {
    expect(ours.dnsNames.slice(nodeDns.length), label).toEqual([ours.subjectCommonName?.toLowerCase()]);
  }
  expect(ours.ipAddresses.map(canonicalIp), label).toEqual(nodeIps);
  expect(ours.subjectCommonName, label).toBe(nodeCommonName(node.subject));
  const issuerCn = nodeCommonName(node.issuer);
  // Split our DN at unescaped "," and "+" and look for the same CN attribute.
  if (issuerCn !== null)
    expect(ours.issuer.split(/(?<!\\)[,+]/), label).toContain(`CN=${escapeValue(issuerCn)}`);
  expect(ours.isCa, label).toBe(node.ca);
  return { ours, node };
}

describe('differential: every certificate in test/vectors/ct', () => {
  const certs = allCertificates();

  it('finds them all (PEM files, get-entries chains, FourEntries, navigli pre_certificates)', () => {
    expect(certs.length).toBeGreaterThan(1024 + 40);
  });

  it('agrees with crypto.X509Certificate on every one', () => {
    for (const { name: label, der } of certs) compare(der, label);
  });
});

describe('differential: crafted and synthetic certificates', () => {
  it.each(Object.keys(crafted))('crafted %s', (key) => {
    const pem = (crafted as Record<string, string>)[key] as string;
    compare(parsePemCertificates(pem)[0] as Uint8Array, key);
  });

  const spki = subjectPublicKeyInfo(pemVector('le-staging/r10.pem')[0] as Uint8Array);
  const CN = '2.5.4.3';
  it.each([
    [
      'UTCTime year 50 is 1950, 49 is 2049',
      { notBefore: utcTime('500101000000Z'), notAfter: utcTime('491231235959Z') },
    ],
    ['GeneralizedTime after 2049', { notAfter: genTime('20500101120000Z') }],
    ['negative 9-octet serial', { serial: [0x80, 1, 2, 3, 4, 5, 6, 7, 8] }],
    ['serial with sign octet', { serial: [0x00, 0xff, 0xee] }],
    ['v1: no version, no extensions', {}],
    ['v2 with no extensions', { version: 1 }],
    ['UniversalString CN', { subject: name([CN, tlv(0x1c, [0, 0, 0, 0x61, 0, 1, 0xf6, 0x00])]) }],
    ['BMPString CN', { subject: name([CN, tlv(0x1e, [0, 0x61, 0x20, 0xac])]) }],
    [
      'empty subject with a SAN',
      { version: 2, subject: name(), extensions: [sanExtension(tlv(0x82, Buffer.from('x.test')))] },
    ],
    [
      'SAN with upper case, IPv6 runs and an IPv4-mapped address',
      {
        version: 2,
        subject: name([CN, utf8('Extra.Example')]),
        extensions: [
          sanExtension(
            tlv(0x82, Buffer.from('WWW.Example.COM')),
            tlv(0x87, Buffer.from('20010db8000000010000000000000000', 'hex')),
            tlv(0x87, Buffer.from('fe800000000000000000000000000001', 'hex')),
            tlv(0x87, Buffer.from('00000000000000000000ffff0a000001', 'hex')),
          ),
        ],
      },
    ],
    ['CN with a space is not a host name', { subject: name([CN, printable('not a host')]) }],
    // Issue 12, valid certificates OpenSSL reads that this walker refused (or might):
    ['an empty SAN (GeneralNames SIZE (1..MAX) broken)', { version: 2, extensions: [sanExtension()] }],
    [
      'a critical extension we do not know',
      { version: 2, extensions: [extension('1.2.3.4', true, octets([1]))] },
    ],
    ['an empty Extensions list (RFC 5280 §4.1 SIZE (1..MAX) broken)', { version: 2, extensions: [] }],
    ['GeneralizedTime without seconds', { notAfter: genTime('205001011230Z') }],
    [
      'GeneralizedTime before 2050 (RFC 5280 §4.1.2.5 says UTCTime)',
      { notBefore: genTime('20200101000000Z') },
    ],
    ['a 21-octet serial (RFC 5280 §4.1.2.2: at most 20)', { serial: new Array<number>(21).fill(0x11) }],
    ['a serial of zero (RFC 5280 §4.1.2.2: positive)', { serial: [0x00] }],
    ['a serial of -1', { serial: [0xff] }],
    ['TeletexString CN (Latin-1)', { subject: name([CN, tlv(0x14, Buffer.from('M\u00fcller', 'latin1'))]) }],
  ])('%s', (_, options) => {
    compare(buildCert(buildTbs({ spki, ...options })), 'synthetic');
  });
});

describe('deliberate differences', () => {
  const spki = subjectPublicKeyInfo(pemVector('le-staging/r10.pem')[0] as Uint8Array);

  it('a padded (non-minimal) serial is accepted here but refused by OpenSSL', () => {
    // CT logs contain such serials; the summary shows the value without the padding.
    const der = buildCert(buildTbs({ spki, serial: [0x00, 0x00, 0x01] }));
    expect(summarizeCertificate(der).serialHex).toBe('01');
    expect(() => new X509Certificate(der)).toThrow();
  });

  it('a second SAN extension: its names are listed too; Node shows only the first one', () => {
    const der = buildCert(
      buildTbs({
        version: 2,
        spki,
        extensions: [
          sanExtension(tlv(0x82, Buffer.from('a.example'))),
          sanExtension(tlv(0x82, Buffer.from('hidden.example'))),
        ],
      }),
    );
    // RFC 5280 §4.2 forbids it, OpenSSL reads it: refusing it (as this walker did) hid both names.
    expect(summarizeCertificate(der).dnsNames).toEqual(['a.example', 'hidden.example', 'leaf.example']);
    expect(new X509Certificate(der).subjectAltName).toBe('DNS:a.example');
  });

  it('GeneralizedTime fractional seconds (X.690 §11.7 DER, RFC 5280 forbids) are dropped', () => {
    const der = buildCert(buildTbs({ spki, notAfter: genTime('20500101000000.5Z') }));
    expect(new X509Certificate(der).validTo).toBe('Jan  1 00:00:00.5 2050 GMT');
    expect(summarizeCertificate(der).notAfter).toBe('2050-01-01T00:00:00Z');
  });

  it.each([
    ['a zero-length serial (X.690 §8.3.1)', buildCert(buildTbs({ spki, serial: [] })), /empty INTEGER/],
  ])('refused by both: %s', (_, der, message) => {
    expect(() => new X509Certificate(der)).toThrow();
    expect(() => summarizeCertificate(der)).toThrow(message);
  });

  // OpenSSL's d2i is a BER reader; these are not DER (X.690 §10.1) and stay refused: a BER
  // encoding has many byte forms for one certificate, so its TBS hash would not identify it.
  const cert = buildCert(buildTbs({ spki }));
  const content = cert.subarray(readTlv(cert, 0, cert.length, newTlv(), 'cert').contentStart);
  it.each([
    [
      'an indefinite length (BER)',
      Uint8Array.from([0x30, 0x80, ...content, 0x00, 0x00]),
      /indefinite length/,
    ],
    [
      'a long-form length below 128 octets (BER)',
      Uint8Array.from([0x30, 0x84, 0, 0, content.length >> 8, content.length & 0xff, ...content]),
      /non-minimal length/,
    ],
  ])('read by OpenSSL, refused here: %s', (_, der, message) => {
    expect(new X509Certificate(der).serialNumber).toBe('01');
    expect(() => summarizeCertificate(der)).toThrow(message);
  });

  it('two basicConstraints, the second a CA: a CA here (no CA flag is hidden); OpenSSL says not', () => {
    // cryptography-vectors custom/two_basic_constraints.pem: OpenSSL marks the certificate invalid
    // (EXFLAG_INVALID) and X509_check_ca says 0; RFC 5280 §4.2 forbids it. A monitor should not let
    // the first instance hide the second.
    const der = buildCert(
      buildTbs({
        version: 2,
        spki,
        extensions: [
          extension('2.5.29.19', true, seq()),
          extension('2.5.29.19', true, seq([0x01, 0x01, 0xff])),
        ],
      }),
    );
    expect(summarizeCertificate(der).isCa).toBe(true);
    expect(new X509Certificate(der).ca).toBe(false);
  });

  it('UTCTime with an offset is converted to UTC', () => {
    const der = buildCert(buildTbs({ spki, notBefore: utcTime('250101000000+0200') }));
    expect(summarizeCertificate(der).notBefore).toBe('2024-12-31T22:00:00Z');
  });
});
