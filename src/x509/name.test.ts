import { describe, expect, it } from 'vitest';
import { ia5, name, oidTlv, printable, seq, set, tlv, utf8 } from './der-builder.fixture.js';
import { escapeValue, formatIssuer, formatName } from './name.js';

const fmt = (der: Uint8Array): { dn: string; commonName: string | null } =>
  formatName(der, 0, der.length, 'name');

const CN = '2.5.4.3';
const O = '2.5.4.10';
const C = '2.5.4.6';

describe('formatName (RFC 4514)', () => {
  it.each([
    // §2.1: last RDN first.
    [
      'DER order C, O, CN',
      name([C, printable('US')], [O, utf8("Let's Encrypt")], [CN, utf8('R11')]),
      "CN=R11,O=Let's Encrypt,C=US",
    ],
    ['empty Name', seq(), ''],
    [
      'multi-valued RDN, "+" in DER order',
      seq(set(seq(oidTlv(CN), utf8('a')), seq(oidTlv('0.9.2342.19200300.100.1.1'), utf8('u1')))),
      'CN=a+UID=u1',
    ],
    [
      'short names: L ST OU serialNumber emailAddress DC STREET postalCode',
      name(
        ['2.5.4.7', utf8('l')],
        ['2.5.4.8', utf8('st')],
        ['2.5.4.11', utf8('ou')],
        ['2.5.4.5', printable('123')],
        ['1.2.840.113549.1.9.1', ia5('a@b.example')],
        ['0.9.2342.19200300.100.1.25', ia5('example')],
        ['2.5.4.9', utf8('Main St')],
        ['2.5.4.17', utf8('12345')],
      ),
      'postalCode=12345,STREET=Main St,DC=example,emailAddress=a@b.example,serialNumber=123,OU=ou,ST=st,L=l',
    ],
    // §2.4: an OID type takes the "#" + hex of the value's whole DER encoding.
    [
      'unknown type as OID',
      name(['1.3.6.1.4.1.311.60.2.1.3', printable('GB')]),
      '1.3.6.1.4.1.311.60.2.1.3=#13024742',
    ],
    // §2.4: a value without a string form also becomes "#hex".
    ['CN with an INTEGER value', name([CN, tlv(0x02, [0x05])]), 'CN=#020105'],
    ['TeletexString as Latin-1', name([CN, tlv(0x14, [0x4d, 0xfc, 0x6c])]), 'CN=Mül'],
    ['BMPString (UTF-16BE)', name([CN, tlv(0x1e, [0x01, 0x41, 0x00, 0xf3, 0x20, 0xac])]), 'CN=Łó€'],
    ['BMPString surrogate pair', name([CN, tlv(0x1e, [0xd8, 0x3d, 0xde, 0x00])]), 'CN=😀'],
    ['BMPString of odd length', name([CN, tlv(0x1e, [0x00, 0x41, 0x00])]), 'CN=#1e03004100'],
    ['UniversalString (UCS-4)', name([CN, tlv(0x1c, [0, 0, 0, 0x41, 0, 1, 0xf6, 0x00])]), 'CN=A😀'],
    ['UniversalString out of range', name([CN, tlv(0x1c, [0, 0x11, 0, 0])]), 'CN=#1c0400110000'],
    ['UTF8String non-ASCII', name([CN, utf8('Zürich €')]), 'CN=Zürich €'],
    ['invalid UTF-8', name([CN, tlv(0x0c, [0x41, 0xc3])]), 'CN=#0c0241c3'],
    ['VisibleString and NumericString', name([CN, tlv(0x1a, [0x61])], [O, tlv(0x12, [0x31])]), 'O=1,CN=a'],
    // §2.4 escaping.
    ['specials escaped', name([CN, utf8('a,b+c"d\\e<f>g;h')]), 'CN=a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h'],
    [
      'leading "#" and space, trailing space',
      name([CN, utf8('# x ')], [O, utf8(' y')]),
      'O=\\ y,CN=\\# x\\ ',
    ],
    ['"#" inside is plain', name([CN, utf8('a#b')]), 'CN=a#b'],
    ['NUL and controls as hex pairs', name([CN, utf8('a\u0000b\nc\u007f')]), 'CN=a\\00b\\0ac\\7f'],
    ['"=" needs no escape', name([CN, utf8('a=b')]), 'CN=a=b'],
    // Issue 12: no raw control, bidi override or line separator reaches a log line through a DN;
    // each is the hex pairs of its UTF-8 octets (§2.4 "may be escaped"), so the text stays
    // reversible. Before, C1 controls, U+202E and U+2028 came through raw.
    ['C1 control (CSI) as UTF-8 hex pairs', name([CN, utf8('a\u009bb')]), 'CN=a\\c2\\9bb'],
    ['C1 byte in a PrintableString (read as Latin-1)', name([CN, printable('a\u0085b')]), 'CN=a\\c2\\85b'],
    ['bidi override U+202E', name([CN, utf8('evil\u202Etset.')]), 'CN=evil\\e2\\80\\aetset.'],
    ['line separator U+2028', name([O, utf8('x\u2028CN=forged')]), 'O=x\\e2\\80\\a8CN=forged'],
    ['zero-width space U+200B (Cf)', name([CN, utf8('a\u200Bb')]), 'CN=a\\e2\\80\\8bb'],
    ['ESC in a BMPString', name([CN, tlv(0x1e, [0x00, 0x1b, 0x00, 0x5b])]), 'CN=\\1b['],
    // A lone surrogate is no character: "#hex", as for invalid UTF-8 (it was a lone UTF-16 unit).
    ['BMPString lone high surrogate', name([CN, tlv(0x1e, [0xd8, 0x3d, 0x00, 0x41])]), 'CN=#1e04d83d0041'],
    ['BMPString lone low surrogate', name([CN, tlv(0x1e, [0xde, 0x00])]), 'CN=#1e02de00'],
    [
      'BMPString high surrogate at the end',
      name([CN, tlv(0x1e, [0x00, 0x41, 0xd8, 0x3d])]),
      'CN=#1e040041d83d',
    ],
  ])('%s', (_, der, expected) => {
    expect(fmt(der).dn).toBe(expected);
  });

  it('returns the last CN in DER order as the common name (as Go pkix.Name does)', () => {
    expect(fmt(name([CN, utf8('first')], [CN, utf8('last')])).commonName).toBe('last');
    expect(fmt(name([O, utf8('x')])).commonName).toBeNull();
    expect(fmt(name([CN, tlv(0x02, [1])])).commonName).toBeNull();
    expect(fmt(name([CN, utf8('a,b')])).commonName).toBe('a,b');
  });

  it.each([
    ['not a SEQUENCE', set()],
    ['RDN not a SET', seq(seq(seq(oidTlv(CN), utf8('a'))))],
    ['empty RDN', seq(set())],
    ['type not an OID', seq(set(seq(utf8('CN'), utf8('a'))))],
    ['no value', seq(set(seq(oidTlv(CN))))],
    ['extra element after the value', seq(set(seq(oidTlv(CN), utf8('a'), utf8('b'))))],
    ['invalid OID encoding', seq(set(seq(tlv(0x06, [0x2a, 0x80]), utf8('a'))))],
  ])('rejects %s', (_, der) => {
    expect(() => fmt(der)).toThrow(expect.objectContaining({ code: 'X509_MALFORMED' }));
  });

  it('formatIssuer memoises by DER and returns the same string', () => {
    const der = name([C, printable('US')], [CN, utf8('Issuer')]);
    expect(formatIssuer(der, 0, der.length, 'issuer')).toBe('CN=Issuer,C=US');
    expect(formatIssuer(der, 0, der.length, 'issuer')).toBe('CN=Issuer,C=US');
  });
});

describe('escapeValue', () => {
  it.each([
    ['', ''],
    ['plain', 'plain'],
    [' ', '\\ '],
    ['#', '\\#'],
    ['  ', '\\ \\ '],
    ['ä', 'ä'],
    ['\u00ad', '\\c2\\ad'],
    ['a\u2066b\u2069', 'a\\e2\\81\\a6b\\e2\\81\\a9'],
    ['\u0000 ', '\\00\\ '],
    [' \u0001', '\\ \\01'],
    ['😀,', '😀\\,'],
  ])('%j → %j', (value, expected) => {
    expect(escapeValue(value)).toBe(expected);
  });
});
