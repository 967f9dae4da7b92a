/**
 * @module cli/lab/daemon
 * A certvigil daemon of the lab world (the owner's `iodef serve`), run as the user would run it:
 * the binary in a child process, on a loopback port chosen free beforehand, stopped with SIGTERM.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { displayCommand, selfArgv } from './run-certvigil.js';

/** A loopback port that was free a moment ago (the daemon binds it right after). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface LabDaemon {
  display: string;
  /** What the daemon printed on stdout/stderr so far (bounded), for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

const MAX_KEPT_OUTPUT = 64 * 1024;

/** Starts `certvigil ARGS` and waits until host:port accepts connections (or the child exits). */
export async function startDaemon(
  args: string[],
  host: string,
  port: number,
  timeoutMs = 15_000,
): Promise<LabDaemon> {
  const [node, script] = selfArgv() as [string, string];
  const child: ChildProcess = spawn(node, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', CERTVIGIL_LOG_LEVEL: 'warn' },
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    if (output.length < MAX_KEPT_OUTPUT) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  const daemon: LabDaemon = {
    display: displayCommand(args),
    output: () => output,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await accepts(host, port)) return daemon;
    await new Promise((r) => setTimeout(r, 100));
  }
  await daemon.stop();
  const first = output.split('\n').find((l) => l.trim() !== '') ?? 'no output';
  throw new Error(`${daemon.display} did not start listening on ${host}:${port}: ${first}`);
}
