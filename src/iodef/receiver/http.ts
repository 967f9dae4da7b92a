/**
 * @module iodef/receiver/http
 * The HTTPS end of a CAA `iodef "https://…"` property (RFC 8659 §4.4), speaking RFC 6546 (RID
 * transport over HTTP/TLS): reports arrive as POST bodies of type `application/rid+xml` (RFC 6546
 * §3); we also take the XML types CAs actually use (`application/xml`, `text/xml`,
 * `application/iodef+xml`). Any other method gets 405 with `Allow: POST` (RFC 6546 §3 as corrected
 * by erratum 3267). A stored or duplicate report gets 200 with a short text body (RFC 6546 §3: a
 * Report needs no RID reply; a duplicate is success for the sender, so it does not retry).
 *
 * Built on node:http / node:https rather than a framework: every defence below is a documented
 * option of the core server (headersTimeout, requestTimeout, maxHeaderSize, maxConnections,
 * requestCert), and there is no routing to speak of.
 *
 * Hostile input (the endpoint is public by design, RFC 8659 §6):
 * - body cap (default 256 KiB): a declared Content-Length over it gets 413 at once; a chunked body
 *   gets 413 as soon as it crosses the cap. Reading stops there, nothing more is buffered, and the
 *   connection is closed after a short linger (so the client can still read the 413).
 * - slow senders: `headersTimeout` (slowloris), `requestTimeout` (slow bodies), an idle socket
 *   timeout, a TLS handshake timeout, and at most `maxConnections` connections.
 * - floods: a token bucket per client address, or per client-certificate subject under mTLS → 429
 *   with Retry-After; other senders are unaffected.
 * - XML: parsing (and so XXE, entity expansion, depth bombs) is iodef/parse.ts's job; a rejection
 *   is 400 with the parser's short reason, never document or file content.
 * - a store that fails is 503 with Retry-After: the CA retries, no report is acknowledged and lost.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CertvigilError } from '../../errors.js';
import type { Store } from '../../store/types.js';
import { acceptReport } from './intake.js';
import type { IntakeResult, ReportAlerter } from './intake.js';
import { TokenBucketLimiter } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';

/** RFC 6546 §3 `application/rid+xml`, plus the XML types CAs send in practice. */
export const ACCEPTED_CONTENT_TYPES: readonly string[] = [
  'application/rid+xml',
  'application/xml',
  'text/xml',
  'application/iodef+xml',
];

export interface HttpReceiverLimits {
  /** Largest body accepted, bytes. Default 256 KiB. */
  maxBodyBytes?: number;
  /** Whole header section must arrive within this. Default 10 s. */
  headersTimeoutMs?: number;
  /** Whole request (headers and body) must arrive within this. Default 30 s. */
  requestTimeoutMs?: number;
  /** A socket with no traffic for this long is closed. Default 15 s. */
  idleTimeoutMs?: number;
  /** Keep-alive wait for the next request. Default 5 s. */
  keepAliveTimeoutMs?: number;
  /** TLS handshake must finish within this. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Concurrent connections; more are dropped. Default 100. */
  maxConnections?: number;
  /** Header section size, bytes. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Per-sender token bucket. */
  rate?: RateLimitOptions;
  /** How long a 413'd connection may still drain before it is cut. Default 2 s. */
  lingerMs?: number;
  /** Passed to the parser. */
  maxDepth?: number;
}

export interface HttpReceiverTls {
  cert: string | Buffer;
  key: string | Buffer;
  /** Require a client certificate issued by `clientCa` (mTLS); clients without one are refused. */
  requestClientCert?: boolean;
  clientCa?: string | Buffer;
}

/** Every request's outcome, for logs and metrics (not only reports). */
export interface HttpReceiverEvent {
  status: number;
  sender: string;
  outcome: IntakeResult['status'] | 'method' | 'path' | 'media-type' | 'too-large' | 'rate-limited' | 'error';
  reason?: string;
  id?: number;
  line?: string;
}

export interface HttpReceiverOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 for any free port. */
  port: number;
  /** Without it the receiver speaks plain HTTP (only behind a TLS-terminating proxy: RFC 6546 §5). */
  tls?: HttpReceiverTls;
  /** Path reports are POSTed to. Default `/`. */
  path?: string;
  store: Pick<Store, 'storeReceivedIodef'>;
  /** Alert sinks for new reports (notify `createNotifiers`), or a function; default none. */
  alert?: ReportAlerter;
  /** Called for every request's outcome; must not throw (errors are ignored). */
  onReport?: (event: HttpReceiverEvent) => void;
  limits?: HttpReceiverLimits;
}

export interface HttpReceiver {
  url: string;
  port: number;
  /** Stops listening and cuts open connections. */
  close(): Promise<void>;
  /** The token buckets (tests, metrics). */
  readonly limiter: TokenBucketLimiter;
}

const KIB = 1024;

export async function startHttpReceiver(options: HttpReceiverOptions): Promise<HttpReceiver> {
  const limits = options.limits ?? {};
  const maxBody = positive(limits.maxBodyBytes, 256 * KIB);
  const headersTimeout = positive(limits.headersTimeoutMs, 10_000);
  const requestTimeout = Math.max(positive(limits.requestTimeoutMs, 30_000), headersTimeout);
  const lingerMs = positive(limits.lingerMs, 2_000);
  const path = options.path ?? '/';
  if (!path.startsWith('/'))
    throw new CertvigilError('CONFIG_INVALID', `iodef receiver path must start with /: ${path}`);
  const limiter = new TokenBucketLimiter(limits.rate);
  const alert = options.alert ?? null;
  const host = options.host ?? '127.0.0.1';

  const serverOptions: ServerOptions = {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: positive(limits.keepAliveTimeoutMs, 5_000),
    maxHeaderSize: positive(limits.maxHeaderBytes, 16 * KIB),
    // Node checks header/request deadlines on this interval (default 30 s): keep it fine-grained.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 4))),
    requireHostHeader: false,
  };

  const emit = (event: HttpReceiverEvent): void => {
    try {
      options.onReport?.(event);
    } catch {
      // a logging hook must not take the receiver down
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sender = senderOf(req);
    const done = (
      status: number,
      outcome: HttpReceiverEvent['outcome'],
      reason: string,
      extra: Partial<HttpReceiverEvent> = {},
    ): void => {
      emit({ status, sender: sender.label, outcome, reason, ...extra });
    };
    if (req.method !== 'POST') {
      reply(res, 405, 'only POST is allowed (RFC 6546)', { Allow: 'POST' });
      done(405, 'method', `method ${String(req.method)}`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://receiver.invalid');
    if (url.pathname !== path) {
      reply(res, 404, 'not found');
      done(404, 'path', 'wrong path');
      return;
    }
    const rate = limiter.take(sender.key);
    if (!rate.allowed) {
      refuse(req, res, 429, 'too many reports, slow down', { 'Retry-After': String(rate.retryAfterSeconds) });
      done(429, 'rate-limited', `retry after ${rate.retryAfterSeconds} s`);
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!ACCEPTED_CONTENT_TYPES.includes(type)) {
      refuse(req, res, 415, `content type must be one of ${ACCEPTED_CONTENT_TYPES.join(', ')}`, {
        Accept: ACCEPTED_CONTENT_TYPES.join(', '),
      });
      done(415, 'media-type', `content type ${type === '' ? '(none)' : type}`);
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBody) {
      refuse(req, res, 413, `body over ${maxBody} bytes`);
      done(413, 'too-large', `declared ${declared} bytes`);
      return;
    }
    // Invite the body only now, after every check that could refuse it.
    if (String(req.headers.expect ?? '').toLowerCase() === '100-continue') res.writeContinue();
    const body = await readCapped(req, maxBody);
    if (body === 'too-large') {
      refuse(req, res, 413, `body over ${maxBody} bytes`);
      done(413, 'too-large', 'body over the cap');
      return;
    }
    if (body === 'aborted') {
      done(400, 'error', 'client aborted');
      return;
    }
    let result: IntakeResult;
    try {
      const intakeOptions: { maxBytes: number; maxDepth?: number } = { maxBytes: maxBody };
      if (limits.maxDepth !== undefined) intakeOptions.maxDepth = limits.maxDepth;
      result = await acceptReport(
        options.store,
        alert,
        { bytes: body, sender: sender.label, channel: 'https' },
        intakeOptions,
      );
    } catch {
      reply(res, 503, 'cannot store the report now; try again later', { 'Retry-After': '60' });
      done(503, 'error', 'store failed');
      return;
    }
    switch (result.status) {
      case 'stored':
        reply(res, 200, `stored report ${result.id}`);
        done(200, 'stored', result.schemaValid ? 'schema-valid' : 'not schema-valid', {
          id: result.id,
          line: result.line,
        });
        return;
      case 'duplicate':
        reply(res, 200, `duplicate of report ${result.id}`);
        done(200, 'duplicate', 'already stored', { id: result.id });
        return;
      case 'rejected':
        reply(res, 400, result.reason);
        done(400, 'rejected', result.reason);
        return;
    }
  }

  /** Answers without reading the body, then closes the connection after a short drain. */
  function refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    text: string,
    headers: Record<string, string> = {},
  ): void {
    reply(res, status, text, { ...headers, Connection: 'close' });
    const socket = req.socket;
    res.on('finish', () => {
      setTimeout(() => socket.destroy(), lingerMs).unref();
    });
  }

  const server: Server =
    options.tls === undefined
      ? createHttpServer(serverOptions, handler)
      : createTlsServer(options.tls, serverOptions, limits, handler);
  server.maxConnections = Math.floor(positive(limits.maxConnections, 100));
  server.timeout = positive(limits.idleTimeoutMs, 15_000);
  server.on('clientError', (_err: Error, socket: Socket) => {
    // Malformed HTTP, header overflow, header/request timeouts: Node already answered when it could.
    if (socket.writable && !socket.destroyed) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    socket.destroy();
  });
  // Without this listener Node answers `Expect: 100-continue` before our checks ran.
  server.on('checkContinue', handler);
  server.on('tlsClientError', () => undefined);
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(
        new CertvigilError(
          'CONFIG_INVALID',
          `iodef receiver cannot listen on ${host}:${options.port}: ${err.message}`,
          { cause: err },
        ),
      );
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${scheme}://${urlHost}:${port}${path}`,
    port,
    limiter,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function createTlsServer(
  tls: HttpReceiverTls,
  serverOptions: ServerOptions,
  limits: HttpReceiverLimits,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  if (tls.requestClientCert === true && tls.clientCa === undefined) {
    throw new CertvigilError(
      'CONFIG_INVALID',
      'iodef receiver: client certificates requested but no client CA given',
    );
  }
  const mtls = tls.requestClientCert === true;
  return createHttpsServer(
    {
      ...serverOptions,
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.2',
      handshakeTimeout: positive(limits.handshakeTimeoutMs, 10_000),
      ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: tls.clientCa } : {}),
    },
    handler,
  ) as unknown as Server;
}

/** Rate-limit key and stored label: the certificate subject under mTLS, else the client address. */
function senderOf(req: IncomingMessage): { key: string; label: string } {
  const raw = req.socket.remoteAddress ?? 'unknown';
  const address = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
  const tlsSocket = req.socket as Partial<TLSSocket>;
  if (tlsSocket.authorized === true && typeof tlsSocket.getPeerCertificate === 'function') {
    const cert = tlsSocket.getPeerCertificate();
    const subject = Object.entries(cert.subject ?? {})
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
      .join(',');
    if (subject !== '') return { key: `cert:${subject}`, label: `${address} (cert ${subject})` };
  }
  return { key: `addr:${address}`, label: address };
}

/** The body, or 'too-large' as soon as it crosses `max` (reading stops; nothing more is kept). */
function readCapped(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (value: Buffer | 'too-large' | 'aborted'): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAbort);
      req.off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > max) {
        chunks.length = 0;
        req.pause();
        finish('too-large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(Buffer.concat(chunks, total));
    const onAbort = (): void => finish('aborted');
    const onClose = (): void => {
      if (!req.complete) finish('aborted');
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAbort);
    req.on('close', onClose);
  });
}

function reply(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const body = `${text}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}
