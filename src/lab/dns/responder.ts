/**
 * @module lab/dns/responder
 * The lab's authoritative DNS server: UDP and TCP on the same port (RFC 1035 §4.2, RFC 7766),
 * serving a `LabZone` to every certvigil command of the lab as if it were their recursive resolver.
 * Only transport here; what to answer is respond.ts. Bounded everywhere: query size, per-connection
 * buffer and output, idle time-out, number of connections. A bad peer never crashes the process.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { errorMessage } from '../../errors.js';
import { LabError } from '../errors.js';
import { MAX_QUERY_BYTES, respond, type Responded } from './respond.js';
import type { LabZone } from './zone.js';

export interface DnsResponderOptions {
  zone: LabZone;
  /** Address to listen on (UDP and TCP). Default 127.0.0.1. */
  host?: string;
  /** Port for both transports; 0 (default) picks a free one. */
  port?: number;
  /** RFC 7766 §6.2.3: close a TCP connection idle this long. Default 10,000 ms. */
  tcpIdleMs?: number;
  /** Concurrent TCP connections; more are refused at accept. Default 64. */
  maxTcpConnections?: number;
  /** Called after each answered query (for a progress log); its errors are ignored. */
  onQuery?: (query: DnsQueryLog) => void;
}

export interface DnsQueryLog {
  transport: 'udp' | 'tcp';
  /** The question name as sent (escaped if not a host name), null when there was none. */
  name: string | null;
  type: string | null;
  rcode: Responded['rcode'];
  truncated: boolean;
}

export interface DnsResponder {
  host: string;
  port: number;
  /** `host:port` (IPv6 in brackets), the form of `--resolver`. */
  endpoint: string;
  /** Queries answered so far (UDP and TCP). */
  readonly queries: number;
  /** Stops both listeners and drops every connection. Idempotent. */
  close(): Promise<void>;
}

/** A client that sends but does not read would grow our output without end. */
const MAX_TCP_PENDING_OUTPUT = 256 * 1024;
const BIND_ATTEMPTS = 5;

/** Listens on TCP, then UDP on the same port; with port 0, retries when UDP finds it taken. */
async function bindBoth(host: string, port: number): Promise<{ tcp: net.Server; udp: dgram.Socket }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (port === 0 ? BIND_ATTEMPTS : 1); attempt++) {
    const tcp = net.createServer({ allowHalfOpen: false });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      lastError = err;
      continue;
    }
    const bound = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: host, port: bound, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      return { tcp, udp };
    } catch (err) {
      lastError = err;
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  }
  throw new LabError(
    'LAB_START_FAILED',
    `DNS responder cannot listen on ${host}:${port}: ${errorMessage(lastError)}`,
    { cause: lastError },
  );
}

/**
 * Starts the responder. Rejects with LAB_START_FAILED when it cannot listen.
 *
 * @example
 * const dns = await startDnsResponder({ zone });
 * // certvigil caa check jabber.lab --resolver ${dns.endpoint} …
 * await dns.close();
 */
export async function startDnsResponder(options: DnsResponderOptions): Promise<DnsResponder> {
  const host = options.host ?? '127.0.0.1';
  const idleMs = options.tcpIdleMs ?? 10_000;
  const { zone, onQuery } = options;
  const { tcp, udp } = await bindBoth(host, options.port ?? 0);
  const port = (tcp.address() as net.AddressInfo).port;
  const sockets = new Set<net.Socket>();
  let queries = 0;

  const answer = (query: Buffer, transport: 'udp' | 'tcp'): Buffer | null => {
    const r = respond(zone, query, transport);
    if (!r) return null;
    queries++;
    try {
      onQuery?.({ transport, name: r.qname, type: r.qtype, rcode: r.rcode, truncated: r.truncated });
    } catch {
      // A logging callback's fault is not the client's problem.
    }
    return r.wire;
  };

  // A socket error (ICMP unreachable from a client that left) must not end the server.
  udp.on('error', () => undefined);
  udp.on('message', (msg, rinfo) => {
    const wire = answer(msg, 'udp');
    if (wire) udp.send(wire, rinfo.port, rinfo.address, () => undefined);
  });

  tcp.maxConnections = options.maxTcpConnections ?? 64;
  tcp.on('error', () => undefined);
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    let buffered: Buffer = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // RFC 7766 §6.2.1: several queries may arrive on one connection (pipelined); answer each.
      while (buffered.length >= 2 && !socket.destroyed) {
        const length = buffered.readUInt16BE(0);
        // No query is this long (or empty): the peer is not speaking DNS, and there is no
        // message boundary left to resynchronise on.
        if (length === 0 || length > MAX_QUERY_BYTES) return void socket.destroy();
        if (buffered.length < 2 + length) return;
        const query = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const wire = answer(query, 'tcp');
        if (!wire) continue;
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(wire.length, 0);
        socket.write(Buffer.concat([prefix, wire]));
        if (socket.writableLength > MAX_TCP_PENDING_OUTPUT) return void socket.destroy();
      }
    });
  });

  let closing: Promise<void> | null = null;
  return {
    host,
    port,
    endpoint: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
    get queries() {
      return queries;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        let pending = 2;
        const one = (): void => {
          if (--pending === 0) resolve();
        };
        tcp.close(one);
        try {
          udp.close(one);
        } catch {
          one();
        }
      });
      return closing;
    },
  };
}
