/**
 * crt.sh's JSON search as backfill reads it (issue 18): the documented row shape parses; hostile
 * answers (garbage, wrong types, an HTML error page, objects instead of arrays) are refused or
 * counted, never a crash; the certificate download is read as PEM or DER.
 */
import { describe, expect, it } from 'vitest';
import {
  crtShCertificateDer,
  crtShCertificateUrl,
  crtShSearchUrls,
  crtShTime,
  parseCrtShRows,
} from './backfill-crtsh.js';

/** A row as crt.sh serves it (wordeater/Format-CRTResponse's example). */
const ROW = {
  issuer_ca_id: 16418,
  issuer_name: "C=US, O=Let's Encrypt, CN=Let's Encrypt Authority X3",
  common_name: 'icheck.lbapps.com',
  name_value: 'icheck.lbapps.com',
  id: 3616206571,
  entry_timestamp: '2020-11-07T16:46:43.456',
  not_before: '2020-11-07T15:46:43',
  not_after: '2021-02-05T15:46:43',
  serial_number: '03ffeea57322e24cd6fd207682f59ead324f',
};

describe('parseCrtShRows', () => {
  it('reads the documented row (times in UTC without a zone)', () => {
    expect(parseCrtShRows([ROW])).toEqual({
      rows: [{ id: 3616206571, notBefore: Date.parse('2020-11-07T15:46:43Z') }],
      invalid: 0,
    });
    expect(parseCrtShRows([])).toEqual({ rows: [], invalid: 0 });
  });

  it.each([
    ['id as a string', { ...ROW, id: '3616206571' }],
    ['negative id', { ...ROW, id: -1 }],
    ['fractional id', { ...ROW, id: 1.5 }],
    ['id past 2^53', { ...ROW, id: 2 ** 60 }],
    ['no not_before', { ...ROW, not_before: undefined }],
    ['not_before not a time', { ...ROW, not_before: 'yesterday' }],
    ['not_before a number', { ...ROW, not_before: 1604763003 }],
    ['name_value an array', { ...ROW, name_value: ['a'] }],
    ['a huge issuer name', { ...ROW, issuer_name: 'x'.repeat(5000) }],
    ['null', null],
    ['a string', 'row'],
    ['an array', [ROW]],
  ])('counts a member with %s as invalid and keeps the others', (_, bad) => {
    expect(parseCrtShRows([bad, ROW])).toMatchObject({ rows: [{ id: ROW.id }], invalid: 1 });
  });

  it.each([
    ['an object', { error: 'too busy' }],
    ['null', null],
    ['a string (an HTML page that happened to be JSON-quoted)', '<html>502</html>'],
    ['a number', 42],
  ])('refuses %s instead of an array (CT_BAD_RESPONSE)', (_, body) => {
    expect(() => parseCrtShRows(body)).toThrow(expect.objectContaining({ code: 'CT_BAD_RESPONSE' }));
  });

  it('reads 10 000 rows in well under a second', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ ...ROW, id: i + 1 }));
    const started = performance.now();
    expect(parseCrtShRows(many).rows).toHaveLength(10_000);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('crt.sh URLs and times', () => {
  it('searches the name, and with subdomains also %.name (SQL LIKE: not the name itself)', () => {
    expect(crtShSearchUrls('https://crt.sh', 'example.com', false).map(String)).toEqual([
      'https://crt.sh/?q=example.com&output=json',
    ]);
    expect(crtShSearchUrls('https://crt.sh/', 'example.com', true).map(String)).toEqual([
      'https://crt.sh/?q=example.com&output=json',
      'https://crt.sh/?q=%25.example.com&output=json',
    ]);
    expect(String(crtShCertificateUrl('https://crt.sh/?x=1#f', 42))).toBe('https://crt.sh/?d=42');
  });

  it.each([
    ['2020-11-07T15:46:43', Date.parse('2020-11-07T15:46:43Z')],
    ['2020-11-07 15:46:43', Date.parse('2020-11-07T15:46:43Z')],
    ['2020-11-07T15:46:43Z', Date.parse('2020-11-07T15:46:43Z')],
    ['2020-11-07T15:46:43+02:00', Date.parse('2020-11-07T13:46:43Z')],
    ['07/11/2020', NaN],
    ['', NaN],
  ])('crtShTime(%j)', (text, want) => {
    expect(crtShTime(text)).toBe(want);
  });
});

describe('crtShCertificateDer', () => {
  const der = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`;
  it('reads PEM (what crt.sh serves) and raw DER', () => {
    expect(Buffer.from(crtShCertificateDer(Buffer.from(pem)) ?? [])).toEqual(der);
    expect(Buffer.from(crtShCertificateDer(der) ?? [])).toEqual(der);
  });
  it.each([
    ['an HTML page', '<html><body>Certificate not found</body></html>'],
    ['empty', ''],
    ['text', 'this is not a certificate'],
  ])('gives null for %s', (_, body) => {
    expect(crtShCertificateDer(Buffer.from(body))).toBeNull();
  });
});
