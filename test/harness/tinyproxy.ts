/**
 * Debian's tinyproxy (1.11) on a loopback port, as the real HTTP proxy of the CONNECT tests
 * (`check endpoint --proxy http://…`, https_proxy/all_proxy). Foreground (`-d`), its own config and
 * log file in a temporary directory, retried on a port clash; `stop()` kills it and removes the
 * directory (the exit handlers of processes.ts do it if the test process dies first).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Daemon,
  LOOPBACK,
  findFreePort,
  installExitHandlers,
  tailFile,
  trackWorkDir,
  untrackWorkDir,
} from './processes.js';

export interface TinyproxyOptions {
  /** `ConnectPort` lines: CONNECT only to these ports (tinyproxy answers 403 otherwise). Default: all. */
  connectPorts?: number[];
  /** `BasicAuth USER PASS`: the proxy wants Proxy-Authorization (407 otherwise). */
  basicAuth?: { username: string; password: string };
}

export interface Tinyproxy {
  port: number;
  url: string;
  /** tinyproxy's log so far (it logs every CONNECT with its target). */
  log(): string;
  stop(): Promise<void>;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: LOOPBACK, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  installExitHandlers();
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-tinyproxy-'));
  trackWorkDir(dir);
  const logFile = join(dir, 'tinyproxy.log');
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await findFreePort();
    const conf = join(dir, `tinyproxy-${attempt}.conf`);
    await writeFile(
      conf,
      [
        `Port ${port}`,
        `Listen ${LOOPBACK}`,
        'Timeout 10',
        'LogLevel Info',
        `LogFile "${logFile}"`,
        `Allow ${LOOPBACK}`,
        'MaxClients 20',
        ...(options.connectPorts ?? []).map((p) => `ConnectPort ${p}`),
        ...(options.basicAuth
          ? [`BasicAuth ${options.basicAuth.username} ${options.basicAuth.password}`]
          : []),
        '',
      ].join('\n'),
    );
    const daemon = new Daemon('tinyproxy', 'tinyproxy', ['-d', '-c', conf], dir, join(dir, `out-${attempt}`));
    for (let i = 0; i < 100 && daemon.running; i++) {
      if (await accepts(port)) {
        return {
          port,
          url: `http://${LOOPBACK}:${port}`,
          log: () => tailFile(logFile, 1000),
          stop: async () => {
            await daemon.stop();
            await rm(dir, { recursive: true, force: true });
            untrackWorkDir(dir);
          },
        };
      }
      await sleep(50);
    }
    await daemon.stop(500);
  }
  const why = tailFile(logFile);
  await rm(dir, { recursive: true, force: true });
  untrackWorkDir(dir);
  throw new Error(`tinyproxy did not start (is the Debian package tinyproxy installed?):\n${why}`);
}
