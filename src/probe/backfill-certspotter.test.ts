/**
 * SSLMate's Cert Spotter API v1 as backfill reads it (issue 18), against the issuance object of
 * SSLMate's reference (https://sslmate.com/help/reference/ct_search_api_v1): the field names the
 * external check's `--certspotter` lookup uses (`id` a string, `tbs_sha256`, `cert_sha256`,
 * `expand=dns_names`) were checked against it and are right; both readers accept the reference's
 * object. Hostile pages are refused or counted, never a crash.
 */
import { describe, expect, it } from 'vitest';
import { certSpotterDer, certSpotterUrl, parseCertSpotterPage } from './backfill-certspotter.js';
import { matchIssuance } from './ct-presence-apis.js';

const TBS = 'ab'.repeat(32);
const CERT = 'cd'.repeat(32);
/** The issuance object of SSLMate's reference, with dns_names, issuer and cert_der expanded. */
const ISSUANCE = {
  id: '3958735442',
  tbs_sha256: TBS,
  cert_sha256: CERT,
  dns_names: ['example.com', 'www.example.com'],
  pubkey_sha256: 'ef'.repeat(32),
  issuer: {
    friendly_name: "Let's Encrypt",
    name: "C=US, O=Let's Encrypt, CN=R11",
    pubkey_sha256: '01'.repeat(32),
  },
  not_before: '2026-01-01T00:00:00Z',
  not_after: '2026-04-01T00:00:00Z',
  revoked: false,
  cert_der: Buffer.from([0x30, 0x00]).toString('base64'),
};

describe('the reference issuance object', () => {
  it('parses for backfill, with the next page after its id', () => {
    const page = parseCertSpotterPage([ISSUANCE]);
    expect(page).toMatchObject({ invalid: 0, next: '3958735442' });
    expect(page.issuances[0]).toMatchObject({ id: '3958735442', tbs_sha256: TBS, cert_sha256: CERT });
    expect(certSpotterDer(page.issuances[0] ?? ISSUANCE)).toEqual(Buffer.from([0x30, 0x00]));
  });

  it('is what the external check matches on (tbs_sha256 / cert_sha256 by those names)', () => {
    expect(matchIssuance([ISSUANCE], { certSha256: CERT, tbsSha256: '00'.repeat(32) })).toMatch(
      /same certificate/,
    );
    expect(matchIssuance([ISSUANCE], { certSha256: '00'.repeat(32), tbsSha256: TBS })).toMatch(/same TBS/);
  });

  it('an empty page ends the list', () => {
    expect(parseCertSpotterPage([])).toEqual({ issuances: [], invalid: 0, next: null });
  });
});

describe('hostile pages', () => {
  it.each([
    ['a numeric id', { ...ISSUANCE, id: 3958735442 }],
    ['a short tbs_sha256', { ...ISSUANCE, tbs_sha256: 'abcd' }],
    ['tbs_sha256 not hex', { ...ISSUANCE, tbs_sha256: 'zz'.repeat(32) }],
    ['no pubkey_sha256', { ...ISSUANCE, pubkey_sha256: undefined }],
    ['dns_names a string', { ...ISSUANCE, dns_names: 'example.com' }],
    ['a huge cert_der', { ...ISSUANCE, cert_der: 'A'.repeat(300 * 1024) }],
    ['issuer a string', { ...ISSUANCE, issuer: 'R11' }],
  ])('counts a member with %s as invalid', (_, bad) => {
    const page = parseCertSpotterPage([ISSUANCE, bad, { ...ISSUANCE, id: '9' }]);
    expect(page.invalid).toBe(1);
    expect(page.issuances.map((i) => i.id)).toEqual(['3958735442', '9']);
  });

  it.each([
    ['an error object', { code: 'rate_limited', message: 'slow down' }],
    ['null', null],
    ['a string', '<html>'],
  ])('refuses %s instead of an array', (_, body) => {
    expect(() => parseCertSpotterPage(body)).toThrow(expect.objectContaining({ code: 'CT_BAD_RESPONSE' }));
  });

  it('refuses a page whose last member has no id (paging could not go on)', () => {
    expect(() => parseCertSpotterPage([ISSUANCE, { tbs_sha256: TBS }])).toThrow(
      expect.objectContaining({ code: 'CT_BAD_RESPONSE' }),
    );
  });

  it('upper-case hashes are read in lower case; bad base64 cert_der is no DER', () => {
    const [i] = parseCertSpotterPage([{ ...ISSUANCE, tbs_sha256: TBS.toUpperCase() }]).issuances;
    expect(i?.tbs_sha256).toBe(TBS);
    expect(certSpotterDer({ ...ISSUANCE, cert_der: '***' })).toBeNull();
    expect(certSpotterDer({ ...ISSUANCE, cert_der: undefined })).toBeNull();
  });
});

describe('certSpotterUrl', () => {
  it('asks with the documented parameters, expand repeated, after for the next page', () => {
    expect(String(certSpotterUrl('https://api.certspotter.com', 'example.com', true, null))).toBe(
      'https://api.certspotter.com/v1/issuances?domain=example.com&include_subdomains=true&match_wildcards=true&expand=dns_names&expand=issuer&expand=cert_der',
    );
    expect(String(certSpotterUrl('http://127.0.0.1:1/', 'example.com', false, '42'))).toMatch(
      /include_subdomains=false&.*&after=42$/,
    );
  });
});
