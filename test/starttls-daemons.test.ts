/**
 * `negotiateStartTls` against the real servers of test/harness/tls-daemons.ts (Postfix, Dovecot,
 * Prosody, slapd, vsftpd, PostgreSQL): after the dialogue, `tls.connect` on the same socket must
 * complete a handshake and see exactly the certificate the daemon was configured with. That proves
 * both that the dialogue is what the server expects and that the socket was handed over at the
 * right byte (no greeting left unread, nothing of the handshake swallowed).
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiateStartTls } from '../src/probe/index.js';
import type { StartTlsProtocol } from '../src/probe/index.js';
import { LOOPBACK, runTool } from './harness/processes.js';
import {
  startDovecot,
  startPostgresTls,
  startProsody,
  startSlapd,
  startSmtpDaemon,
  startVsftpd,
} from './harness/tls-daemons.js';
import type { TlsDaemon, TlsDaemonOptions } from './harness/tls-daemons.js';

const HOSTNAME = 'mail.example.test';

interface Handshake {
  fingerprint256: string;
  lines: string[];
}

/** net.connect, the STARTTLS dialogue, then a TLS handshake on the same socket. */
async function upgrade(port: number, protocol: StartTlsProtocol): Promise<Handshake> {
  const socket = net.connect({ host: LOOPBACK, port });
  socket.on('error', () => undefined); // reported through negotiateStartTls / tls.connect
  try {
    const transcript = await negotiateStartTls(socket, protocol, { domain: HOSTNAME, timeoutMs: 5_000 });
    const secure = tls.connect({ socket, servername: HOSTNAME, rejectUnauthorized: false });
    try {
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve);
        secure.once('error', reject);
      });
      return {
        fingerprint256: secure.getPeerX509Certificate()?.fingerprint256 ?? '',
        lines: transcript.lines,
      };
    } finally {
      secure.destroy();
    }
  } finally {
    socket.destroy();
  }
}

describe('STARTTLS against real daemons', () => {
  let certDir: string;
  let keyPair: TlsDaemonOptions;
  let fingerprint: string;
  const servers: Partial<{
    smtp: TlsDaemon<'smtp' | 'submission'>;
    dovecot: TlsDaemon<'imap' | 'pop3' | 'sieve'>;
    prosody: TlsDaemon<'xmpp' | 'xmppServer'>;
    slapd: TlsDaemon<'ldap'>;
    vsftpd: TlsDaemon<'ftp'>;
    postgres: TlsDaemon<'postgres'>;
  }> = {};

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'certvigil-starttls-cert-'));
    await runTool(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${HOSTNAME}`,
        '-addext',
        `subjectAltName=DNS:${HOSTNAME}`,
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
      ],
      certDir,
    );
    keyPair = {
      certPem: await readFile(join(certDir, 'cert.pem'), 'utf8'),
      keyPem: await readFile(join(certDir, 'key.pem'), 'utf8'),
      hostname: HOSTNAME,
    };
    fingerprint = new X509Certificate(keyPair.certPem).fingerprint256;
    // In parallel: each start is mostly waiting for a daemon to come up.
    const started = await Promise.allSettled([
      startSmtpDaemon(keyPair).then((s) => (servers.smtp = s)),
      startDovecot(keyPair).then((s) => (servers.dovecot = s)),
      startProsody(keyPair).then((s) => (servers.prosody = s)),
      startSlapd(keyPair).then((s) => (servers.slapd = s)),
      startVsftpd(keyPair).then((s) => (servers.vsftpd = s)),
      startPostgresTls(keyPair).then((s) => (servers.postgres = s)),
    ]);
    const failures = started.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    if (failures.length > 0) throw new Error(`daemons failed to start:\n${failures.join('\n\n')}`);
  });

  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    if (certDir !== undefined) await rm(certDir, { recursive: true, force: true });
  });

  const cases: [StartTlsProtocol, () => number | undefined][] = [
    ['smtp', () => servers.smtp?.ports.smtp],
    ['submission', () => servers.smtp?.ports.submission],
    ['imap', () => servers.dovecot?.ports.imap],
    ['pop3', () => servers.dovecot?.ports.pop3],
    ['sieve', () => servers.dovecot?.ports.sieve],
    ['xmpp', () => servers.prosody?.ports.xmpp],
    ['xmpp-server', () => servers.prosody?.ports.xmppServer],
    ['ldap', () => servers.slapd?.ports.ldap],
    ['ftp', () => servers.vsftpd?.ports.ftp],
    ['postgres', () => servers.postgres?.ports.postgres],
  ];

  it.each(cases)(
    '%s: the handshake after STARTTLS presents the configured certificate',
    async (protocol, port) => {
      const p = port();
      expect(p, 'daemon started').toBeTypeOf('number');
      const result = await upgrade(p ?? 0, protocol);
      expect(result.fingerprint256).toBe(fingerprint);
      expect(result.lines.length).toBeGreaterThan(0);
    },
  );
});
