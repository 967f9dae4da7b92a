/**
 * A TLS-terminating proxy in front of a server: Debian's nginx with its stream module, listening
 * with its own TLS stack on `listenPort` and speaking TLS to the real server behind it. This is
 * what an interceptor at a hosting provider runs (jabber.ru, 2023: a box terminating TLS for the
 * XMPP ports with its own certificate, relaying to the real server) — and why the JARM of those
 * ports changes while the others keep theirs.
 *
 * nginx runs in the foreground (`daemon off`) as our child, from a private prefix directory, with
 * one worker; `stop()` (or the exit handlers of processes.ts) kills it and removes the directory.
 * Needs the Debian packages `nginx` and `libnginx-mod-stream`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Daemon, installExitHandlers, trackWorkDir, untrackWorkDir } from './processes.js';

const NGINX = '/usr/sbin/nginx';
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

export interface NginxTlsProxy {
  port: number;
  stop(): Promise<void>;
  describeLogs(): string;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNginxTlsProxy(options: {
  listenPort: number;
  backendPort: number;
  certPem: string;
  keyPem: string;
}): Promise<NginxTlsProxy> {
  if (!existsSync(NGINX) || !existsSync(STREAM_MODULE))
    throw new Error(
      'nginx with its stream module is missing: install the Debian packages nginx libnginx-mod-stream',
    );
  installExitHandlers();
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-nginx-'));
  trackWorkDir(dir);
  await writeFile(join(dir, 'cert.pem'), options.certPem);
  await writeFile(join(dir, 'key.pem'), options.keyPem, { mode: 0o600 });
  const conf = [
    `load_module ${STREAM_MODULE};`,
    'worker_processes 1;',
    'daemon off;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} info;`,
    'events { worker_connections 256; }',
    'stream {',
    '  server {',
    `    listen 127.0.0.1:${options.listenPort} ssl;`,
    `    ssl_certificate ${join(dir, 'cert.pem')};`,
    `    ssl_certificate_key ${join(dir, 'key.pem')};`,
    `    proxy_pass 127.0.0.1:${options.backendPort};`,
    '    proxy_ssl on;',
    '  }',
    '}',
    '',
  ].join('\n');
  await writeFile(join(dir, 'nginx.conf'), conf);
  const daemon = new Daemon(
    'nginx',
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf')],
    dir,
    join(dir, 'output.log'),
    join(dir, 'error.log'),
  );
  const stop = async (): Promise<void> => {
    await daemon.stop();
    untrackWorkDir(dir);
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (!daemon.running) break;
    if (await accepts(options.listenPort))
      return { port: options.listenPort, stop, describeLogs: () => daemon.describeLogs() };
    await sleep(25);
  }
  const logs = daemon.describeLogs();
  await stop();
  throw new Error(`nginx did not start:\n${logs}`);
}
