/**
 * A real SMTP server on a loopback port for the mail tests: aiosmtpd (Debian package
 * python3-aiosmtpd), run as `python3 -m aiosmtpd -n -l 127.0.0.1:<port> -c
 * aiosmtpd.handlers.Mailbox <maildir>`, which accepts every message and stores it in a Maildir
 * (RFC-less but standard: written to tmp/, renamed into new/, so a file seen is a whole message).
 * aiosmtpd answers `250` only after the file is in place, so a message whose sending resolved
 * can be read back at once.
 *
 * With `tls: 'starttls'` the server offers STARTTLS and refuses mail without it (aiosmtpd's
 * `require_starttls` default); with `tls: 'implicit'` it speaks TLS from the first byte (SMTPS).
 * Both use a fresh self-signed certificate for localhost / 127.0.0.1 made with openssl.
 *
 * Needs Debian 12's python3-aiosmtpd (1.4.3) and openssl. The interpreter is /usr/bin/python3 on
 * purpose: a python3 earlier on PATH (pyenv, a virtualenv) does not see Debian's packages.
 * Everything lives in a temporary work directory that `stop()` (or the exit handlers and watchdog
 * of processes.ts, if the test process dies) removes, with the server.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import {
  Daemon,
  LOOPBACK,
  Watchdog,
  installExitHandlers,
  runTool,
  startWithPortRetry,
  trackWorkDir,
  untrackWorkDir,
} from './processes.js';
import { parseMessage } from './smtp-mime.js';
import type { ParsedMessage } from './smtp-mime.js';

export { parseMessage } from './smtp-mime.js';
export type { MimeHeaders, MimePart, ParsedMessage } from './smtp-mime.js';

export const PYTHON = '/usr/bin/python3';

export type SmtpTlsMode = 'none' | 'starttls' | 'implicit';

export interface SmtpServerOptions {
  /** Default 'none': plain SMTP, no STARTTLS offered. */
  tls?: SmtpTlsMode;
}

/** A delivered message as the Maildir holds it, parsed. */
export interface ReceivedMail extends ParsedMessage {
  /** The Maildir file. */
  file: string;
  raw: Buffer;
  /** The SMTP envelope, from the X-MailFrom / X-RcptTo headers aiosmtpd adds. */
  envelope: { mailFrom: string | undefined; rcptTo: string[] };
}

export interface SmtpServer {
  host: string;
  port: number;
  tls: SmtpTlsMode;
  /** The server's self-signed certificate (PEM) in the TLS modes. */
  certificatePem: string | undefined;
  workDir: string;
  /** Every message delivered so far, oldest first. */
  messages(): Promise<ReceivedMail[]>;
  /** Waits until at least `count` messages are there (default bound 10 s), then returns them all. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Kills the server and removes the work directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Bound for the server to greet after it was spawned. */
const READY_TIMEOUT_MS = 15_000;

class SmtpStartError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
    this.name = 'SmtpStartError';
  }
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpServer> {
  installExitHandlers();
  const mode = options.tls ?? 'none';
  const workDir = await mkdtemp(join(tmpdir(), 'certvigil-smtp-'));
  trackWorkDir(workDir);
  const watchdog = new Watchdog(workDir);
  const maildir = join(workDir, 'maildir');
  let daemon: Daemon | undefined;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await watchdog.release();
      await daemon?.stop();
      await rm(workDir, { recursive: true, force: true });
      untrackWorkDir(workDir);
    })());

  try {
    let certificatePem: string | undefined;
    const tlsArgs: string[] = [];
    if (mode !== 'none') {
      const cert = join(workDir, 'cert.pem');
      const key = join(workDir, 'key.pem');
      await runTool(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '2',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        workDir,
      );
      certificatePem = await readFile(cert, 'utf8');
      tlsArgs.push(
        ...(mode === 'starttls'
          ? ['--tlscert', cert, '--tlskey', key]
          : ['--smtpscert', cert, '--smtpskey', key]),
      );
    }

    const port = await startWithPortRetry(
      async (candidate) => {
        if (stopped !== undefined) throw new Error('SMTP server is stopping');
        const d = new Daemon(
          'aiosmtpd',
          PYTHON,
          // -n: never setuid to nobody (it would try when run as root, and fail otherwise).
          [
            '-m',
            'aiosmtpd',
            '-n',
            '-l',
            `${LOOPBACK}:${candidate}`,
            ...tlsArgs,
            '-c',
            'aiosmtpd.handlers.Mailbox',
            maildir,
          ],
          workDir,
          join(workDir, `aiosmtpd-${candidate}.out`),
        );
        daemon = d;
        if (d.pid > 0) watchdog.watch(d.pid);
        await waitForGreeting(d, candidate, mode === 'implicit');
        return candidate;
      },
      (err) => err instanceof SmtpStartError && err.portClash,
    );

    const messages = (): Promise<ReceivedMail[]> => readMaildir(maildir);
    return {
      host: LOOPBACK,
      port,
      tls: mode,
      certificatePem,
      workDir,
      messages,
      async waitForMessages(count: number, timeoutMs = 10_000): Promise<ReceivedMail[]> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const found = await messages();
          if (found.length >= count) return found;
          if (Date.now() >= deadline) {
            throw new Error(
              `expected ${count} message(s) in ${maildir}, found ${found.length} after ${timeoutMs} ms`,
            );
          }
          await sleep(25);
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls until the server sends its 220 greeting; fails early if the process exits. */
async function waitForGreeting(daemon: Daemon, port: number, implicitTls: boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let problem = 'no answer yet';
  while (daemon.running && Date.now() < deadline) {
    try {
      const greeting = await readGreeting(port, implicitTls, 1_000);
      if (greeting.startsWith('220')) return;
      problem = `unexpected greeting ${JSON.stringify(greeting)}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    await sleep(25);
  }
  const exited = !daemon.running;
  await daemon.stop();
  const logs = daemon.describeLogs();
  const hint = /No module named aiosmtpd|No such file/.test(logs)
    ? ' (install the Debian package python3-aiosmtpd)'
    : '';
  throw new SmtpStartError(
    `aiosmtpd on port ${port} ${exited ? 'exited during start-up' : `not ready after ${READY_TIMEOUT_MS} ms (${problem})`}${hint}\n${logs}`,
    exited && /address already in use|EADDRINUSE|Errno 98/i.test(logs),
  );
}

/** Connects, reads the first line the server sends, and says QUIT. */
function readGreeting(port: number, implicitTls: boolean, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket: net.Socket = implicitTls
      ? tls.connect({ host: LOOPBACK, port, rejectUnauthorized: false })
      : net.connect({ host: LOOPBACK, port });
    let data = '';
    const done = (err: Error | null, line?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(line ?? '');
    };
    const timer = setTimeout(() => done(new Error(`no greeting within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const eol = data.indexOf('\n');
      if (eol >= 0) {
        socket.write('QUIT\r\n');
        done(null, data.slice(0, eol).trim());
      }
    });
    socket.on('error', (err) => done(err));
    socket.on('close', () => done(new Error('closed before greeting')));
  });
}

async function readMaildir(maildir: string): Promise<ReceivedMail[]> {
  const files: { path: string; mtimeMs: number; name: string }[] = [];
  // new/ holds delivered, unread messages; cur/ is only used once a reader marks them seen.
  for (const sub of ['new', 'cur']) {
    let names: string[];
    try {
      names = await readdir(join(maildir, sub));
    } catch {
      continue; // no message yet: aiosmtpd creates the Maildir lazily
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(maildir, sub, name);
      files.push({ path, name, mtimeMs: (await stat(path)).mtimeMs });
    }
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
  return Promise.all(
    files.map(async ({ path }) => {
      const raw = await readFile(path);
      const parsed = parseMessage(raw);
      const rcpt = parsed.headers.get('x-rcptto');
      return {
        ...parsed,
        file: path,
        raw,
        envelope: {
          mailFrom: parsed.headers.get('x-mailfrom'),
          rcptTo: rcpt === undefined ? [] : rcpt.split(',').map((r) => r.trim()),
        },
      };
    }),
  );
}
