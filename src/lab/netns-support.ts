/**
 * @module lab/netns-support
 * Whether this machine can build the lab's network namespaces, in plain words, and the small
 * command runners netns.ts uses. Never throws: `certvigil lab` runs everywhere, and where the
 * namespaces cannot be built it reports the traceroute detector as not expected, with this reason.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { LabError } from './errors.js';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type NamespaceSupport = { ok: true } | { ok: false; reason: string };

/** Runs a command on the host, resolving with its exit code and output; never rejects. */
export function run(argv: string[], timeoutMs = 15_000): Promise<ExecResult> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.resolve({ code: null, stdout: '', stderr: 'empty argv' });
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err === null) {
        resolve({ code: 0, stdout, stderr });
        return;
      }
      const code = typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr: stderr || err.message });
    });
  });
}

/** Like `run`, but throws LAB_START_FAILED with the command line and its stderr (setup steps). */
export async function must(argv: string[]): Promise<string> {
  const result = await run(argv);
  if (result.code !== 0)
    throw new LabError(
      'LAB_START_FAILED',
      `${argv.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`,
    );
  return result.stdout;
}

/**
 * Whether this machine can build the topology: Linux with network namespaces in the kernel, root
 * (CAP_SYS_ADMIN and CAP_NET_ADMIN), `ip` from iproute2, `traceroute` (Debian's package of that
 * name, for `traceroute -T`; skip with `traceroute: false`), and a namespace and a veth pair can
 * really be created (containers without those capabilities fail only there). The probe namespace
 * is deleted again at once; nothing of the host's network is touched.
 */
export async function namespacesSupported(options: { traceroute?: boolean } = {}): Promise<NamespaceSupport> {
  try {
    if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces need Linux' };
    if (!existsSync('/proc/self/ns/net'))
      return { ok: false, reason: 'this kernel has no network namespaces (/proc/self/ns/net missing)' };
    if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root' };
    const version = await run(['ip', '-V']);
    if (version.code !== 0)
      return { ok: false, reason: `\`ip\` (Debian package iproute2) missing: ${version.stderr.trim()}` };
    if (options.traceroute !== false) {
      const traceroute = await run(['traceroute', '-V']);
      if (traceroute.code !== 0)
        return {
          ok: false,
          reason: `\`traceroute\` (Debian package traceroute) missing: ${traceroute.stderr.trim()}`,
        };
    }
    const name = `cvprobe-${randomBytes(3).toString('hex')}`;
    const add = await run(['ip', 'netns', 'add', name]);
    if (add.code !== 0)
      return { ok: false, reason: `cannot create a network namespace: ${add.stderr.trim()}` };
    const veth = await run(['ip', '-n', name, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0']);
    await run(['ip', 'netns', 'del', name]);
    if (veth.code !== 0) return { ok: false, reason: `cannot create a veth pair: ${veth.stderr.trim()}` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `cannot check for network namespaces: ${(err as Error).message}` };
  }
}
