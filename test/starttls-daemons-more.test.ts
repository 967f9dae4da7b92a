/**
 * The STARTTLS dialogues of issue 14 against real servers on loopback: MariaDB (MySQL SSLRequest),
 * InspIRCd (IRC STARTTLS), Dovecot LMTP (RFC 2033), and the NNTP fixture (RFC 4642; inn2 cannot
 * be installed here, see test/fixtures/nntp-starttls-server.ts).
 *
 * 1. `negotiateStartTls` then `tls.connect` on the same socket sees exactly the configured
 *    certificate: the dialogue is what the server expects and the hand-over is at the right byte.
 * 2. `certvigil check endpoint --starttls PROTO` is OK with the daemon's certificate, its SCT
 *    verified and its inclusion proved; with another key pinned it is CRITICAL.
 * 3. The same through a real HTTP proxy (tinyproxy, via all_proxy): MariaDB speaks first, so its
 *    handshake can arrive in the same segment as the proxy's 200 and must not be lost.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiateStartTls } from '../src/probe/index.js';
import type { StartTlsProtocol } from '../src/probe/index.js';
import { summarizeCertificate } from '../src/x509/index.js';
import { jsonLines, runCli } from './cli-run.js';
import { sctList, startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer, IssuedCertificate } from './fixtures/ct-log/index.js';
import { startNntpStarttlsServer } from './fixtures/nntp-starttls-server.js';
import type { NntpServer } from './fixtures/nntp-starttls-server.js';
import { chainPem, pem, privateKeyPem } from './fixtures/tls/index.js';
import { LOOPBACK } from './harness/processes.js';
import { startTinyproxy } from './harness/tinyproxy.js';
import type { Tinyproxy } from './harness/tinyproxy.js';
import { startDovecotLmtp, startInspircd, startMariadb } from './harness/tls-daemons-more.js';
import type { TlsDaemon } from './harness/tls-daemons.js';

const NAME = 'mail.example.test';
const NO_PROXY_ENV = {
  https_proxy: '',
  HTTPS_PROXY: '',
  all_proxy: '',
  ALL_PROXY: '',
  no_proxy: '',
  NO_PROXY: '',
};
let work: string;
let logList: string;
let caFile: string;
let cert: IssuedCertificate;
let logServer: CtLogServer;
let nntp: NntpServer;
let proxy: Tinyproxy;
const daemons: TlsDaemon<string>[] = [];
const ports: Record<string, number> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-starttls-more-'));
  const ca = await TestCa.create({ organization: 'Vigil Test CA' });
  const log = new TestLog({ name: 'STARTTLS test log' });
  const pending = ca.issuePrecertificate({ dnsNames: [NAME] });
  const { sct } = log.addPrecertEntry(pending.precert.der, pending.issuerKeyHash, pending.tbsWithoutPoison, [
    ca.certificate,
  ]);
  cert = { ...pending.finalize(sctList([sct])), privateKey: pending.precert.privateKey };
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
  const started = await Promise.allSettled([
    startMariadb(identity),
    startInspircd(identity),
    startDovecotLmtp(identity),
  ]);
  for (const r of started) {
    if (r.status === 'fulfilled') {
      daemons.push(r.value);
      Object.assign(ports, r.value.ports);
    }
  }
  const failures = started.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  if (failures.length > 0) throw new Error(`daemons failed to start:\n${failures.join('\n\n')}`);
  nntp = await startNntpStarttlsServer(identity);
  ports.nntp = nntp.port;
  proxy = await startTinyproxy();
}, 120_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await nntp?.stop();
  await proxy?.stop();
  await logServer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const cases: StartTlsProtocol[] = ['mysql', 'irc', 'lmtp', 'nntp'];

/** net.connect, the STARTTLS dialogue, then a TLS handshake on the same socket. */
async function upgrade(
  port: number,
  protocol: StartTlsProtocol,
): Promise<{ fingerprint: string; lines: string[] }> {
  const socket = net.connect({ host: LOOPBACK, port });
  socket.on('error', () => undefined);
  try {
    const transcript = await negotiateStartTls(socket, protocol, { domain: NAME, timeoutMs: 5_000 });
    const secure = tls.connect({ socket, servername: NAME, rejectUnauthorized: false });
    try {
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      return { fingerprint: secure.getPeerX509Certificate()?.fingerprint256 ?? '', lines: transcript.lines };
    } finally {
      secure.destroy();
    }
  } finally {
    socket.destroy();
  }
}

describe('negotiateStartTls against real servers', () => {
  it.each(cases)('%s: the handshake after STARTTLS presents the configured certificate', async (protocol) => {
    const result = await upgrade(ports[protocol] ?? 0, protocol);
    expect(result.fingerprint).toBe(new X509Certificate(Buffer.from(cert.der)).fingerprint256);
    expect(result.lines.length).toBeGreaterThan(0);
  });
});

describe('check endpoint --starttls mysql|irc|lmtp|nntp', () => {
  // The test CA is private: --require-ct makes its SCTs and inclusion part of the check.
  const common = [
    '--ca-file',
    '',
    '--log-list',
    '',
    '--ct-policy',
    'none',
    '--min-scts',
    '1',
    '--require-ct',
    '-t',
    '10',
  ];
  const args = (protocol: string, port: number | undefined, ...extra: string[]) => {
    common[1] = caFile;
    common[3] = logList;
    return [
      'check',
      'endpoint',
      `127.0.0.1:${String(port)}`,
      '--starttls',
      protocol,
      '--sni',
      NAME,
      ...common,
      ...extra,
    ];
  };

  it.each(cases)(
    '%s: OK with the certificate pinned, SCT verified, inclusion proved; CRITICAL with another pin',
    async (protocol) => {
      const pin = summarizeCertificate(cert.der).spkiSha256;
      const r = await runCli(args(protocol, ports[protocol], '--pin', pin, '--json'), NO_PROXY_ENV);
      const [result] = jsonLines(r.stdout) as {
        status: string;
        findings: { id: string; severity: string }[];
      }[];
      expect(r.code, `${r.stdout}\n${r.stderr}\n${daemons.map((d) => d.describeLogs()).join('\n')}`).toBe(0);
      expect(result?.status).toBe('OK');
      expect(result?.findings.filter((f) => f.severity === 'ok').map((f) => f.id)).toEqual(
        expect.arrayContaining(['chain-trusted', 'name-match', 'pin-match', 'sct-valid', 'ct-logged']),
      );
      const other = await runCli(args(protocol, ports[protocol], '--pin', 'ab'.repeat(32)), NO_PROXY_ENV);
      expect(other.code).toBe(2);
    },
  );

  it.each(cases)(
    '%s: through tinyproxy (all_proxy; https_proxy does not apply to STARTTLS)',
    async (protocol) => {
      const connects = (): number =>
        proxy
          .log()
          .split('\n')
          .filter((l) => l.includes(`CONNECT 127.0.0.1:${ports[protocol]}`)).length;
      const before = connects();
      const r = await runCli(args(protocol, ports[protocol]), { ...NO_PROXY_ENV, all_proxy: proxy.url });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(connects() - before).toBeGreaterThanOrEqual(1);
      const ignored = await runCli(args(protocol, ports[protocol]), {
        ...NO_PROXY_ENV,
        https_proxy: 'http://127.0.0.1:1',
      });
      expect(ignored.code, ignored.stdout).toBe(0);
    },
  );

  it('the wrong protocol on a port is CRITICAL with a clear reason, not a hang', async () => {
    const r = await runCli(args('mysql', ports.irc, '-t', '3'), NO_PROXY_ENV);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /^CERTVIGIL CRITICAL - .*MySQL server at 127\.0\.0\.1:\d+ (did not send a MySQL handshake|did not complete)/,
    );
    const n = await runCli(args('nntp', ports.mysql, '-t', '3'), NO_PROXY_ENV);
    expect(n.code).toBe(2);
    expect(n.stdout).toMatch(/^CERTVIGIL CRITICAL - .*NNTP server at 127\.0\.0\.1:\d+ /);
  });
});
