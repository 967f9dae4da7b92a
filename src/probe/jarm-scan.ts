/**
 * @module probe/jarm-scan
 * The network half of JARM (salesforce/jarm, jarm.py v1.0): ten TCP connections per target, one
 * probe each (src/probe/jarm.ts builds and reads them), optionally after a STARTTLS dialogue
 * (src/probe/starttls.ts), so the TLS stack behind an SMTP or XMPP port can be fingerprinted too.
 *
 * Why it is faster than jarm.py with the same hashes: jarm.py sends the ten probes one after the
 * other and waits for each connection's shutdown; here the probes of a target run concurrently
 * (`concurrency`, default all ten) and targets run in parallel (`jarmMany`). The probes are
 * independent connections, so the server sees exactly the same ten ClientHellos either way.
 *
 * What is read: the server's bytes until the first TLS record is complete (or the first byte
 * already decides the result: alert, garbage), capped at jarm.py's 1484-byte recv, or until the
 * server closes. jarm.py takes the first recv() chunk instead; on any network that delivers the
 * first record in one piece that is the same input, and here a record split over several TCP
 * segments still reads the same.
 *
 * Failures, as jarm.py treats them (so the hashes agree):
 * - connection refused / reset / closed without data → that probe is `|||`;
 * - QUIRK: a timeout (connect, or no reply at all) makes jarm.py give up on the whole target — all ten
 *   probes become `|||` and the hash 62 zeros — even when other probes had answered. That is the
 *   default (`timeouts: 'reference'`); `timeouts: 'per-probe'` empties only the probe that timed out
 *   (not comparable with jarm.py, but more informative on flaky paths);
 * - a STARTTLS dialogue that fails counts as a refused connection for that probe (one that times
 *   out counts as a timeout); jarm.py has no STARTTLS at all.
 * Every failure is also reported in `errors`.
 *
 * Bounds: each step (connect, STARTTLS dialogue, reply) has `timeoutMs` (default 5 s; jarm.py uses
 * 20 s per socket operation, which is long for a monitoring run but a timeout empties the whole
 * fingerprint, so the default stays well above any real round trip). A probe therefore takes at
 * most 3 × `timeoutMs`, a target at most ⌈10 / concurrency⌉ such rounds; `signal` aborts at once.
 * Reads stop at 1484 bytes. Addresses: IPv4 and IPv6 (literal, `[v6]:port`, or resolved names).
 */
import type { Socket } from 'node:net';
import { connect, isIP } from 'node:net';
import { CertvigilError } from '../errors.js';
import { hostPort, openTcp, parseHostPort, resolveAddresses } from './connect.js';
import {
  JARM_EMPTY_PROBE,
  JARM_EMPTY_RAW,
  JARM_PROBES,
  JARM_READ_LIMIT,
  buildJarmProbes,
  jarmHash,
  jarmReplyDecided,
  parseJarmServerHello,
} from './jarm.js';
import type { JarmResult } from './mitm-types.js';
import type { ProxySpec } from './proxy.js';
import { StartTlsError, negotiateStartTls } from './starttls.js';
import type { StartTlsProtocol } from './types.js';

/** Per-step timeout default, in milliseconds (see the module comment). */
export const JARM_DEFAULT_TIMEOUT_MS = 5_000;
export const JARM_DEFAULT_PORT = 443;

export interface JarmOptions {
  /** Port when `target` has none. Default 443 (jarm.py's default). */
  port?: number;
  /** Connect to this address instead of resolving the target's host (the first address found). */
  address?: string;
  /** Run this protocol's STARTTLS dialogue on every probe connection first. */
  starttls?: StartTlsProtocol;
  /** The SNI sent. Default: the host as given in `target` (jarm.py sends the target, even an IP). */
  serverName?: string;
  /** Per step (connect, STARTTLS, reply), in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Probes in flight at once for this target, 1–10. Default 10. */
  concurrency?: number;
  /** `reference` (default): any timeout empties the whole fingerprint, as jarm.py does. */
  timeouts?: 'reference' | 'per-probe';
  /**
   * Every probe connection through this proxy (probe/proxy.ts), or the one a function picks per
   * target (NO_PROXY is per host). A proxy that resolves names itself (socks5h, http) gets the
   * host name, and `address` in the result is that name.
   */
  proxy?: ProxySpec | ((host: string, port: number) => ProxySpec | undefined);
  signal?: AbortSignal;
}

/** How one probe ended. */
type ProbeOutcome =
  | { kind: 'reply'; bytes: Uint8Array }
  | { kind: 'failed'; error: string }
  | { kind: 'timeout'; error: string };

/**
 * The JARM of `target` (`host`, `host:port`, `[v6]:port`). Resolves to a zero fingerprint with the
 * reason in `errors` when the host does not resolve (jarm.py prints zeros then too); rejects only
 * on bad arguments (`CertvigilError` 'USAGE') or when `signal` aborts (with the signal's reason).
 */
export async function jarmFingerprint(target: string, options: JarmOptions = {}): Promise<JarmResult> {
  const started = performance.now();
  const { host, port } = parseHostPort(target, options.port ?? JARM_DEFAULT_PORT);
  const timeoutMs = options.timeoutMs ?? JARM_DEFAULT_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw new CertvigilError('USAGE', `JARM timeout must be a positive number (got ${timeoutMs})`);
  const concurrency = options.concurrency ?? JARM_PROBES.length;
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new CertvigilError('USAGE', `JARM concurrency must be a positive integer (got ${concurrency})`);
  if (options.address !== undefined && isIP(options.address) === 0)
    throw new CertvigilError('USAGE', `not an IP address: ${options.address}`);
  const serverName = options.serverName ?? host;
  options.signal?.throwIfAborted();

  const result = (address: string, raw: string, errors: string[]): JarmResult => ({
    target,
    address,
    port,
    jarm: jarmHash(raw),
    raw,
    errors,
    elapsedMs: performance.now() - started,
  });

  const proxy = typeof options.proxy === 'function' ? options.proxy(host, port) : options.proxy;
  let address = options.address ?? (proxy?.remoteDns === true ? host : undefined);
  if (address === undefined) {
    try {
      address = (await resolveAddresses(host))[0] ?? '';
    } catch (err) {
      options.signal?.throwIfAborted();
      return result('', JARM_EMPTY_RAW, [(err as Error).message]);
    }
  }
  // Build every probe before connecting: a bad server name fails here, not ten times over.
  const payloads = buildJarmProbes(serverName);
  const probeOptions: ProbeOptions = {
    timeoutMs,
    serverName,
    starttls: options.starttls,
    signal: options.signal,
    proxy,
    where: hostPort(address, port),
  };
  const outcomes = await mapLimit(payloads, concurrency, (payload) =>
    runProbe(address, port, payload, probeOptions),
  );
  options.signal?.throwIfAborted();

  const errors: string[] = [];
  let timedOut = false;
  const parts = outcomes.map((o, i) => {
    const name = `probe ${i + 1} (${JARM_PROBES[i]?.name ?? '?'})`;
    if (o.kind === 'reply') return parseJarmServerHello(o.bytes);
    errors.push(`${name}: ${o.error}`);
    if (o.kind === 'timeout') timedOut = true;
    return JARM_EMPTY_PROBE;
  });
  const raw =
    timedOut && (options.timeouts ?? 'reference') === 'reference' ? JARM_EMPTY_RAW : parts.join(',');
  return result(address, raw, errors);
}

export interface JarmManyOptions extends Omit<JarmOptions, 'address' | 'concurrency'> {
  /** Targets fingerprinted at once. Default 10. */
  concurrency?: number;
  /** Probes in flight per target. Default 10. */
  probeConcurrency?: number;
}

/**
 * The JARMs of many targets, in the order given, `concurrency` targets at a time. A target that
 * fails on its arguments gets a zero fingerprint with the reason in `errors`; `signal` aborts all.
 */
export async function jarmMany(
  targets: readonly string[],
  options: JarmManyOptions = {},
): Promise<JarmResult[]> {
  const { concurrency = 10, probeConcurrency, ...rest } = options;
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw new CertvigilError('USAGE', `concurrency must be a positive integer (got ${concurrency})`);
  return mapLimit(targets, concurrency, async (target) => {
    try {
      return await jarmFingerprint(target, {
        ...rest,
        ...(probeConcurrency ? { concurrency: probeConcurrency } : {}),
      });
    } catch (err) {
      options.signal?.throwIfAborted();
      return {
        target,
        address: '',
        port: 0,
        jarm: jarmHash(JARM_EMPTY_RAW),
        raw: JARM_EMPTY_RAW,
        errors: [(err as Error).message],
        elapsedMs: 0,
      };
    }
  });
}

/** `fn` over `items` with at most `limit` calls pending; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface ProbeOptions {
  timeoutMs: number;
  serverName: string;
  starttls: StartTlsProtocol | undefined;
  signal: AbortSignal | undefined;
  proxy: ProxySpec | undefined;
  /** `address:port` for messages, computed once per target. */
  where: string;
}

/** One connection: connect, optional STARTTLS, send the probe, read the reply, close. */
async function runProbe(
  address: string,
  port: number,
  payload: Uint8Array,
  o: ProbeOptions,
): Promise<ProbeOutcome> {
  if (o.proxy === undefined && o.starttls === undefined) return directProbe(address, port, payload, o);
  let socket: Socket;
  try {
    socket = await openTcp(address, port, { timeoutMs: o.timeoutMs, signal: o.signal, proxy: o.proxy });
  } catch (err) {
    const message = (err as Error).message;
    return /timed out/.test(message)
      ? { kind: 'timeout', error: message }
      : { kind: 'failed', error: message };
  }
  try {
    if (o.starttls !== undefined) {
      try {
        await negotiateStartTls(socket, o.starttls, {
          domain: o.serverName,
          timeoutMs: o.timeoutMs,
          signal: o.signal,
        });
      } catch (err) {
        const message = (err as Error).message;
        if (err instanceof StartTlsError && err.code === 'STARTTLS_TIMEOUT')
          return { kind: 'timeout', error: message };
        return { kind: 'failed', error: message };
      }
    }
    return await exchange(socket, payload, o, o.where);
  } finally {
    socket.destroy();
  }
}

/** Writes the probe and collects the reply until it decides the result, the peer closes, or time runs out. */
function exchange(
  socket: Socket,
  payload: Uint8Array,
  o: ProbeOptions,
  where: string,
): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const collected = (): Uint8Array => Buffer.concat(chunks, length).subarray(0, JARM_READ_LIMIT);
    const finish = (outcome: ProbeOutcome): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.on('error', () => undefined); // late errors after destroy() are of no interest
      resolve(outcome);
    };
    // Whatever arrived counts, as jarm.py's recv() returns the bytes it has before an error or EOF.
    const settle = (failure: ProbeOutcome): void =>
      finish(length > 0 ? { kind: 'reply', bytes: collected() } : failure);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      const bytes = collected();
      if (jarmReplyDecided(bytes)) finish({ kind: 'reply', bytes });
    };
    // Closed without a byte: jarm.py's recv() returns b"", which reads as "|||".
    const onEnd = (): void => finish({ kind: 'reply', bytes: collected() });
    const onError = (e: Error): void => settle({ kind: 'failed', error: `${where}: ${e.message}` });
    const onClose = (): void => settle({ kind: 'failed', error: `${where}: connection closed` });
    const onAbort = (): void => settle({ kind: 'failed', error: `${where}: aborted` });
    const timer = setTimeout(
      () => settle({ kind: 'timeout', error: `${where}: no reply within ${o.timeoutMs} ms` }),
      o.timeoutMs,
    );
    o.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(payload);
    socket.resume();
  });
}

/**
 * Where a direct probe's socket reads to (net.Socket `onread`); each chunk is copied out at once,
 * so one buffer serves every socket. Allocated on first use.
 */
let readScratch: Buffer | undefined;

/**
 * A probe without proxy or STARTTLS (the common case), with the same outcomes and messages as
 * openTcp + {@link exchange}, but leaner per connection: `node --cpu-prof` of many-target scans
 * showed, besides the kernel's connect/write/close, the stream machinery of every socket (a
 * 64 KiB read buffer allocated per read, Readable push and 'data' events, two timers, two
 * promises, listeners added and removed). Here: one promise, one timer re-armed for the reply
 * step (`refresh`: the per-step bound of the module comment), reads into a shared buffer.
 */
function directProbe(
  address: string,
  port: number,
  payload: Uint8Array,
  o: ProbeOptions,
): Promise<ProbeOutcome> {
  const where = o.where;
  return new Promise<ProbeOutcome>((resolve) => {
    let reply: Uint8Array | null = null;
    let connected = false;
    let done = false;
    const finish = (outcome: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    // Whatever arrived counts, as jarm.py's recv() returns the bytes it has before an error or EOF.
    const settle = (failure: ProbeOutcome): void =>
      finish(reply !== null && reply.length > 0 ? { kind: 'reply', bytes: reply } : failure);
    const onRead = (n: number, buf: Uint8Array): boolean => {
      const have = reply?.length ?? 0;
      const chunk = buf.subarray(0, Math.min(n, JARM_READ_LIMIT - have));
      if (reply === null) reply = new Uint8Array(chunk);
      else {
        const joined = new Uint8Array(have + chunk.length);
        joined.set(reply);
        joined.set(chunk, have);
        reply = joined;
      }
      if (!jarmReplyDecided(reply)) return true;
      finish({ kind: 'reply', bytes: reply });
      return false;
    };
    const onAbort = (): void =>
      connected
        ? settle({ kind: 'failed', error: `${where}: aborted` })
        : finish({ kind: 'failed', error: `connection to ${where} aborted` });
    const timer = setTimeout(
      () =>
        connected
          ? settle({ kind: 'timeout', error: `${where}: no reply within ${o.timeoutMs} ms` })
          : finish({ kind: 'timeout', error: `connection to ${where} timed out` }),
      o.timeoutMs,
    );
    const socket = connect(
      {
        host: address,
        port,
        onread: { buffer: (readScratch ??= Buffer.allocUnsafe(JARM_READ_LIMIT)), callback: onRead },
      },
      () => {
        connected = true;
        timer.refresh();
        socket.write(payload);
      },
    );
    o.signal?.addEventListener('abort', onAbort, { once: true });
    // After finish() the listeners stay: late events (an error after destroy) are of no interest.
    socket.on('error', (e: Error) =>
      connected
        ? settle({ kind: 'failed', error: `${where}: ${e.message}` })
        : finish({ kind: 'failed', error: `cannot connect to ${where}: ${e.message}` }),
    );
    // Closed without a byte: jarm.py's recv() returns b"", which reads as "|||".
    socket.once('end', () => finish({ kind: 'reply', bytes: reply ?? new Uint8Array(0) }));
    socket.once('close', () => settle({ kind: 'failed', error: `${where}: connection closed` }));
  });
}
