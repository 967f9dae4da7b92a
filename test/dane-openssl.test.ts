/**
 * The DANE matcher (src/probe/dane.ts) against a reference implementation: OpenSSL's own DANE
 * verification (`openssl s_client -dane_tlsa_domain -dane_tlsa_rrdata`, Viktor Dukhovni's
 * implementation of RFC 6698/7671 in libssl) on a real TLS handshake with a Node TLS server on
 * loopback. Every usage × selector × matching type, right and wrong data, with and without a PKIX
 * trust anchor, and the digest-agility case (RFC 7671 §9): both must reach the same verdict.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchTlsa } from '../src/probe/index.js';
import type { TlsaRecord } from '../src/probe/index.js';
import { TestCa } from './fixtures/ct-log/index.js';
import type { IssuedCertificate } from './fixtures/ct-log/index.js';
import { chainPem, pem, privateKeyPem, startNodeTlsServer } from './fixtures/tls/index.js';
import type { NodeTlsServer } from './fixtures/tls/index.js';

const NAME = 'dane.example.test';
let work: string;
let caFile: string;
let emptyCaFile: string;
let ca: TestCa;
let leaf: IssuedCertificate;
let server: NodeTlsServer;
/** Same CA, a leaf for another name: DANE-EE ignores names (RFC 7671 §5.1), DANE-TA does not. */
let wrongName: IssuedCertificate;
let wrongServer: NodeTlsServer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-dane-openssl-'));
  ca = await TestCa.create({ organization: 'DANE Reference CA' });
  leaf = ca.issue({ dnsNames: [NAME] });
  caFile = join(work, 'ca.pem');
  await writeFile(caFile, pem(ca.certificate, 'CERTIFICATE'));
  // A trust store that trusts something else: PKIX validation of our chain fails.
  const stranger = await TestCa.create({ organization: 'Stranger CA' });
  emptyCaFile = join(work, 'stranger.pem');
  await writeFile(emptyCaFile, pem(stranger.certificate, 'CERTIFICATE'));
  server = await startNodeTlsServer({
    chainPem: chainPem(leaf.der, leaf.chain),
    keyPem: privateKeyPem(leaf.privateKey),
  });
  wrongName = ca.issue({ dnsNames: ['other.example.test'] });
  wrongServer = await startNodeTlsServer({
    chainPem: chainPem(wrongName.der, wrongName.chain),
    keyPem: privateKeyPem(wrongName.privateKey),
  });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await wrongServer?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

type Verdict = 'match' | 'no-match' | 'unusable';

/** OpenSSL's verdict: the handshake verifies, fails to, or no record could be loaded at all. */
function openssl(records: TlsaRecord[], trust: string, port = server.port): Promise<Verdict> {
  const args = [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    // RFC 7671 §5.1: DANE-EE(3) does not check names; s_client does unless told.
    '-dane_ee_no_namechecks',
    '-servername',
    NAME,
    '-CAfile',
    trust,
    '-dane_tlsa_domain',
    NAME,
    ...records.flatMap((r) => [
      '-dane_tlsa_rrdata',
      `${r.usage} ${r.selector} ${r.matchingType} ${Buffer.from(r.data).toString('hex')}`,
    ]),
    '-verify_return_error',
    '-brief',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (/Failed to import any TLSA records/.test(out)) resolve('unusable');
      else if (code === 0 && /Verification: OK/.test(out)) resolve('match');
      else if (/verify error|certificate verify failed/i.test(out)) resolve('no-match');
      else reject(new Error(`openssl s_client failed unexpectedly (${code}): ${out}`));
    });
  });
}

const verdictOf = (outcome: 'match' | 'mismatch' | 'no-usable-records'): Verdict =>
  outcome === 'match' ? 'match' : outcome === 'mismatch' ? 'no-match' : 'unusable';

const digest = (alg: 'sha256' | 'sha512', b: Uint8Array): Uint8Array =>
  new Uint8Array(createHash(alg).update(b).digest());

function record(usage: number, selector: number, matchingType: number, wrong = false): TlsaRecord {
  const ee = usage === 1 || usage === 3;
  const cert = ee ? leaf.der : ca.certificate;
  const spki = ee ? leaf.spki : ca.spki;
  const content = selector === 0 ? cert : spki;
  const data =
    matchingType === 0 ? new Uint8Array(content) : digest(matchingType === 1 ? 'sha256' : 'sha512', content);
  if (wrong) data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 0x01;
  return { usage, selector, matchingType, data };
}

const ALL = [0, 1, 2, 3].flatMap((usage) =>
  [0, 1].flatMap((selector) => [0, 1, 2].map((matchingType) => ({ usage, selector, matchingType }))),
);

describe('matchTlsa agrees with OpenSSL DANE on a real handshake', () => {
  it('every usage × selector × matching type, right and wrong data, trusted and untrusted chain', async () => {
    const cases = ALL.flatMap((c) => [
      { ...c, wrong: false, trusted: true },
      { ...c, wrong: true, trusted: true },
      { ...c, wrong: false, trusted: false },
    ]);
    const rows: string[] = [];
    // A few at a time: the machine is shared.
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4);
      const verdicts = await Promise.all(
        batch.map(async (c) => {
          const r = record(c.usage, c.selector, c.matchingType, c.wrong);
          const ours = verdictOf(
            matchTlsa(
              [r],
              { chain: [leaf.der, ca.certificate], pkixValid: c.trusted, name: NAME },
              { smtp: false },
            ).outcome,
          );
          const theirs = await openssl([r], c.trusted ? caFile : emptyCaFile);
          return `${c.usage} ${c.selector} ${c.matchingType}${c.wrong ? ' wrong' : ''}${c.trusted ? '' : ' untrusted'}: ours ${ours} openssl ${theirs}`;
        }),
      );
      rows.push(...verdicts);
    }
    const disagreements = rows.filter((row) => {
      const m = /ours ([\w-]+) openssl ([\w-]+)/.exec(row);
      return m?.[1] !== m?.[2];
    });
    expect(disagreements, rows.join('\n')).toEqual([]);
    // And the table is not trivially "everything fails": the right data matches somewhere.
    expect(rows.filter((r) => r.endsWith('ours match openssl match')).length).toBeGreaterThanOrEqual(24);
  }, 120_000);

  it.each([
    [3, 'matches: DANE-EE ignores the name'],
    [2, 'does not match: DANE-TA needs the name'],
  ])('a leaf for another name, %i 1 1: %s (RFC 7671 §5.1, §5.2)', async (usage) => {
    const ee = usage === 3;
    const spki = ee ? wrongName.spki : ca.spki;
    const r: TlsaRecord = { usage, selector: 1, matchingType: 1, data: digest('sha256', spki) };
    const ours = verdictOf(
      matchTlsa([r], { chain: [wrongName.der, ca.certificate], pkixValid: true, name: NAME }, { smtp: false })
        .outcome,
    );
    const theirs = await openssl([r], caFile, wrongServer.port);
    expect({ ours, openssl: theirs }).toEqual(
      ee ? { ours: 'match', openssl: 'match' } : { ours: 'no-match', openssl: 'no-match' },
    );
  });

  it('digest agility (RFC 7671 §9): a wrong SHA2-512 beside a right SHA2-256 record', async () => {
    const records = [record(3, 1, 2, true), record(3, 1, 1)];
    const ours = verdictOf(
      matchTlsa(records, { chain: [leaf.der, ca.certificate], pkixValid: true, name: NAME }, { smtp: false })
        .outcome,
    );
    expect({ ours, openssl: await openssl(records, caFile) }).toEqual({
      ours: 'no-match',
      openssl: 'no-match',
    });
  });
});
