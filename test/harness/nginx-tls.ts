/**
 * Debian's nginx as a TLS web server with one or more certificates (`ssl_certificate` given
 * several times: an RSA and an ECDSA certificate, the dual-certificate setup of
 * check_ssl_cert #143 #164). nginx picks the certificate by what the client offers (OpenSSL's
 * certificate selection over signature_algorithms and cipher suites), which is what
 * `check endpoint --key-types` relies on.
 *
 * nginx runs in the foreground (`daemon off`) as our child from a private prefix directory with
 * one worker; `stop()` (or the exit handlers of processes.ts) kills it and removes the directory.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Daemon,
  LOOPBACK,
  findFreePort,
  installExitHandlers,
  trackWorkDir,
  untrackWorkDir,
} from './processes.js';

const NGINX = '/usr/sbin/nginx';

export interface NginxTlsServer {
  host: string;
  port: number;
  stop(): Promise<void>;
  describeLogs(): string;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: LOOPBACK, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** `certificates`: each a PEM chain (leaf first) and its key. */
export async function startNginxTlsServer(options: {
  certificates: { chainPem: string; keyPem: string }[];
}): Promise<NginxTlsServer> {
  if (!existsSync(NGINX)) throw new Error('nginx is missing: install the Debian package nginx');
  installExitHandlers();
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-nginx-tls-'));
  trackWorkDir(dir);
  const lines: string[] = [];
  for (const [i, c] of options.certificates.entries()) {
    await writeFile(join(dir, `cert${i}.pem`), c.chainPem);
    await writeFile(join(dir, `key${i}.pem`), c.keyPem, { mode: 0o600 });
    lines.push(
      `    ssl_certificate ${join(dir, `cert${i}.pem`)};`,
      `    ssl_certificate_key ${join(dir, `key${i}.pem`)};`,
    );
  }
  const stop = async (): Promise<void> => {
    await daemon?.stop();
    untrackWorkDir(dir);
    await rm(dir, { recursive: true, force: true });
  };
  let daemon: Daemon | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await findFreePort();
    const conf = [
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} info;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
      '  server {',
      `    listen ${LOOPBACK}:${port} ssl;`,
      '    ssl_protocols TLSv1.2 TLSv1.3;',
      ...lines,
      '    return 200 "ok\\n";',
      '  }',
      '}',
      '',
    ].join('\n');
    await writeFile(join(dir, 'nginx.conf'), conf);
    daemon = new Daemon(
      'nginx',
      NGINX,
      ['-p', dir, '-c', join(dir, 'nginx.conf')],
      dir,
      join(dir, `output-${port}.log`),
      join(dir, 'error.log'),
    );
    for (let i = 0; i < 200; i++) {
      if (!daemon.running) break;
      if (await accepts(port)) {
        const d = daemon;
        return { host: LOOPBACK, port, stop, describeLogs: () => d.describeLogs() };
      }
      await sleep(25);
    }
    const logs = daemon.describeLogs();
    await daemon.stop();
    if (!/address already in use/i.test(logs)) {
      await stop();
      throw new Error(`nginx did not start:\n${logs}`);
    }
  }
  await stop();
  throw new Error('nginx: no free port after 5 attempts');
}
