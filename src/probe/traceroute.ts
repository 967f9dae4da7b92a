/**
 * @module probe/traceroute
 * A TCP traceroute per destination port, typed: the path SYNs to `host:port` take, hop by hop.
 *
 * Why per port: in the jabber.ru interception (2023) an extra box was visible in a TCP traceroute to
 * the XMPP ports (5222/5269) but not to 443, because the interception was policy-routed by port.
 * `lastHops()` keeps the part of the path such a detour changes, so `mitm learn` can store it and
 * `check mitm` can compare it later.
 *
 * How: Node has no raw sockets, so this wraps Debian's `traceroute` (package `traceroute`, "Modern
 * traceroute for Linux" 2.1.x) with `-T` (TCP SYN probes) and `-n` (numeric output), spawned with
 * an argument array (never a shell), a hard timeout and a kill on abort.
 *
 * Privilege: `-T` sends raw packets, so it needs root or CAP_NET_RAW on the binary
 * (`setcap cap_net_raw+ep /usr/sbin/traceroute`). Without it traceroute prints "You do not have
 * enough privileges to use this traceroute method." and exits 1: that becomes a `TRACE_PRIVILEGE`
 * error saying so. `options.netns` runs the tool inside a network namespace through
 * `ip netns exec`, which needs root itself (used by the namespace tests).
 */
import { spawn } from 'node:child_process';
import { isIP } from 'node:net';
import { CertvigilError } from '../errors.js';
import type { LastHops, TraceHop, TraceResult } from './mitm-types.js';

export interface TraceOptions {
  /** Destination TCP port (`-p`). */
  port: number;
  /** Address family (`-4`/`-6`); default: the target's if it is an address, else traceroute's choice. */
  family?: 4 | 6;
  /** Probes per TTL (`-q`), 1..10; default 3. */
  probesPerHop?: number;
  /** Seconds to wait for a probe's answer (`-w`), > 0; default 1. */
  waitSeconds?: number;
  /** Highest TTL (`-m`), 1..255; default 30. */
  maxTtl?: number;
  /** First TTL (`-f`), 1..maxTtl; default 1. */
  firstTtl?: number;
  /** Hard limit for the whole run, in ms; default 60 000. The process is killed when it passes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The traceroute binary; default `traceroute` on PATH. */
  binary?: string;
  /** Run inside this network namespace (`ip netns exec NS traceroute …`; needs root). */
  netns?: string;
}

/** A hop as parsed, with the `!H`-style annotations traceroute printed for it (if any). */
export interface ParsedTraceHop extends TraceHop {
  /** Unreachable and similar annotations (`!H`, `!N`, `!P`, `!X`, `!F-1500`, ...), distinct, in order. */
  annotations?: string[];
}

/** What `parseTracerouteOutput` needs besides the text. */
export interface TraceMeta {
  target: string;
  port: number;
  /** The command line, for `TraceResult.method`. */
  method: string;
  /** Used when the output has no header line to take them from. */
  family?: 4 | 6;
  address?: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 1 << 20;

const HEADER = /^traceroute to (\S+) \(([^)\s]+)\), (\d+) hops max/;
const HOP_LINE = /^\s*(\d+)\s+(.*)$/;
const NUMBER = /^\d+(?:\.\d+)?$/;

/** Canonical text of an address (lower case, IPv6 compressed), so equal addresses compare equal. */
function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

/**
 * Parses `traceroute -n` output (IPv4 or IPv6, any method). Pure.
 *
 * Understood per hop line: the TTL, `*` (a probe without answer), addresses (a new one starts when
 * the responder changes within the TTL), `0.123 ms` round-trip times, `!H`/`!N`/`!P`/`!S`/`!F-mtu`/
 * `!X`/`!V`/`!C`/`!<n>` annotations, and `<...>` extras (`-e` extensions, `-O info` flags), which
 * are skipped. Without `-n` a responder reads `name (address)`: the address in parentheses counts.
 * Lines that are neither the header nor a hop line (warnings) are ignored.
 *
 * `reached`: the final hop line contains the destination address (the header's); then `hopCount`
 * is its TTL, else null. Throws `TRACE_FAILED` when there is neither a header nor any hop line.
 */
export function parseTracerouteOutput(
  text: string,
  meta: TraceMeta,
): TraceResult & { hops: ParsedTraceHop[] } {
  let address: string | undefined;
  const hops: ParsedTraceHop[] = [];
  let sawHeader = false;
  for (const line of text.split(/\r?\n/)) {
    const header = HEADER.exec(line);
    if (header !== null) {
      sawHeader = true;
      address = header[2];
      continue;
    }
    const hopLine = HOP_LINE.exec(line);
    if (hopLine === null) continue;
    hops.push(parseHopLine(Number(hopLine[1]), hopLine[2] ?? ''));
  }
  if (!sawHeader && hops.length === 0) {
    throw new CertvigilError('TRACE_FAILED', `no traceroute output to parse for ${meta.target}:${meta.port}`);
  }
  address ??= meta.address ?? meta.target;
  const ipFamily = isIP(address);
  const family: 4 | 6 = ipFamily === 6 ? 6 : ipFamily === 4 ? 4 : (meta.family ?? 4);
  const destination = canonicalAddress(address);
  const last = hops.at(-1);
  const reached = last !== undefined && last.addresses.some((a) => canonicalAddress(a) === destination);
  return {
    target: meta.target,
    address,
    port: meta.port,
    family,
    hops,
    reached,
    hopCount: reached && last !== undefined ? last.ttl : null,
    method: meta.method,
  };
}

function parseHopLine(ttl: number, rest: string): ParsedTraceHop {
  const addresses: string[] = [];
  const rttMs: number[] = [];
  const annotations: string[] = [];
  let current: string | undefined;
  const tokens = rest.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    if (token === '' || token === '*') continue;
    if (token.startsWith('<')) {
      // `<MPLS:L=...>`, `<syn,ack>`: may contain no spaces by construction, but skip to the closing '>'.
      while (!(tokens[i] ?? '>').endsWith('>') && i < tokens.length - 1) i++;
      continue;
    }
    if (token.startsWith('!')) {
      if (!annotations.includes(token)) annotations.push(token);
      continue;
    }
    if (NUMBER.test(token) && tokens[i + 1] === 'ms') {
      if (current !== undefined) rttMs.push(Number(token));
      i++;
      continue;
    }
    const parenthesised = /^\((.+)\)$/.exec(token)?.[1];
    const candidate = parenthesised ?? token;
    if (isIP(candidate) !== 0) {
      current = candidate;
      if (!addresses.includes(candidate)) addresses.push(candidate);
    }
    // Anything else (a host name before its "(address)", `-A` AS paths) is skipped.
  }
  const hop: ParsedTraceHop = { ttl, addresses, rttMs };
  if (annotations.length > 0) hop.annotations = annotations;
  return hop;
}

/**
 * The up-to-`n` responding addresses before the destination, nearest to the target last.
 *
 * Decisions: per TTL the first responding address counts (load-balanced hops answering from
 * several addresses would otherwise make the sequence flap); silent TTLs (`* * *`) are left out but
 * still counted in `hopCount` (which is the trace's); the destination address itself is never a
 * hop; the same address on consecutive responding TTLs counts once (a box answering late for
 * several TTLs, e.g. a trailing `!H`).
 */
export function lastHops(trace: TraceResult, n: number): LastHops {
  if (!Number.isInteger(n) || n < 0)
    throw new CertvigilError('USAGE', `lastHops: n must be a non-negative integer, got ${n}`);
  const destination = canonicalAddress(trace.address);
  const sequence: string[] = [];
  for (const hop of trace.hops) {
    const first = hop.addresses[0];
    if (first === undefined) continue;
    if (canonicalAddress(first) === destination) continue;
    if (sequence.at(-1) === first) continue;
    sequence.push(first);
  }
  return { hops: n === 0 ? [] : sequence.slice(-n), hopCount: trace.hopCount };
}

interface CheckedOptions {
  family: 4 | 6 | undefined;
  probesPerHop: number;
  waitSeconds: number;
  maxTtl: number;
  firstTtl: number | undefined;
  timeoutMs: number;
}

function checkOptions(target: string, options: TraceOptions): CheckedOptions {
  const usage = (message: string): CertvigilError => new CertvigilError('USAGE', `traceroute: ${message}`);
  // The target is a single argv element, but traceroute would read a leading '-' as an option.
  if (target === '' || target.startsWith('-') || /\s/.test(target))
    throw usage(`bad target ${JSON.stringify(target)}`);
  const {
    port,
    probesPerHop = 3,
    waitSeconds = 1,
    maxTtl = 30,
    firstTtl,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw usage(`bad port ${port}`);
  if (!Number.isInteger(probesPerHop) || probesPerHop < 1 || probesPerHop > 10)
    throw usage(`probesPerHop must be 1..10, got ${probesPerHop}`);
  if (!(Number.isFinite(waitSeconds) && waitSeconds > 0))
    throw usage(`waitSeconds must be > 0, got ${waitSeconds}`);
  if (!Number.isInteger(maxTtl) || maxTtl < 1 || maxTtl > 255)
    throw usage(`maxTtl must be 1..255, got ${maxTtl}`);
  if (firstTtl !== undefined && (!Number.isInteger(firstTtl) || firstTtl < 1 || firstTtl > maxTtl))
    throw usage(`firstTtl must be 1..maxTtl, got ${firstTtl}`);
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw usage(`timeoutMs must be > 0, got ${timeoutMs}`);
  const targetFamily = isIP(target);
  let family = options.family;
  if (family !== undefined && targetFamily !== 0 && targetFamily !== family)
    throw usage(`target ${target} is not an IPv${family} address`);
  if (family === undefined && (targetFamily === 4 || targetFamily === 6)) family = targetFamily;
  return { family, probesPerHop, waitSeconds, maxTtl, firstTtl, timeoutMs };
}

/** The argv (program first) that `tcpTraceroute` runs. Exported for tests and diagnostics. */
export function tracerouteArgv(target: string, options: TraceOptions): string[] {
  const checked = checkOptions(target, options);
  const argv = [options.binary ?? 'traceroute', '-T', '-n'];
  if (checked.family !== undefined) argv.push(`-${checked.family}`);
  argv.push(
    '-q',
    String(checked.probesPerHop),
    '-w',
    String(checked.waitSeconds),
    '-m',
    String(checked.maxTtl),
  );
  if (checked.firstTtl !== undefined) argv.push('-f', String(checked.firstTtl));
  argv.push('-p', String(options.port), target);
  return options.netns === undefined ? argv : ['ip', 'netns', 'exec', options.netns, ...argv];
}

/**
 * Runs a TCP traceroute to `target:options.port` and parses it. Errors (all `CertvigilError`):
 * `USAGE` for bad options, `TRACE_PRIVILEGE` without root/CAP_NET_RAW, `TRACE_TIMEOUT` after
 * `timeoutMs`, `TRACE_ABORTED` on `signal`, `TRACE_FAILED` for the rest (binary missing, name not
 * resolvable, non-zero exit, no output).
 */
export async function tcpTraceroute(target: string, options: TraceOptions): Promise<TraceResult> {
  const checked = checkOptions(target, options);
  const argv = tracerouteArgv(target, options);
  const [command = 'traceroute', ...args] = argv;
  const method = argv.join(' ');
  const label = `${target}:${options.port}`;
  if (options.signal?.aborted) throw new CertvigilError('TRACE_ABORTED', `traceroute to ${label} aborted`);

  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const kill = (): void => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      };
      const collect = (chunks: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_OUTPUT_BYTES) chunks.push(chunk);
        else kill();
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      const timer = setTimeout(() => {
        kill();
        finish(() =>
          reject(
            new CertvigilError(
              'TRACE_TIMEOUT',
              `traceroute to ${label} took longer than ${checked.timeoutMs} ms`,
            ),
          ),
        );
      }, checked.timeoutMs);
      const onAbort = (): void => {
        kill();
        finish(() =>
          reject(
            new CertvigilError('TRACE_ABORTED', `traceroute to ${label} aborted`, {
              cause: options.signal?.reason,
            }),
          ),
        );
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', (cause: NodeJS.ErrnoException) => {
        const hint = cause.code === 'ENOENT' ? ` (${command} not installed? Debian package: traceroute)` : '';
        finish(() =>
          reject(
            new CertvigilError('TRACE_FAILED', `cannot run ${command}${hint}: ${cause.message}`, { cause }),
          ),
        );
      });
      child.once('close', (exitCode) => {
        finish(() =>
          resolve({
            code: exitCode,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          }),
        );
      });
    },
  );

  const diagnostics = stderr.trim();
  // traceroute's own message, its failing raw socket, or `ip netns exec` run without root.
  if (
    /not have enough privileges|^socket: Operation not permitted|network namespace.*Operation not permitted/im.test(
      diagnostics,
    )
  ) {
    const netnsHint = options.netns === undefined ? '' : '; `ip netns exec` needs root';
    throw new CertvigilError(
      'TRACE_PRIVILEGE',
      `traceroute -T to ${label} needs root or CAP_NET_RAW (e.g. setcap cap_net_raw+ep /usr/sbin/traceroute${netnsHint}): ${diagnostics}`,
    );
  }
  if (code !== 0) {
    throw new CertvigilError(
      'TRACE_FAILED',
      `traceroute to ${label} failed (exit ${code ?? 'by signal'}): ${diagnostics || '(no message)'}`,
    );
  }
  return parseTracerouteOutput(stdout, { target, port: options.port, method, family: checked.family });
}

/**
 * One TCP traceroute per port to the same target, at most `concurrency` (default 4) at a time;
 * results in the order of `ports`. The first failure aborts the others and is thrown.
 */
export async function traceMany(
  target: string,
  ports: number[],
  options: Omit<TraceOptions, 'port'> & { concurrency?: number },
): Promise<TraceResult[]> {
  const { concurrency = 4, signal, ...rest } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new CertvigilError(
      'USAGE',
      `traceMany: concurrency must be a positive integer, got ${concurrency}`,
    );
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const results: TraceResult[] = new Array<TraceResult>(ports.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < ports.length) {
      const index = next++;
      const port = ports[index] ?? 0;
      try {
        results[index] = await tcpTraceroute(target, { ...rest, port, signal: controller.signal });
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, ports.length) }, () => worker()));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure.error;
  return results;
}
