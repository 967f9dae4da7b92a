/**
 * @module probe/tls-hello/connection
 * The socket half of the raw hello: write the ClientHello, read the server's first flight through
 * `ServerFlightParser` within a time and byte budget, hang up. The handshake is never completed —
 * no key exchange, no crypto — because all the SCT probe needs (the RFC 6962 §3.3.1 extension, the
 * Certificate of RFC 5246 §7.4.2, the CertificateStatus of RFC 6066 §8) travels in the clear in a
 * TLS 1.2 first flight.
 *
 * Why bounded here: the server is untrusted, so every way a read can fail to end (silence, an
 * endless flight, a close, a socket error, the caller's abort) becomes a `TlsHelloError` with its
 * own code, and the socket's listeners are removed on every path.
 */
import type { Socket } from 'node:net';
import type { ClientHelloOptions } from './client-hello.js';
import { buildClientHello } from './client-hello.js';
import type { TlsHelloErrorCode } from './hello-error.js';
import { TlsHelloError } from './hello-error.js';
import type { ServerHelloFacts } from './facts.js';
import { ServerFlightParser } from './server-flight.js';

export const DEFAULT_MAX_BYTES = 256 * 1024;

export interface ReadServerHelloOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Give up (TLS_HELLO_TOO_LARGE) after this many bytes without a complete flight; default 256 KiB. */
  maxBytes?: number;
}

/**
 * Reads from `socket` until {@link parseServerFlight} reports a complete flight, within `timeoutMs`
 * and `maxBytes`. Does not write and does not close the socket; its listeners (including the
 * 'error' one) are removed on return, so a caller that keeps the socket must handle its errors.
 * A socket still connecting is fine: a refused connection is TLS_HELLO_NETWORK, and the
 * connect time counts against `timeoutMs`.
 */
export function readServerHello(socket: Socket, options: ReadServerHelloOptions): Promise<ServerHelloFacts> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise<ServerHelloFacts>((resolve, reject) => {
    const parser = new ServerFlightParser();
    let received = 0;
    let settled = false;

    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (code: TlsHelloErrorCode, message: string, cause?: unknown): void => {
      if (settled) return;
      cleanup();
      const extra: { cause?: unknown; partial?: ServerHelloFacts } = {};
      if (cause !== undefined) extra.cause = cause;
      if (received > 0) extra.partial = parser.facts;
      reject(new TlsHelloError(code, message, extra));
    };
    const onData = (chunk: Buffer | string): void => {
      if (settled) return;
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      const take = buffer.subarray(0, Math.max(0, maxBytes - received));
      received += buffer.length;
      let complete: boolean;
      try {
        complete = parser.push(take);
      } catch (err) {
        if (err instanceof TlsHelloError) fail(err.code, err.message, err.cause);
        else fail('TLS_HELLO_MALFORMED', `TLS parser failed: ${String(err)}`, err);
        return;
      }
      if (complete) {
        cleanup();
        resolve(parser.facts);
      } else if (received >= maxBytes) {
        fail('TLS_HELLO_TOO_LARGE', `no complete server flight in ${maxBytes} bytes`);
      }
    };
    const onEnd = (): void =>
      fail(
        'TLS_HELLO_CLOSED',
        `connection closed after ${received} bytes, before the server flight was complete`,
      );
    const onError = (err: Error): void => fail('TLS_HELLO_NETWORK', `socket error: ${err.message}`, err);
    const onAbort = (): void => fail('TLS_HELLO_ABORTED', 'aborted', options.signal?.reason);
    const timer = setTimeout(
      () =>
        fail(
          'TLS_HELLO_TIMEOUT',
          `no complete server flight within ${options.timeoutMs} ms (${received} bytes)`,
        ),
      options.timeoutMs,
    );

    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    // A socket handed over paused (negotiateStartTls leaves it so) does not flow again just
    // because a 'data' listener was added: resume it explicitly.
    socket.resume();
    if (socket.destroyed) onEnd();
  });
}

/**
 * Writes {@link buildClientHello} for `serverName` to a connected (or connecting) socket, reads the
 * server's first flight, and destroys the socket whatever happens: the handshake is never finished.
 */
export async function probeTlsExtensionScts(
  socket: Socket,
  serverName: string | null,
  options: ReadServerHelloOptions & Omit<ClientHelloOptions, 'serverName'>,
): Promise<ServerHelloFacts> {
  try {
    const hello = buildClientHello({ ...options, serverName });
    const reading = readServerHello(socket, options);
    socket.write(hello, () => undefined); // write errors surface as 'error' events, read above
    return await reading;
  } finally {
    socket.destroy();
  }
}
