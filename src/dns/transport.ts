/**
 * @module dns/transport
 * One query, one server, one transport: send the bytes, wait for the answer or the deadline.
 * Knows nothing of retries or server lists (that is `resolver.ts`) nor of record contents
 * (that is `message.ts`); it only hands the reply bytes to the `accept` callback.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { CertvigilError, isCertvigilError } from '../errors.js';
import type { DnsEndpoint } from './types.js';

/**
 * Decides whether reply bytes answer our query. Returns the decoded value, or throws:
 * `DNS_MISMATCHED_RESPONSE` means "not ours, keep listening" (RFC 5452 §9.1); any other error is final.
 */
export type AcceptReply<T> = (wire: Buffer) => T;

export function formatEndpoint(e: DnsEndpoint): string {
  return net.isIPv6(e.host) ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** What one exchange does with its outcome: settle once, whatever fires first. */
export interface Exchange {
  /** Resolves with `accept(reply)`; returns false when the reply was not ours (keep listening). */
  offer(reply: Buffer): boolean;
  fail(err: Error): void;
  readonly settled: boolean;
}

/**
 * Runs `start` under a deadline and an optional abort signal. Whichever comes first — an accepted
 * reply, an error, the deadline, the abort — settles the promise; `release` then frees the socket.
 */
export function withDeadline<T>(
  server: DnsEndpoint,
  transport: 'UDP' | 'TCP',
  timeoutMs: number,
  accept: AcceptReply<T>,
  signal: AbortSignal | undefined,
  start: (exchange: Exchange) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let release: () => void = () => undefined;
    const finish = (err: Error | null, value?: T): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      release();
      if (err) reject(err);
      else resolve(value as T);
    };
    const onAbort = (): void =>
      finish(new CertvigilError('DNS_TIMEOUT', 'query aborted', { cause: signal?.reason }));
    const timer = setTimeout(
      () =>
        finish(
          new CertvigilError(
            'DNS_TIMEOUT',
            `no answer from ${formatEndpoint(server)} over ${transport} within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    release = start({
      offer(reply) {
        try {
          finish(null, accept(reply));
          return true;
        } catch (err) {
          if (isCertvigilError(err) && err.code === 'DNS_MISMATCHED_RESPONSE') return false;
          finish(err as Error);
          return true;
        }
      },
      fail: (err) => finish(err),
      get settled() {
        return settled;
      },
    });
    // start() may have settled synchronously, before release was assigned.
    if (settled) release();
  });
}

export function networkError(server: DnsEndpoint, transport: string, cause: Error): CertvigilError {
  return new CertvigilError(
    'DNS_NETWORK',
    `${transport} error talking to ${formatEndpoint(server)}: ${cause.message}`,
    { cause },
  );
}

export function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  // An IPv4 server answering a udp6 socket shows up as ::ffff:a.b.c.d.
  return a.replace(/^::ffff:/, '') === b.replace(/^::ffff:/, '');
}

/**
 * Sends one UDP datagram from a fresh socket (a fresh random source port per query, RFC 5452 §4.5)
 * and resolves with the first reply from the server's address and port that `accept` takes.
 *
 * The socket is connected to the server: the kernel then drops datagrams from any other peer, and
 * an ICMP "port unreachable" comes back as ECONNREFUSED at once. On an unconnected socket that
 * ICMP error is lost and a server that is not running costs the whole timeout, every attempt.
 */
export function exchangeUdp<T>(
  server: DnsEndpoint,
  query: Buffer,
  timeoutMs: number,
  accept: AcceptReply<T>,
  signal?: AbortSignal,
): Promise<T> {
  return withDeadline(server, 'UDP', timeoutMs, accept, signal, (exchange) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    socket.on('error', (cause) => exchange.fail(networkError(server, 'UDP', cause)));
    socket.on('message', (msg, rinfo) => {
      // Off-path replies from another address or port are ignored, not trusted (RFC 5452 §9.1).
      if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.host)) return;
      exchange.offer(msg);
    });
    socket.connect(server.port, server.host, (connectErr?: Error) => {
      if (exchange.settled) return;
      if (connectErr) return exchange.fail(networkError(server, 'UDP', connectErr));
      socket.send(query, (err) => {
        if (err) exchange.fail(networkError(server, 'UDP', err));
      });
    });
    return () => socket.close();
  });
}

/** RFC 7766 §8: over TCP every message is preceded by its two-byte length. */
export function exchangeTcp<T>(
  server: DnsEndpoint,
  query: Buffer,
  timeoutMs: number,
  accept: AcceptReply<T>,
  signal?: AbortSignal,
): Promise<T> {
  return withDeadline(server, 'TCP', timeoutMs, accept, signal, (exchange) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let buffered = Buffer.alloc(0);
    socket.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([prefix, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Several messages may arrive on one connection; take each complete one in turn.
      while (buffered.length >= 2 && !exchange.settled) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        exchange.offer(message);
      }
    });
    socket.on('error', (cause) => exchange.fail(networkError(server, 'TCP', cause)));
    socket.on('close', () =>
      exchange.fail(
        new CertvigilError(
          'DNS_NETWORK',
          buffered.length > 0
            ? `${formatEndpoint(server)} closed the TCP connection mid-message (${buffered.length} bytes read)`
            : `${formatEndpoint(server)} closed the TCP connection without answering`,
        ),
      ),
    );
    return () => socket.destroy();
  });
}
