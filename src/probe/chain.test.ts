import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPki } from '../../test/fixtures/tls/pki.js';
import type { Pki, PkiCert } from '../../test/fixtures/tls/pki.js';
import { chainElements, checkChain, signatureAlgorithmOf } from './chain.js';
import type { ChainInput } from './chain.js';
import type { Finding } from './types.js';

const DAY = 86_400_000;
const NOW = new Date();

let pki: Pki;
const c: Record<string, PkiCert> = {};

beforeAll(() => {
  pki = createPki();
  c.root = pki.root('Chain Root');
  c.sha1Root = pki.root('SHA1 Root', { md: 'sha1', key: 'rsa:2048' });
  c.int = pki.issue(c.root, { cn: 'Good Int', ca: true, days: 365 });
  c.leaf = pki.issue(c.int, { cn: 'www.example.test', dns: ['www.example.test'] });
  // Issued an hour ago: notAfter at now + 4.9 days, so floor gives 4 (not 5).
  c.int5 = pki.issue(c.root, { cn: 'Soon Int', ca: true, notAfter: new Date(NOW.getTime() + 4.9 * DAY) });
  c.leaf5 = pki.issue(c.int5, { cn: 'www.example.test', dns: ['www.example.test'] });
  c.int18 = pki.issue(c.root, { cn: 'Warn Int', ca: true, notAfter: new Date(NOW.getTime() + 18.5 * DAY) });
  c.leaf18 = pki.issue(c.int18, { cn: 'www.example.test', dns: ['www.example.test'] });
  c.intOld = pki.issue(c.root, {
    cn: 'Expired Int',
    ca: true,
    notBefore: new Date(NOW.getTime() - 100 * DAY),
    notAfter: new Date(NOW.getTime() - 2.5 * DAY),
  });
  c.leafOld = pki.issue(c.intOld, { cn: 'www.example.test', dns: ['www.example.test'] });
  c.intSha1 = pki.issue(c.root, { cn: 'SHA1 Int', ca: true, md: 'sha1' });
  c.leafSha1 = pki.issue(c.intSha1, { cn: 'www.example.test', dns: ['www.example.test'] });
  c.intRsa1024 = pki.issue(c.root, { cn: 'Small Int', ca: true, key: 'rsa:1024' });
  c.leafRsa1024 = pki.issue(c.intRsa1024, { cn: 'www.example.test', dns: ['www.example.test'] });
  c.intUnderSha1Root = pki.issue(c.sha1Root, { cn: 'Int under SHA1 root', ca: true });
  c.leafUnderSha1Root = pki.issue(c.intUnderSha1Root, { cn: 'www.example.test', dns: ['www.example.test'] });
  c.other = pki.issue(c.root, { cn: 'Other Int', ca: true });
}, 60_000);

afterAll(() => pki?.cleanup());

const d = (...names: string[]): Uint8Array[] =>
  names.map((n) => {
    const x = c[n];
    if (!x) throw new Error(`no cert ${n}`);
    return x.der;
  });

function run(over: Partial<ChainInput> & Pick<ChainInput, 'served' | 'validated'>): Finding[] {
  return checkChain({
    address: '127.0.0.1',
    authorized: true,
    warnDays: 20,
    critDays: 15,
    minRsaBits: 2048,
    now: NOW,
    ...over,
  });
}

const notInfo = (fs: Finding[]): string[] =>
  fs.filter((f) => f.severity !== 'info').map((f) => `${f.id}:${f.severity}`);

describe('checkChain', () => {
  it.each([
    ['good chain, root from the store', ['leaf', 'int'], ['leaf', 'int', 'root'], true, []],
    ['intermediate within -c', ['leaf5', 'int5'], ['leaf5', 'int5', 'root'], true, ['chain-expiry:critical']],
    [
      'intermediate within -w only',
      ['leaf18', 'int18'],
      ['leaf18', 'int18', 'root'],
      true,
      ['chain-expiry:warning'],
    ],
    [
      'expired intermediate',
      ['leafOld', 'intOld'],
      ['leafOld', 'intOld', 'root'],
      false,
      ['chain-expiry:critical'],
    ],
    [
      'wrong order (root sent before the intermediate)',
      ['leaf', 'root', 'int'],
      ['leaf', 'int', 'root'],
      true,
      ['chain-order:warning'],
    ],
    [
      'unrelated extra certificate',
      ['leaf', 'int', 'other'],
      ['leaf', 'int', 'root'],
      true,
      ['chain-order:warning'],
    ],
    ['leaf only, issuer nowhere', ['leaf'], ['leaf'], false, ['chain-incomplete:critical']],
    [
      'leaf only, intermediate from the store',
      ['leaf'],
      ['leaf', 'int', 'root'],
      true,
      ['chain-incomplete:warning'],
    ],
    [
      'SHA-1 signed intermediate',
      ['leafSha1', 'intSha1'],
      ['leafSha1', 'intSha1', 'root'],
      true,
      ['chain-weak-signature:critical'],
    ],
    [
      'RSA-1024 intermediate',
      ['leafRsa1024', 'intRsa1024'],
      ['leafRsa1024', 'intRsa1024', 'root'],
      true,
      ['chain-weak-key:critical'],
    ],
    [
      'SHA-1 self-signed root sent: harmless',
      ['leafUnderSha1Root', 'intUnderSha1Root', 'sha1Root'],
      ['leafUnderSha1Root', 'intUnderSha1Root', 'sha1Root'],
      true,
      [],
    ],
    ['served list unknown: trailing root assumed from the store', null, ['leaf', 'int', 'root'], true, []],
  ] as const)('%s', (_name, served, validated, authorized, expected) => {
    const fs = run({ served: served ? d(...served) : null, validated: d(...validated), authorized });
    expect(notInfo(fs)).toEqual(expected);
  });

  it('names the expiring intermediate with its subject, notAfter and floored days', () => {
    const fs = run({ served: d('leaf5', 'int5'), validated: d('leaf5', 'int5', 'root') });
    const e = fs.find((f) => f.id === 'chain-expiry');
    expect(e?.message).toMatch(
      /^intermediate #1 "CN=Soon Int" expires in 4 days \(\d{4}-\d\d-\d\dT[\d:]+Z\)$/,
    );
  });

  it('an expired intermediate says how long ago', () => {
    const fs = run({
      served: d('leafOld', 'intOld'),
      validated: d('leafOld', 'intOld', 'root'),
      authorized: false,
    });
    expect(fs.find((f) => f.id === 'chain-expiry')?.message).toMatch(
      /"CN=Expired Int" expired on .* \(3 days ago\)/,
    );
  });

  it('a served self-signed root that expires soon is a WARNING at most', () => {
    const fs = run({
      served: d('leaf', 'int', 'root'),
      validated: d('leaf', 'int', 'root'),
      warnDays: 3650,
      critDays: 3650,
    });
    const e = fs.filter((f) => f.id === 'chain-expiry');
    expect(e.map((f) => f.severity)).toEqual(['critical', 'warning']);
    expect(e[1]?.message).toContain('root #2 "CN=Chain Root"');
  });

  it('one INFO line per element, saying which were sent', () => {
    const fs = run({ served: d('leaf', 'int'), validated: d('leaf', 'int', 'root') });
    const info = fs.filter((f) => f.id === 'chain-element').map((f) => f.message);
    expect(info).toHaveLength(3);
    expect(info[0]).toMatch(
      /^#0 sent: subject "CN=www.example.test", issuer "CN=Good Int", notAfter \S+Z, key ecdsa-p256, signature ecdsa-with-SHA256$/,
    );
    expect(info[2]).toMatch(/^#2 from the trust store, not sent: subject "CN=Chain Root"/);
  });

  it('elements: served order kept, store additions after', () => {
    const els = chainElements({ served: d('leaf', 'root', 'int'), validated: d('leaf', 'int', 'root') });
    expect(els.map((e) => `${e.summary?.subjectCommonName}/${e.source}`)).toEqual([
      'www.example.test/served',
      'Chain Root/served',
      'Good Int/served',
    ]);
  });

  it('an unparsable served certificate is a finding, not a throw', () => {
    const fs = run({
      served: [c.leaf?.der as Uint8Array, Uint8Array.from([0x30, 0x03, 1, 2, 3])],
      validated: d('leaf'),
    });
    expect(notInfo(fs)).toContain('chain-malformed:critical');
  });
});

describe('signatureAlgorithmOf', () => {
  it.each([
    ['leaf', 'ecdsa-with-SHA256', false],
    ['intSha1', 'ecdsa-with-SHA1', true],
    ['sha1Root', 'sha1WithRSAEncryption', true],
    ['intUnderSha1Root', 'sha256WithRSAEncryption', false],
  ])('%s → %s', (name, alg, weak) => {
    expect(signatureAlgorithmOf(c[name]?.der as Uint8Array)).toEqual({ name: alg, weak });
  });
});
