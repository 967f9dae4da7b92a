/**
 * Process plumbing for the DNS test stack: free loopback ports, foreground daemons with captured
 * output, graceful-then-forced shutdown, and a watchdog that cleans up if the Node process dies
 * without running `stop()` (a vitest worker killed on a hook timeout, `kill -9`, ...).
 *
 * Linux only (it reads /proc), which is what CI and the developer machines run.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { appendFileSync, closeSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const LOOPBACK = '127.0.0.1';

/**
 * Returns a port that is free for both TCP and UDP on 127.0.0.1 right now. The kernel picks it (bind
 * to port 0); the port is released again before returning, so a daemon started afterwards can still
 * lose a race for it. Callers retry the daemon start on EADDRINUSE (see `startWithPortRetry`).
 */
export async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
        const address = server.address();
        if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
        else resolve(address.port);
      });
    });
    const udp = dgram.createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind({ address: LOOPBACK, port, exclusive: true }, () => resolve(true));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (udpFree) await new Promise<void>((resolve) => udp.close(() => resolve()));
    else udp.close();
    if (udpFree) return port;
  }
  throw new Error('could not find a loopback port free for both TCP and UDP');
}

/** Runs a command-line tool to completion; the error message carries its stderr. */
export async function runTool(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
    return stdout;
  } catch (cause) {
    const err = cause as NodeJS.ErrnoException & { stderr?: string };
    const hint =
      err.code === 'ENOENT' ? ' (not installed? see test/harness/dns-stack.ts for the packages)' : '';
    throw new Error(`${command} ${args.join(' ')} failed${hint}: ${err.stderr?.trim() || err.message}`, {
      cause,
    });
  }
}

/** The last `lines` lines of a text file, or a note that it could not be read. */
export function tailFile(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch (cause) {
    return `(cannot read ${path}: ${(cause as Error).message})`;
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A daemon running in the foreground as our child, its stdout and stderr going to `outputFile`. */
export class Daemon {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly cwd: string,
    readonly outputFile: string,
    /** Extra log file the daemon writes itself (Unbound, NSD); shown in errors next to the output. */
    readonly logFile?: string,
  ) {
    const fd = openSync(outputFile, 'a');
    try {
      this.child = spawn(command, args, { cwd, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd); // the child holds its own copy
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        liveDaemons.delete(this);
        resolve(this.exitInfo);
      });
      // spawn failures (ENOENT, EACCES) emit 'error' and possibly no 'exit'.
      this.child.once('error', (err) => {
        this.exitInfo ??= { code: null, signal: null };
        liveDaemons.delete(this);
        appendNote(outputFile, `spawn error: ${err.message}`);
        resolve(this.exitInfo);
      });
    });
    // A forgotten stop() must not keep the test process alive; the exit handlers then kill the daemon.
    this.child.unref();
    if (this.child.pid === undefined) {
      this.pid = -1;
    } else {
      this.pid = this.child.pid;
      liveDaemons.add(this);
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.pid > 0;
  }

  /** What went to the daemon's stdout/stderr and its own log file, for error messages. */
  describeLogs(lines = 30): string {
    const parts = [`--- ${this.name} output (${this.outputFile}) ---\n${tailFile(this.outputFile, lines)}`];
    if (this.logFile !== undefined)
      parts.push(`--- ${this.name} log (${this.logFile}) ---\n${tailFile(this.logFile, lines)}`);
    return parts.join('\n');
  }

  /** SIGTERM, then SIGKILL if the daemon has not exited after `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const exited = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!exited) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

function appendNote(file: string, note: string): void {
  try {
    appendFileSync(file, `\n[dns-stack] ${note}\n`);
  } catch {
    // best effort: the note only improves an error message
  }
}

/** Daemons started by this process and not yet exited: what the exit handlers kill. */
const liveDaemons = new Set<Daemon>();
/** Work directories of stacks not yet stopped: what the exit handler removes. */
const liveWorkDirs = new Set<string>();
let exitHandlersInstalled = false;

export function trackWorkDir(dir: string): void {
  liveWorkDirs.add(dir);
}
export function untrackWorkDir(dir: string): void {
  liveWorkDirs.delete(dir);
}

/**
 * Makes sure daemons die with this process. `exit` covers normal ends and `process.exit()`; the
 * signal handlers cover Ctrl-C and a vitest worker being terminated. SIGKILL cannot be caught: the
 * `Watchdog` covers that case.
 */
export function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  const killAll = (): void => {
    for (const daemon of liveDaemons) daemon.child.kill('SIGKILL');
    liveDaemons.clear();
    for (const dir of liveWorkDirs) rmSync(dir, { recursive: true, force: true });
    liveWorkDirs.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // We replaced the default action (exit) by listening; restore it unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * A `/bin/sh` process in its own session that reads daemon PIDs from a pipe. If the pipe closes
 * without a "release" line, the Node process died without cleaning up: the watchdog then kills the
 * daemons and removes the work directory. `stop()` sends "release" before stopping the daemons itself.
 */
export class Watchdog {
  private readonly child: ChildProcess;

  constructor(workDir: string) {
    const script = [
      'pids=""',
      'while IFS= read -r line; do',
      '  case "$line" in',
      '    "pid "*) pids="$pids ${line#pid }" ;;',
      '    release) exit 0 ;;',
      '  esac',
      'done',
      // EOF without release: our parent is gone. SIGTERM, up to 2 s of grace, then SIGKILL.
      'alive() { left=""; for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done; pids=$left; }',
      'if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null; fi',
      'i=0; alive',
      'while [ -n "$pids" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); alive; done',
      'if [ -n "$pids" ]; then kill -KILL $pids 2>/dev/null; fi',
      'rm -rf -- "$1"',
    ].join('\n');
    this.child = spawn('/bin/sh', ['-c', script, 'dns-stack-watchdog', workDir], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true, // own process group: a Ctrl-C aimed at vitest does not kill the watchdog first
    });
    // Neither the watchdog nor its pipe may keep the test process alive.
    this.child.unref();
    const stdin = this.child.stdin as net.Socket | null;
    stdin?.unref();
    stdin?.on('error', () => undefined); // EPIPE if the watchdog is gone; nothing to do
  }

  watch(pid: number): void {
    this.child.stdin?.write(`pid ${pid}\n`);
  }

  /** Tells the watchdog that we clean up ourselves, and waits (briefly) for it to exit. */
  async release(): Promise<void> {
    const stdin = this.child.stdin;
    if (stdin === null || stdin.destroyed || this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    stdin.end('release\n');
    await Promise.race([exited, sleep(1_000)]);
  }
}

/**
 * PIDs of processes whose command line mentions `needle` (e.g. a work directory that appears in
 * every daemon's config path). Used to prove that nothing outlives `stop()`, including the
 * children NSD forks.
 */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle)) found.push(pid);
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

/**
 * Starts something that needs a free port, retrying with a fresh port when the start fails because
 * the port was taken between `findFreePort()` and the daemon's bind (reported via `isPortClash`).
 */
export async function startWithPortRetry<T>(
  start: (port: number) => Promise<T>,
  isPortClash: (err: unknown) => boolean,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return await start(port);
    } catch (err) {
      if (attempt >= attempts || !isPortClash(err)) throw err;
    }
  }
}
