/**
 * @module lab/netns-cleanup
 * Cleanup of the lab's namespaces when their owner cannot do it: on process exit and signals, and
 * by a detached watchdog shell when the Node process dies without running any handler (SIGKILL, a
 * hard-killed test worker). Mirrors the `Watchdog` of test/harness/processes.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type net from 'node:net';

/** Namespaces created by this process and not yet destroyed, with the processes started in them. */
export const liveTopologies = new Map<string, { namespaces: string[]; children: Set<ChildProcess> }>();
let exitHandlersInstalled = false;

/** Synchronous last-resort cleanup: SIGKILL our children, then whatever is left, delete the namespaces. */
export function destroySync(namespaces: string[], children: Set<ChildProcess>): void {
  for (const child of children) child.kill('SIGKILL');
  for (const ns of namespaces) {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', ns], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    } catch {
      // namespace already gone
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already deleted
    }
  }
}

export function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  const cleanAll = (): void => {
    for (const { namespaces, children } of liveTopologies.values()) destroySync(namespaces, children);
    liveTopologies.clear();
  };
  process.on('exit', cleanAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/**
 * A detached `/bin/sh` that deletes the namespaces when its stdin closes without "release": the
 * Node process died without running any handler.
 */
export function startWatchdog(namespaces: string[]): ChildProcess {
  const script = [
    'while IFS= read -r line; do [ "$line" = release ] && exit 0; done',
    'for ns in "$@"; do',
    '  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done',
    '  ip netns del "$ns" 2>/dev/null',
    'done',
  ].join('\n');
  const child = spawn('/bin/sh', ['-c', script, 'netns-watchdog', ...namespaces], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.unref();
  const stdin = child.stdin as net.Socket | null;
  stdin?.unref();
  stdin?.on('error', () => undefined);
  return child;
}
