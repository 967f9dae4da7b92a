import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestCa } from '../../test/fixtures/ct-log/index.js';
import { summarizeCertificate } from '../x509/index.js';
import {
  checkCaa,
  checkCertificate,
  checkCtPresence,
  checkExpectations,
  checkInventory,
  parsePin,
} from './checks.js';
import type { CertificateExpectations, CertificateFacts } from './checks.js';

const DAY = 86_400_000;
const now = new Date('2026-11-24T12:00:00Z');
let ca: TestCa;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  ca = await TestCa.create({ organization: 'Vigil Test CA', now });
});

function facts(
  options: Parameters<TestCa['issue']>[0],
  extra: Partial<CertificateFacts> = {},
): CertificateFacts {
  const cert = ca.issue({ notBefore: new Date(now.getTime() - DAY), ...options });
  return {
    address: '127.0.0.1',
    leaf: cert.der,
    summary: summarizeCertificate(cert.der),
    certSha256: sha256(cert.der),
    issuerSpkiSha256: sha256(ca.spki),
    authorized: true,
    authorizationError: null,
    ...extra,
  };
}

const expectations = (e: Partial<CertificateExpectations> = {}): CertificateExpectations => ({
  hostname: 'www.example.test',
  warnDays: 20,
  critDays: 15,
  pins: [],
  expectIssuer: [],
  minRsaBits: 2048,
  now,
  ...e,
});

const bad = (findings: { id: string; severity: string }[]): string[] =>
  findings.filter((f) => f.severity !== 'ok' && f.severity !== 'info').map((f) => `${f.id}:${f.severity}`);

describe('checkCertificate', () => {
  it('a good certificate yields only OK findings', () => {
    expect(bad(checkCertificate(facts({ dnsNames: ['www.example.test'] }), expectations()))).toEqual([]);
  });
  it('host-name matching follows RFC 6125: wildcard in the leftmost label only, no CN fallback', () => {
    const wild = facts({ dnsNames: ['*.example.test'] });
    expect(bad(checkCertificate(wild, expectations()))).toEqual([]);
    expect(bad(checkCertificate(wild, expectations({ hostname: 'a.b.example.test' })))).toEqual([
      'name-mismatch:critical',
    ]);
    expect(bad(checkCertificate(wild, expectations({ hostname: 'example.test' })))).toEqual([
      'name-mismatch:critical',
    ]);
    // The subject CN names the host, but the SAN does not: browsers (and we) ignore the CN.
    const cnOnly = facts({ dnsNames: ['other.example.test'], commonName: 'www.example.test' });
    expect(bad(checkCertificate(cnOnly, expectations()))).toEqual(['name-mismatch:critical']);
    expect(bad(checkCertificate(facts({ dnsNames: ['WWW.Example.TEST'] }), expectations()))).toEqual([]);
  });
  it('validity: not yet valid, expired, and the -w/-c thresholds', () => {
    const future = facts({ dnsNames: ['www.example.test'], notBefore: new Date(now.getTime() + DAY) });
    expect(bad(checkCertificate(future, expectations()))).toEqual(['not-yet-valid:critical']);
    const expired = facts({
      dnsNames: ['www.example.test'],
      notBefore: new Date(now.getTime() - 90 * DAY),
      notAfter: new Date(now.getTime() - 1000),
    });
    expect(bad(checkCertificate(expired, expectations()))).toEqual(['expired:critical']);
    const soon = facts({ dnsNames: ['www.example.test'], notAfter: new Date(now.getTime() + 17 * DAY) });
    expect(bad(checkCertificate(soon, expectations()))).toEqual(['expires-soon:warning']);
    expect(bad(checkCertificate(soon, expectations({ critDays: 18, warnDays: 30 })))).toEqual([
      'expires-soon:critical',
    ]);
  });
  it('an untrusted chain is CRITICAL with the TLS stack’s reason', () => {
    const f = facts(
      { dnsNames: ['www.example.test'] },
      { authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' },
    );
    const out = checkCertificate(f, expectations());
    expect(bad(out)).toEqual(['chain-untrusted:critical']);
    expect(out.find((x) => x.id === 'chain-untrusted')?.message).toMatch(/UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });
  it('keys: RSA below the minimum is CRITICAL', () => {
    const rsa = facts({ dnsNames: ['www.example.test'], keyType: 'rsa-2048' });
    expect(bad(checkCertificate(rsa, expectations()))).toEqual([]);
    expect(bad(checkCertificate(rsa, expectations({ minRsaBits: 3072 })))).toEqual(['weak-key:critical']);
  });
  it('IP-address endpoints match iPAddress SANs only', () => {
    const f = facts({ dnsNames: ['www.example.test'] });
    expect(bad(checkCertificate(f, expectations({ hostname: '127.0.0.1' })))).toEqual([
      'name-mismatch:critical',
    ]);
  });
});

describe('checkExpectations', () => {
  it('pins: hex in any case and with colons; a miss is CRITICAL', () => {
    const f = facts({ dnsNames: ['www.example.test'] });
    const spki = f.summary.spkiSha256;
    const colons = spki.toUpperCase().match(/../g)?.join(':') ?? '';
    expect(bad(checkExpectations(f, expectations({ pins: [colons] })))).toEqual([]);
    expect(bad(checkExpectations(f, expectations({ pins: ['00'.repeat(32), spki] })))).toEqual([]);
    expect(bad(checkExpectations(f, expectations({ pins: ['00'.repeat(32)] })))).toEqual([
      'pin-mismatch:critical',
    ]);
  });
  it('the same CA with another key passes --expect-issuer but not --pin (jabber.ru)', () => {
    const ours = facts({ dnsNames: ['www.example.test'] });
    const theirs = facts({ dnsNames: ['www.example.test'], subjectKey: ca.attackerKey.publicKey });
    const e = expectations({ pins: [ours.summary.spkiSha256], expectIssuer: ['Vigil Test CA'] });
    expect(bad(checkExpectations(ours, e))).toEqual([]);
    expect(bad(checkExpectations(theirs, e))).toEqual(['pin-mismatch:critical']);
  });
  it('issuer by DN text (case-insensitive) or by issuer SPKI hash; an absent issuer never matches a hash', () => {
    const f = facts({ dnsNames: ['www.example.test'] });
    expect(bad(checkExpectations(f, expectations({ expectIssuer: ['vigil test ca'] })))).toEqual([]);
    expect(bad(checkExpectations(f, expectations({ expectIssuer: [sha256(ca.spki)] })))).toEqual([]);
    expect(bad(checkExpectations(f, expectations({ expectIssuer: ['Other CA'] })))).toEqual([
      'issuer-unexpected:critical',
    ]);
    const noIssuer = { ...f, issuerSpkiSha256: null };
    const out = checkExpectations(noIssuer, expectations({ expectIssuer: [sha256(ca.spki)] }));
    expect(bad(out)).toEqual(['issuer-unexpected:critical']);
    expect(out[0]?.message).toMatch(/issuer not presented/);
  });
});

describe('CT presence, inventory and CAA findings', () => {
  it('found anywhere wins; not found is CRITICAL; all errors are a WARNING (CT says nothing about the certificate); no source is a WARNING', () => {
    const src = (status: 'found' | 'not-found' | 'error') => ({
      kind: 'crtsh' as const,
      where: 'x',
      status,
      detail: status,
    });
    expect(bad(checkCtPresence('a', { found: true, sources: [src('error'), src('found')] }))).toEqual([]);
    expect(bad(checkCtPresence('a', { found: false, sources: [src('error'), src('not-found')] }))).toEqual([
      'ct-not-logged:critical',
    ]);
    expect(bad(checkCtPresence('a', { found: false, sources: [src('error')] }))).toEqual([
      'ct-unknown:warning',
    ]);
    expect(bad(checkCtPresence('a', { found: false, sources: [] }))).toEqual(['ct-unchecked:warning']);
    expect(checkCtPresence('a', null)).toEqual([]);
  });
  it('inventory: ours, not ours while others exist (CRITICAL), or untracked (WARNING)', () => {
    expect(bad(checkInventory('a', { ours: true, otherForNames: 0, detail: 'x' }))).toEqual([]);
    expect(bad(checkInventory('a', { ours: false, otherForNames: 2, detail: '' }))).toEqual([
      'inventory-mismatch:critical',
    ]);
    expect(bad(checkInventory('a', { ours: false, otherForNames: 0, detail: '' }))).toEqual([
      'inventory-unknown:warning',
    ]);
  });
  it('CAA: deny is CRITICAL, an unknown issuer a WARNING, a lookup error UNKNOWN', () => {
    expect(bad(checkCaa('a', { decision: 'allow', detail: '' }))).toEqual([]);
    expect(bad(checkCaa('a', { decision: 'deny', detail: '' }))).toEqual(['caa-forbids-issuer:critical']);
    expect(bad(checkCaa('a', { decision: 'unknown-issuer', detail: '' }))).toEqual([
      'caa-unknown-issuer:warning',
    ]);
    expect(bad(checkCaa('a', { decision: 'error', detail: '' }))).toEqual(['caa-error:unknown']);
  });
});

describe('parsePin', () => {
  const hex = createHash('sha256').update('spki').digest('hex');
  const bytes = Buffer.from(hex, 'hex');
  it.each([
    [hex, hex],
    [hex.toUpperCase(), hex],
    [hex.match(/../g)?.join(':') ?? '', hex],
    [bytes.toString('base64'), hex],
    [bytes.toString('base64url'), hex],
    [`sha256//${bytes.toString('base64')}`, hex],
    [`sha256/${bytes.toString('base64')}`, hex],
  ])('%s → hex', (text, want) => {
    expect(parsePin(text)).toBe(want);
  });
  it.each([
    '',
    'nope',
    hex.slice(2),
    `${hex}00`,
    `${hex}:`,
    `${hex.slice(0, 4)}:${hex.slice(4)}`,
    createHash('sha1').update('x').digest('base64'),
    createHash('sha384').update('x').digest('base64'),
    `${bytes.toString('base64')}x`,
    'ä'.repeat(64),
  ])('rejects %j', (text) => {
    expect(parsePin(text)).toBeNull();
  });
});
