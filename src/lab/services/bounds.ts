/**
 * @module lab/services/bounds
 * The limits every lab TLS service and the interceptor's front share, and the socket plumbing
 * that enforces them: clients are hostile (a scanner, a half-open connection, a flood), so every
 * socket gets an 'error' handler and an idle time-out, every listener a connection cap, and a
 * relay closes both sides when one side closes.
 */
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { LabError } from '../errors.js';

export interface ServiceLimits {
  /** A connection with no bytes either way for this long is closed. Default 30 s. */
  idleTimeoutMs?: number;
  /** TLS handshakes (and the XMPP dialogue before STARTTLS) must finish within this. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Connections at once per listening port; more are dropped on accept. Default 128. */
  maxConnections?: number;
}

export type Limits = Required<ServiceLimits>;

export function limitsOf(given: ServiceLimits | undefined): Limits {
  const limits: Limits = {
    idleTimeoutMs: given?.idleTimeoutMs ?? 30_000,
    handshakeTimeoutMs: given?.handshakeTimeoutMs ?? 10_000,
    maxConnections: given?.maxConnections ?? 128,
  };
  for (const [name, value] of Object.entries(limits))
    if (!(Number.isInteger(value) && value > 0))
      throw new LabError('LAB_INVALID_REQUEST', `${name} must be a positive integer (got ${value})`);
  return limits;
}

/** Bytes the plaintext XMPP dialogue may take before TLS (a stream header and `<starttls/>`). */
export const MAX_PRE_TLS_BYTES = 8_192;

/** The sockets of one service, so `close()` can end them all (no leaked handles). */
export class SocketSet {
  readonly #sockets = new Set<Duplex>();

  /** Tracks `socket` for `destroyAll` and swallows its errors (a bad peer never crashes the process). */
  track<T extends Duplex>(socket: T): T {
    if (this.#sockets.has(socket)) return socket;
    this.#sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => this.#sockets.delete(socket));
    return socket;
  }

  /**
   * `track`, plus an idle time-out. Only on the socket that carries the traffic: once a TLS socket
   * has taken over a TCP socket's handle, the TCP socket object sees no more activity, so its
   * time-out is cleared (`setTimeout(0)`) and the TLS socket is guarded instead.
   */
  guard<T extends Duplex & { setTimeout(ms: number): unknown }>(socket: T, idleTimeoutMs: number): T {
    this.track(socket);
    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () => socket.destroy());
    return socket;
  }

  get size(): number {
    return this.#sockets.size;
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}

/**
 * Relays bytes both ways between `a` and `b` (with back-pressure); a half-close is passed on
 * (`end`), and when either side is gone the other is destroyed too.
 */
export function relay(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
}

/** Listens on `host:port`; a failure (address in use, no such address) is LAB_START_FAILED. */
export function listen(server: Server, host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(
        new LabError('LAB_START_FAILED', `${what}: cannot listen on ${host}:${port}: ${err.message}`, {
          cause: err,
        }),
      );
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      // Later server errors (EMFILE on accept) must not crash the process.
      server.on('error', () => undefined);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/** Stops accepting and resolves once the server is closed (idempotent: a closed server is fine). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/** Loopback only: every lab server listens on 127.0.0.1 or ::1 (or localhost). */
export function loopbackHost(host: string | undefined): string {
  const chosen = host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(chosen) && !/^127\.\d+\.\d+\.\d+$/.test(chosen))
    throw new LabError('LAB_INVALID_REQUEST', `lab services listen on loopback only (got ${chosen})`);
  return chosen;
}
