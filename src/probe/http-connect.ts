/**
 * @module probe/http-connect
 * A TCP tunnel through an HTTP proxy: RFC 9110 §9.3.6 CONNECT. The probe needs raw bytes to the
 * target (its own ClientHello, a STARTTLS dialogue), so the tunnel is opened by hand on a plain
 * socket rather than by an HTTP client library, and the socket is handed back positioned at the
 * first byte from the target.
 *
 * Bounded like every probe read: the proxy's response header may take at most
 * `MAX_CONNECT_RESPONSE_BYTES`, and the whole exchange `timeoutMs`. A non-2xx answer is a
 * `PROBE_CONNECT` error quoting the proxy's status line (sanitised, bounded), never its body.
 */
import type { Socket } from 'node:net';
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { ProxySpec } from './proxy.js';
import { describeProxySpec } from './proxy.js';

/** More than any real proxy's CONNECT answer (a status line and a few header fields). */
export const MAX_CONNECT_RESPONSE_BYTES = 16 * 1024;

/** `host:port`, IPv6 in brackets: RFC 9110 §9.3.6 "the request-target consists of only the host
 * name and port number of the tunnel destination" (RFC 9112 §3.2.3 authority-form). */
function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The CONNECT request, with Proxy-Authorization Basic (RFC 9110 §11.7.2, RFC 7617) when asked. */
export function connectRequest(host: string, port: number, auth?: ProxySpec['auth']): string {
  const target = authority(host, port);
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (auth !== undefined) {
    // RFC 7617 §2: base64 of user-id ":" password, in UTF-8 (§2.1 charset="UTF-8").
    const token = Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
    lines.push(`Proxy-Authorization: Basic ${token}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export type ConnectAnswer =
  | { kind: 'incomplete' }
  | { kind: 'too-long' }
  | { kind: 'malformed'; statusLine: string }
  | { kind: 'response'; status: number; statusLine: string; headerBytes: number };

/**
 * What the bytes read so far from the proxy say (pure): the header ends at the first empty line
 * (RFC 9112 §2.1; a bare LF is tolerated, §2.2). Bytes after it belong to the tunnel.
 */
export function parseConnectAnswer(data: Buffer): ConnectAnswer {
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  const ends = [crlf >= 0 ? crlf + 4 : -1, lf >= 0 ? lf + 2 : -1].filter((n) => n >= 0);
  if (ends.length === 0)
    return data.length > MAX_CONNECT_RESPONSE_BYTES ? { kind: 'too-long' } : { kind: 'incomplete' };
  const headerBytes = Math.min(...ends);
  if (headerBytes > MAX_CONNECT_RESPONSE_BYTES) return { kind: 'too-long' };
  const statusLine = data.subarray(0, headerBytes).toString('latin1').split(/\r?\n/)[0] ?? '';
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
  if (m === null) return { kind: 'malformed', statusLine };
  return { kind: 'response', status: Number(m[1]), statusLine, headerBytes };
}

/** The proxy's status line in a message: sanitised (outside text), one line, bounded. */
function shownStatus(line: string): string {
  return `"${sanitizeText(line, { maxLength: 120 })}"`;
}

/**
 * Sends CONNECT for `host:port` on `socket` (already connected to the proxy) and resolves once the
 * proxy answered 2xx: the socket is then paused, with any bytes that came after the header
 * (a server that speaks first, e.g. an SMTP greeting) put back to be read first.
 */
export async function httpConnect(
  socket: Socket,
  proxy: ProxySpec,
  host: string,
  port: number,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const via = `HTTP proxy ${describeProxySpec(proxy)}`;
  const target = authority(host, port);
  await new Promise<void>((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0);
    const finish = (error?: CertvigilError): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.pause();
      if (error !== undefined) {
        socket.destroy();
        reject(error);
      } else resolve();
    };
    const fail = (message: string): void => finish(new CertvigilError('PROBE_CONNECT', message));
    const onData = (chunk: Buffer): void => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      const answer = parseConnectAnswer(buffer);
      switch (answer.kind) {
        case 'incomplete':
          return;
        case 'too-long':
          return fail(
            `${via} sent more than ${MAX_CONNECT_RESPONSE_BYTES} bytes without ending its answer to CONNECT ${target}`,
          );
        case 'malformed':
          return fail(
            `${via} answered CONNECT ${target} with no HTTP status line: ${shownStatus(answer.statusLine)}`,
          );
        case 'response': {
          // RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender (and all
          // inbound proxies) will switch to tunnel mode immediately after the response header".
          if (answer.status >= 200 && answer.status < 300) {
            const rest = buffer.subarray(answer.headerBytes);
            finish();
            if (rest.length > 0) socket.unshift(rest);
            return;
          }
          // 407 is the proxy's "credentials, please" (RFC 9110 §15.5.8); tinyproxy answers a
          // wrong password on CONNECT with 401.
          const hint =
            answer.status === 407 || answer.status === 401
              ? proxy.auth === undefined
                ? ' (the proxy wants credentials: http://USER:PASS@HOST:PORT)'
                : ' (the proxy refused the credentials)'
              : '';
          return fail(`${via} refused CONNECT ${target}: ${shownStatus(answer.statusLine)}${hint}`);
        }
      }
    };
    const onError = (e: Error): void => fail(`${via} failed during CONNECT ${target}: ${e.message}`);
    const onClose = (): void => fail(`${via} closed the connection before answering CONNECT ${target}`);
    const onAbort = (): void => fail(`CONNECT ${target} through ${via} aborted`);
    const timer = setTimeout(
      () => fail(`${via} did not answer CONNECT ${target} within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted === true) return onAbort();
    socket.write(connectRequest(host, port, proxy.auth));
    socket.resume();
  });
}
