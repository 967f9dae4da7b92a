/**
 * `certvigil check endpoint --starttls PROTO` against real Debian daemons on loopback (Postfix,
 * Dovecot, Prosody, slapd, vsftpd, PostgreSQL; test/harness/tls-daemons.ts): the plugin negotiates
 * STARTTLS, reads the certificate the daemon was given, verifies its embedded SCT against a local
 * CT log and proves its inclusion — the whole external check through each protocol. A daemon
 * offering another certificate than the pinned one turns CRITICAL the same way as on port 443.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeCertificate } from '../src/x509/index.js';
import { jsonLines, runCli } from './cli-run.js';
import { sctList, startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer, IssuedCertificate } from './fixtures/ct-log/index.js';
import { chainPem, pem, privateKeyPem } from './fixtures/tls/index.js';
import {
  startDovecot,
  startPostgresTls,
  startProsody,
  startSlapd,
  startSmtpDaemon,
  startVsftpd,
} from './harness/tls-daemons.js';
import type { TlsDaemon } from './harness/tls-daemons.js';

const NAME = 'mail.example.test';
let work: string;
let logList: string;
let caFile: string;
let cert: IssuedCertificate;
let logServer: CtLogServer;
const daemons: TlsDaemon<string>[] = [];
const ports: Record<string, number> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-starttls-'));
  const ca = await TestCa.create({ organization: 'Vigil Test CA' });
  const log = new TestLog({ name: 'STARTTLS test log' });
  const pending = ca.issuePrecertificate({ dnsNames: [NAME] });
  const { sct } = log.addPrecertEntry(pending.precert.der, pending.issuerKeyHash, pending.tbsWithoutPoison, [
    ca.certificate,
  ]);
  const final = pending.finalize(sctList([sct]));
  cert = { ...final, privateKey: pending.precert.privateKey };
  log.publish();
  logServer = await startCtLogServer(log, { rfc6962Prefix: '/log/' });
  logList = join(work, 'loglist.json');
  await writeLogList(logList, [logServer]);
  caFile = join(work, 'ca.pem');
  await writeFile(caFile, pem(ca.certificate, 'CERTIFICATE'));

  const identity = {
    certPem: chainPem(cert.der, cert.chain),
    keyPem: privateKeyPem(cert.privateKey),
    hostname: NAME,
  };
  const started = await Promise.all([
    startSmtpDaemon(identity),
    startDovecot(identity),
    startProsody(identity),
    startSlapd(identity),
    startVsftpd(identity),
    startPostgresTls(identity),
  ]);
  for (const d of started) {
    daemons.push(d);
    Object.assign(ports, d.ports);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await logServer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const cases: [string, string][] = [
  ['smtp', 'smtp'],
  ['submission', 'submission'],
  ['imap', 'imap'],
  ['pop3', 'pop3'],
  ['sieve', 'sieve'],
  ['xmpp', 'xmpp'],
  ['xmpp-server', 'xmppServer'],
  ['ldap', 'ldap'],
  ['ftp', 'ftp'],
  ['postgres', 'postgres'],
];

describe('check endpoint --starttls against real daemons', () => {
  for (const [protocol, portKey] of cases) {
    it(`${protocol}: OK with the daemon's certificate, its SCT verified and its inclusion proved`, async () => {
      const port = ports[portKey];
      const pin = summarizeCertificate(cert.der).spkiSha256;
      const args = ['check', 'endpoint', `127.0.0.1:${String(port)}`, '--starttls', protocol, '--sni', NAME];
      const common = [
        '--ca-file',
        caFile,
        '--log-list',
        logList,
        '--ct-policy',
        'none',
        '--min-scts',
        '1',
        '--require-ct',
        '-t',
        '10',
      ];
      const r = await runCli([...args, ...common, '--pin', pin, '--json']);
      const [result] = jsonLines(r.stdout) as {
        status: string;
        findings: { id: string; severity: string }[];
      }[];
      expect(r.code, `${r.stdout}\n${r.stderr}\n${daemons.map((d) => d.describeLogs()).join('\n')}`).toBe(0);
      expect(result?.status).toBe('OK');
      const okIds = result?.findings.filter((f) => f.severity === 'ok').map((f) => f.id);
      expect(okIds).toEqual(
        expect.arrayContaining(['chain-trusted', 'name-match', 'pin-match', 'sct-valid', 'ct-logged']),
      );
      // The same endpoint with someone else's key pinned: CRITICAL, as an interception would be.
      const other = await runCli([...args, ...common, '--pin', 'ab'.repeat(32)]);
      expect(other.code).toBe(2);
      expect(other.stdout).toMatch(/^CERTVIGIL CRITICAL - .*matches none of 1 pin/);
    });
  }

  it('STARTTLS against a port that speaks another protocol: CRITICAL with the server’s words', async () => {
    const r = await runCli([
      'check',
      'endpoint',
      `127.0.0.1:${String(ports.imap)}`,
      '--starttls',
      'smtp',
      '--sni',
      NAME,
      '--ca-file',
      caFile,
      '--log-list',
      logList,
      '-t',
      '5',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^CERTVIGIL CRITICAL - .*SMTP/);
  });
});
