/**
 * `certvigil check endpoint --dane` end to end: the built binary, a Node TLS server on loopback,
 * and a real DNS stack (test/harness/dns-stack.ts): Knot serving a DNSSEC-signed caa.test. with
 * TLSA records for the server's port, Unbound validating it from its trust anchor. The cases of
 * RFC 6698/7671 a monitor must tell apart: matching `3 1 1` and `2 0 1` records (OK, INFO
 * dane-match), a stale record (CRITICAL dane-mismatch), no record in the signed zone (CRITICAL
 * dane-no-records), records in an unsigned zone (WARNING dane-insecure), a zone with expired
 * signatures (SERVFAIL: CRITICAL dane-bogus), and the YAML key of `check endpoints`.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';
import { buildLogList, TestCa } from './fixtures/ct-log/index.js';
import { chainPem, pem, privateKeyPem, startNodeTlsServer } from './fixtures/tls/index.js';
import type { NodeTlsServer } from './fixtures/tls/index.js';
import { startDnsStack } from './harness/dns-stack.js';
import type { DnsStack } from './harness/dns-stack.js';
import { startSmtpDaemon } from './harness/tls-daemons.js';
import type { TlsDaemon } from './harness/tls-daemons.js';

const NAMES = [
  'dane.caa.test',
  'ta.caa.test',
  'stale.caa.test',
  'none.caa.test',
  'insecure.test',
  'www.expired.signed.caa.test',
  'www.missing.signed.caa.test',
];
const MX = 'mx.caa.test';
const MX_PKIX = 'mx-pkix.caa.test';

let work: string;
let caFile: string;
let logList: string;
let server: NodeTlsServer;
let dns: DnsStack;
let port: number;
let postfix: TlsDaemon<'smtp' | 'submission'>;

const hex = (alg: 'sha256' | 'sha512', b: Uint8Array): string => createHash(alg).update(b).digest('hex');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-dane-'));
  const ca = await TestCa.create({ organization: 'DANE Test CA' });
  const leaf = ca.issue({ dnsNames: NAMES });
  caFile = join(work, 'ca.pem');
  await writeFile(caFile, pem(ca.certificate, 'CERTIFICATE'));
  logList = join(work, 'log-list.json');
  await writeFile(logList, JSON.stringify(buildLogList([])));
  // The leaf and the CA: DANE-TA needs the trust anchor in the served chain (RFC 7671 §5.2).
  server = await startNodeTlsServer({
    chainPem: chainPem(leaf.der, leaf.chain),
    keyPem: privateKeyPem(leaf.privateKey),
  });
  port = server.port;
  // An MX with a certificate of a CA nobody trusts (RFC 7672 §1.3: the common case for SMTP).
  const privateCa = await TestCa.create({ organization: 'Private MX CA' });
  const mxCert = privateCa.issue({ dnsNames: [MX, MX_PKIX] });
  postfix = await startSmtpDaemon({
    certPem: chainPem(mxCert.der, mxCert.chain),
    keyPem: privateKeyPem(mxCert.privateKey),
    hostname: MX,
  });
  const smtp = postfix.ports.smtp;
  const other = ca.issue({ dnsNames: ['stale.caa.test'] });
  dns = await startDnsStack({
    extraRecords: [
      `_${port}._tcp.dane TLSA 3 1 1 ${hex('sha256', leaf.spki)}`,
      `_${port}._tcp.ta TLSA 2 0 1 ${hex('sha256', ca.certificate)}`,
      // The previous certificate's key: the record was not updated at a key rollover.
      `_${port}._tcp.stale TLSA 3 1 1 ${hex('sha256', other.spki)}`,
      `_${port}._tcp.stale TLSA 3 1 2 ${hex('sha512', other.spki)}`,
      `_${smtp}._tcp.mx TLSA 3 1 1 ${hex('sha256', mxCert.spki)}`,
      `_${smtp}._tcp.mx-pkix TLSA 1 1 1 ${hex('sha256', mxCert.spki)}`,
    ],
    insecureRecords: [`_${port}._tcp.insecure TLSA 3 1 1 ${hex('sha256', leaf.spki)}`],
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await postfix?.stop();
  await dns?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Result {
  status: string;
  findings: { id: string; severity: string; message: string; address: string }[];
}

const common = (): string[] => [
  '--connect-to',
  '127.0.0.1',
  '--resolver',
  `${dns.resolver.host}:${dns.resolver.port}`,
  '--ca-file',
  caFile,
  '--log-list',
  logList,
  '--ct-policy',
  'none',
  '--no-ct-proof',
  '-t',
  '10',
];

const RANK: Record<string, number> = { ok: 0, info: 0, warning: 1, critical: 2, unknown: 3 };

/**
 * The exit status without the CT findings. A private CA's endpoint without logs is WARNING
 * ct-unchecked on code that predates issue 14's "CT only where it applies", OK after it: the DANE
 * verdict must not depend on that, so the statuses here are judged with CT set aside.
 */
function exitWithoutCt(result: Result): number {
  const ranks = result.findings.filter((f) => !/^s?ct-/.test(f.id)).map((f) => RANK[f.severity] ?? 3);
  return Math.max(0, ...ranks);
}

async function check(host: string, extra: string[] = ['--dane']) {
  const text = await runCli(['check', 'endpoint', `${host}:${port}`, ...common(), ...extra]);
  const json = await runCli(['check', 'endpoint', `${host}:${port}`, ...common(), ...extra, '--json']);
  const [result] = jsonLines(json.stdout) as unknown as Result[];
  if (!result) throw new Error(`no JSON: ${json.stdout}${json.stderr}`);
  const dane = result.findings.filter((f) => f.id.startsWith('dane-'));
  // The text and JSON forms agree, and CT adds at most a WARNING (ct-unchecked) to the DANE verdict.
  const ctRank = Math.max(
    0,
    ...result.findings.filter((f) => /^s?ct-/.test(f.id)).map((f) => RANK[f.severity] ?? 3),
  );
  expect(ctRank).toBeLessThanOrEqual(1);
  expect(text.code).toBe(json.code);
  expect(json.code).toBe(Math.max(ctRank, exitWithoutCt(result)));
  return { text, code: exitWithoutCt(result), exit: json.code, result, dane };
}

describe('check endpoint --dane against a DNSSEC-signed zone (Knot + validating Unbound)', () => {
  it('3 1 1 matching the leaf key: OK, INFO dane-match naming the record', async () => {
    const r = await check('dane.caa.test');
    expect(r.code, r.text.stdout).toBe(0);
    expect(r.dane.map((f) => [f.id, f.severity])).toEqual([['dane-match', 'info']]);
    expect(r.dane[0]?.message).toMatch(
      new RegExp(
        `^TLSA 3 1 1 [0-9a-f]{16}… \\(DANE-EE SPKI SHA2-256\\) at _${port}\\._tcp\\.dane\\.caa\\.test matches the leaf$`,
      ),
    );
    expect(r.text.stdout).toContain('[INFO] 127.0.0.1: dane-match: TLSA 3 1 1');
  });

  it('2 0 1 matching the CA certificate in the served chain: OK, dane-match names the CA', async () => {
    const r = await check('ta.caa.test');
    expect(r.code).toBe(0);
    expect(r.dane.map((f) => f.id)).toEqual(['dane-match']);
    expect(r.dane[0]?.message).toMatch(
      /2 0 1 .*\(DANE-TA Cert SHA2-256\).*matches chain\[1\] .*DANE Test CA/,
    );
  });

  it('a stale record (the previous key): CRITICAL dane-mismatch, exit 2, with the hash to publish', async () => {
    const r = await check('stale.caa.test');
    expect(r.code).toBe(2);
    expect(r.exit).toBe(2);
    expect(r.dane.map((f) => [f.id, f.severity])).toEqual([
      ['dane-records-ignored', 'info'],
      ['dane-mismatch', 'critical'],
    ]);
    expect(r.text.stdout).toMatch(
      /^CERTVIGIL CRITICAL - .*no TLSA record at _\d+\._tcp\.stale\.caa\.test matches/,
    );
  });

  it('no TLSA record in the signed zone (validated denial): CRITICAL dane-no-records', async () => {
    const r = await check('none.caa.test');
    expect(r.code).toBe(2);
    expect(r.dane.map((f) => [f.id, f.severity, f.address])).toEqual([['dane-no-records', 'critical', '*']]);
  });

  it('a record in an unsigned zone (no AD): WARNING dane-insecure, never a match', async () => {
    const r = await check('insecure.test');
    expect(r.code).toBe(1);
    expect(r.dane.map((f) => [f.id, f.severity])).toEqual([['dane-insecure', 'warning']]);
    expect(r.dane[0]?.message).toMatch(/1 TLSA record\(s\) .* not DNSSEC-validated/);
  });

  it.each([
    ['signatures that expired in 2020', 'www.expired.signed.caa.test'],
    ['a DS in the parent but an unsigned child (broken chain of trust)', 'www.missing.signed.caa.test'],
  ])('bogus, %s: SERVFAIL → CRITICAL dane-bogus with the EDE', async (_why, host) => {
    const r = await check(host);
    expect(r.code).toBe(2);
    expect(r.exit).toBe(2);
    expect(r.dane.map((f) => [f.id, f.severity])).toEqual([['dane-bogus', 'critical']]);
    expect(r.dane[0]?.message).toMatch(/SERVFAIL \(EDE \d+ /);
  });

  it('a resolver that never answers: UNKNOWN dane-lookup-failed, within the -t deadline', async () => {
    const started = Date.now();
    const args = common().map((a) =>
      a === `${dns.resolver.host}:${dns.resolver.port}` ? `${dns.blackhole.host}:${dns.blackhole.port}` : a,
    );
    const r = await runCli([
      'check',
      'endpoint',
      `dane.caa.test:${port}`,
      ...args.slice(0, -2),
      '-t',
      '1',
      '--dane',
      '--json',
    ]);
    const [result] = jsonLines(r.stdout) as unknown as Result[];
    expect(result?.findings.filter((f) => f.id.startsWith('dane-')).map((f) => [f.id, f.severity])).toEqual([
      ['dane-lookup-failed', 'unknown'],
    ]);
    expect(r.code).toBe(3);
    // -t 1 bounds the lookup itself (not only the plugin's -t + 2 s hard limit); plus process start-up.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('without --dane nothing about DANE is said', async () => {
    const r = await check('stale.caa.test', []);
    expect(r.code).toBe(0);
    expect(r.dane).toEqual([]);
  });

  it('--dane with an address and no --sni: UNKNOWN usage error, nothing probed', async () => {
    const r = await runCli(['check', 'endpoint', `127.0.0.1:${port}`, ...common(), '--dane']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^CERTVIGIL UNKNOWN - --dane needs a host name/);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an address with --sni NAME: the TLSA base domain is the SNI name', async () => {
    const r = await runCli([
      'check',
      'endpoint',
      `127.0.0.1:${port}`,
      ...common(),
      '--sni',
      'dane.caa.test',
      '--dane',
    ]);
    expect(r.code, r.stdout).toBeLessThan(2);
    expect(r.stdout).toContain(`_${port}._tcp.dane.caa.test matches the leaf`);
    expect(r.stdout).not.toMatch(/\[(WARNING|CRITICAL|UNKNOWN)\] [^:]+: dane-/);
  });
});

describe('check endpoint --starttls smtp --dane against Postfix (RFC 7672)', () => {
  const smtpCheck = async (host: string, dane: boolean) => {
    const args = ['check', 'endpoint', `${host}:${postfix.ports.smtp}`, '--starttls', 'smtp', ...common()];
    const r = await runCli([...args, ...(dane ? ['--dane'] : []), '--json']);
    const [result] = jsonLines(r.stdout) as unknown as Result[];
    if (!result) throw new Error(`no JSON: ${r.stdout}${r.stderr}\n${postfix.describeLogs()}`);
    return { code: exitWithoutCt(result), result, ids: result.findings.map((f) => `${f.id}:${f.severity}`) };
  };

  it('an MX whose CA nobody trusts: CRITICAL chain-untrusted without DANE, OK with a matching 3 1 1', async () => {
    const plain = await smtpCheck(MX, false);
    expect(plain.code).toBe(2);
    expect(plain.ids).toContain('chain-untrusted:critical');
    const dane = await smtpCheck(MX, true);
    expect(dane.code, dane.ids.join()).toBe(0);
    expect(dane.ids).toEqual(expect.arrayContaining(['dane-match:info', 'chain-untrusted:info']));
    expect(dane.result.findings.find((f) => f.id === 'chain-untrusted')?.message).toMatch(
      /authenticated by DANE \(DANE-EE, RFC 7671 §5\.1\)/,
    );
  });

  it('only a PKIX-EE (1 1 1) record: unusable for SMTP (RFC 7672 §3.1.3) → CRITICAL dane-unusable', async () => {
    const r = await smtpCheck(MX_PKIX, true);
    expect(r.code).toBe(2);
    expect(r.ids).toEqual(expect.arrayContaining(['dane-unusable:critical', 'chain-untrusted:critical']));
    expect(r.result.findings.find((f) => f.id === 'dane-unusable')?.message).toMatch(/RFC 7672 §3\.1\.3/);
  });
});

describe('check endpoints: the dane key', () => {
  it('checks each entry with dane: true, and rejects a non-boolean value before anything runs', async () => {
    const config = join(work, 'endpoints.yaml');
    const base = `resolver: ["${dns.resolver.host}:${dns.resolver.port}"]\nlogList: ${logList}\n`;
    const entry = (host: string) =>
      `  - { target: "${host}:${port}", connectTo: [127.0.0.1], caFile: ${caFile}, ctPolicy: none, ctProof: false, dane: true }\n`;
    await writeFile(config, `${base}endpoints:\n${entry('dane.caa.test')}${entry('stale.caa.test')}`);
    const r = await runCli(['check', 'endpoints', '--config', config, '--json']);
    const results = jsonLines(r.stdout) as unknown as Result[];
    expect(results.map(exitWithoutCt)).toEqual([0, 2]);
    expect(results[0]?.findings.map((f) => f.id)).toContain('dane-match');
    expect(results[1]?.findings.map((f) => f.id)).toContain('dane-mismatch');
    expect(r.code).toBe(2);

    const before = await readdir(work);
    await writeFile(config, `${base}endpoints:\n  - { target: "dane.caa.test:${port}", dane: "yes" }\n`);
    const bad = await runCli(['check', 'endpoints', '--config', config]);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/^CERTVIGIL UNKNOWN - .*endpoints\.0\.dane: /);
    expect(await readdir(work)).toEqual(before);
  });
});
