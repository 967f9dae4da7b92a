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
 *   timeout, a TLS handshake timeout, at most `maxConnections` connections in total and
 *   `maxConnectionsPerAddress` per client address (IPv6: per /64), and a wall-clock limit per
 *   connection (`maxConnectionMs`), so 100 idle sockets from one client cannot lock everyone out.
 * - floods: a token bucket per client /64 (IPv4: per address), or per client certificate under
 *   mTLS → 429 with Retry-After; other senders are unaffected; a global daily cap on stored
 *   reports and bytes (intake `quota`) → 503 with Retry-After.
 * - a request target that is not a URL (`POST http://[::1 HTTP/1.1`) is the client's error: 400.
 * - a TLS certificate and key that do not parse or do not match, or a client CA that does not
 *   parse, refuse to START (CONFIG_INVALID), instead of listening and failing every handshake.
 * - replies: `accepted report RECEIPT` for a new report and for the sender's own duplicate alike
 *   (intake.ts): no reply tells whether another sender reported the same IncidentID.
 * - XML: parsing (and so XXE, entity expansion, depth bombs) is iodef/parse.ts's job; a rejection
 *   is 400 with the parser's short reason, never document or file content.
 * - a store that fails is 503 with Retry-After: the CA retries, no report is acknowledged and lost.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { CertvigilError, errorMessage } from '../../errors.js';
import type { Store } from '../../store/index.js';
import { acceptedReply, acceptReport, oneLine } from './intake.js';
import type { IntakeOptions, IntakeResult, ReportAlerter } from './intake.js';
import { addressKey, ConnectionCounter, TokenBucketLimiter } from './rate-limit.js';
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
  /** Concurrent connections per client address (IPv6: per /64); more are dropped. Default 8. */
  maxConnectionsPerAddress?: number;
  /** A connection is cut after this long, however busy. Default 2 min. */
  maxConnectionMs?: number;
  /** Header section size, bytes. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Per-sender token bucket. */
  rate?: RateLimitOptions;
  /** How long a 413'd connection may still drain before it is cut. Default 2 s. */
  lingerMs?: number;
  /** Passed to the parser. */
  maxDepth?: number;
  /** Global daily cap on stored reports and bytes (intake `quota`). */
  quota?: IntakeOptions['quota'];
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
  outcome:
    | IntakeResult['status']
    | 'method'
    | 'path'
    | 'bad-target'
    | 'media-type'
    | 'too-large'
    | 'rate-limited'
    | 'error';
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
  const perAddress = new ConnectionCounter(positive(limits.maxConnectionsPerAddress, 8));
  const maxConnectionMs = positive(limits.maxConnectionMs, 120_000);
  const alert = options.alert ?? null;
  const host = options.host ?? '127.0.0.1';
  if (options.tls !== undefined) checkTlsMaterial(options.tls);

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
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://receiver.invalid');
    } catch {
      // The request target is the client's text (`POST http://[::1 HTTP/1.1`): its error, not ours.
      reply(res, 400, 'bad request target', { Connection: 'close' });
      done(400, 'bad-target', 'request target is not a URL');
      return;
    }
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
      const intakeOptions: IntakeOptions = { maxBytes: maxBody };
      if (limits.maxDepth !== undefined) intakeOptions.maxDepth = limits.maxDepth;
      if (limits.quota !== undefined) intakeOptions.quota = limits.quota;
      result = await acceptReport(
        options.store,
        alert,
        { bytes: body, sender: sender.label, senderKey: sender.identity, channel: 'https' },
        intakeOptions,
      );
    } catch {
      reply(res, 503, 'cannot store the report now; try again later', { 'Retry-After': '60' });
      done(503, 'error', 'store failed');
      return;
    }
    switch (result.status) {
      case 'stored':
        reply(res, 200, acceptedReply(result));
        done(
          200,
          'stored',
          `${result.schemaValid ? 'schema-valid' : 'not schema-valid'}${result.conflict ? ', conflicting-report' : ''}`,
          { id: result.id, line: result.line },
        );
        return;
      case 'duplicate':
        // The same reply as for a new report: a sender may learn about its own duplicates only.
        reply(res, 200, acceptedReply(result));
        done(200, 'duplicate', 'already stored from this sender', { id: result.id });
        return;
      case 'over-quota':
        reply(res, 503, result.reason, { 'Retry-After': '3600' });
        done(503, 'over-quota', 'daily quota reached');
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
  // Raw TCP connections, before TLS: a per-address cap and a wall-clock limit per connection.
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress ?? 'unknown');
    if (!perAddress.acquire(key)) {
      socket.destroy();
      return;
    }
    const deadline = setTimeout(() => socket.destroy(), maxConnectionMs);
    deadline.unref();
    socket.once('close', () => {
      clearTimeout(deadline);
      perAddress.release(key);
    });
  });
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

/**
 * Who sent a request. `key`: the rate-limit bucket (the client certificate under mTLS, else the
 * client /64 or IPv4 address); `identity`: the dedup identity (the certificate's subject and
 * issuer under mTLS, else the full client address); `label`: for people and the store.
 */
function senderOf(req: IncomingMessage): { key: string; identity: string; label: string } {
  const raw = req.socket.remoteAddress ?? 'unknown';
  const address = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
  const tlsSocket = req.socket as Partial<TLSSocket>;
  if (tlsSocket.authorized === true && typeof tlsSocket.getPeerCertificate === 'function') {
    const cert = tlsSocket.getPeerCertificate();
    const dn = (name: Record<string, unknown> | undefined): string =>
      Object.entries(name ?? {})
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
        .join(',');
    const subject = dn(cert.subject as Record<string, unknown> | undefined);
    const issuer = dn(cert.issuer as Record<string, unknown> | undefined);
    if (subject !== '') {
      const identity = `cert:${subject} issuer ${issuer}`;
      return { key: identity, identity, label: `${address} (cert ${subject})` };
    }
  }
  return { key: `addr:${addressKey(address)}`, identity: `addr:${address}`, label: address };
}

/**
 * Refuses TLS material that cannot work, before listening: a certificate or key that does not
 * parse, a key that is not the certificate's, a client CA file without one parsable certificate.
 */
export function checkTlsMaterial(tls: HttpReceiverTls): void {
  const fail = (what: string, cause: unknown): never => {
    throw new CertvigilError(
      'CONFIG_INVALID',
      `iodef receiver: ${what}: ${oneLine(errorMessage(cause), 160)}`,
      { cause },
    );
  };
  try {
    new X509Certificate(tls.cert);
  } catch (cause) {
    fail('the TLS certificate does not parse', cause);
  }
  try {
    // Throws "key values mismatch" when the key is not the certificate's, or on a bad key.
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (cause) {
    fail('the TLS certificate and key do not work together', cause);
  }
  if (tls.clientCa !== undefined) {
    const text = Buffer.isBuffer(tls.clientCa) ? tls.clientCa.toString('latin1') : tls.clientCa;
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0)
      fail('the client CA file holds no PEM certificate', 'no BEGIN CERTIFICATE block');
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch (cause) {
        fail('a client CA certificate does not parse', cause);
      }
    }
  }
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
