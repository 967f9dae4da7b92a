/**
 * @module probe/handshake
 * One real TLS handshake with Node's TLS stack (OpenSSL) on an already connected socket (after
 * STARTTLS when the protocol needs it): the presented chain, path validation against the chosen
 * trust store, a stapled OCSP response (RFC 6066 §8) and timing. The connection is closed right
 * after; nothing is sent on it.
 *
 * Path validation is OpenSSL's (via Node), against the trust store we pass; the host name is
 * checked separately (`checks.ts`) so that "untrusted" and "wrong name" stay two findings.
 */
import { connect as tlsConnect } from 'node:tls';
import type { ConnectionOptions, DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { CertvigilError } from '../errors.js';
import { keyTypeOffer } from './key-types.js';
import type { ServerKeyType } from './key-types.js';

export interface TlsHandshakeOptions {
  servername: string | null;
  /** PEM trust anchors; replaces the default store. */
  ca: string | string[];
  timeoutMs: number;
  signal?: AbortSignal;
  /** Offer only what a certificate of this key type can satisfy (dual-certificate servers). */
  keyType?: ServerKeyType;
  /** A client certificate (PEM, leaf first) and its key, for servers that ask for one. */
  clientCert?: { cert: string; key: string };
}

/**
 * RFC 8446 §4.4.2.4 / §6.2: in TLS 1.3 a server that rejects (or misses) the client certificate
 * says so with an alert AFTER the client's Finished, i.e. after Node's 'secureConnect'. So for
 * TLS 1.3 we wait for the server's next word: a NewSessionTicket ('session', which most servers
 * send at once), an alert ('error') or a close — for about one more round trip, bounded here.
 */
const POST_HANDSHAKE_MIN_MS = 50;
const POST_HANDSHAKE_MAX_MS = 1000;

export interface TlsHandshakeResult {
  protocol: string | null;
  cipher: string | null;
  handshakeMs: number;
  chain: Uint8Array[];
  authorized: boolean;
  authorizationError: string | null;
  ocspResponse: Uint8Array | null;
}

/** The chain as Node reports it, leaf first, stopping at a self-issued certificate or a loop. */
function chainOf(peer: DetailedPeerCertificate): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = peer;
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(new Uint8Array(cert.raw));
    const next: DetailedPeerCertificate | undefined = cert.issuerCertificate as
      DetailedPeerCertificate | undefined;
    if (!next || next === cert) break;
    cert = next;
  }
  return out;
}

/** Node's error, with the one a plugin user acts on spelled out: the server wants a client certificate. */
function tlsErrorText(e: Error, options: TlsHandshakeOptions): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  // RFC 8446 §4.4.2.4: certificate_required (116); TLS 1.2 servers send handshake_failure (40).
  if (/CERTIFICATE_REQUIRED/.test(code))
    return options.clientCert
      ? 'the server requires a client certificate and did not take the one given'
      : 'the server requires a client certificate (give --client-cert)';
  if (options.clientCert && /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|DECRYPT_ERROR)/.test(code))
    return `the server refused the client certificate (${code})`;
  // TLS 1.2 has no certificate_required alert: a server that wants a client certificate and gets
  // none usually answers handshake_failure (RFC 5246 §7.4.6), as it does for no common cipher.
  // (Not with a key-type offer: there the missing certificate type is the likely reason.)
  if (!options.clientCert && !options.keyType && /ALERT_HANDSHAKE_FAILURE/.test(code))
    return `${e.message.trim()} (a server that requires a client certificate answers so too: --client-cert)`;
  return e.message;
}

export async function tlsHandshake(
  socket: Socket,
  options: TlsHandshakeOptions,
): Promise<TlsHandshakeResult> {
  const started = performance.now();
  return new Promise<TlsHandshakeResult>((resolve, reject) => {
    let ocspResponse: Uint8Array | null = null;
    let tls: TLSSocket | null = null;
    const fail = (error: CertvigilError): void => {
      cleanup();
      tls?.destroy();
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new CertvigilError('PROBE_TIMEOUT', `TLS handshake did not finish within ${options.timeoutMs} ms`),
        ),
      options.timeoutMs,
    );
    const onAbort = (): void => fail(new CertvigilError('PROBE_TIMEOUT', 'TLS handshake aborted'));
    const cleanup = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // `requestOCSP` is a TLSSocket option that tls.connect passes through; @types/node omits it.
    const connectOptions: ConnectionOptions & { requestOCSP: boolean } = {
      socket,
      ...(options.servername ? { servername: options.servername } : {}),
      ca: options.ca,
      rejectUnauthorized: false,
      requestOCSP: true,
      // Host-name matching is its own finding (checks.ts); here only the path is validated.
      checkServerIdentity: () => undefined,
      minVersion: 'TLSv1',
      ...(options.keyType
        ? { sigalgs: keyTypeOffer(options.keyType).sigalgs, ciphers: keyTypeOffer(options.keyType).ciphers }
        : {}),
      ...(options.clientCert ? { cert: options.clientCert.cert, key: options.clientCert.key } : {}),
    };
    tls = tlsConnect(connectOptions);
    // Node emits null when the server staples nothing.
    tls.on('OCSPResponse', (response: Buffer | null) => {
      if (response && response.length > 0) ocspResponse = new Uint8Array(response);
    });
    tls.once('error', (e: Error) =>
      fail(new CertvigilError('PROBE_TLS', `TLS handshake failed: ${tlsErrorText(e, options)}`)),
    );
    tls.once('secureConnect', () => {
      const t = tls;
      if (!t) return;
      const handshakeMs = performance.now() - started;
      const peer = t.getPeerCertificate(true);
      const cipher = t.getCipher();
      const authError = t.authorizationError as Error | string | null | undefined;
      const result: TlsHandshakeResult = {
        protocol: t.getProtocol() ?? null,
        cipher: cipher.standardName || cipher.name || null,
        handshakeMs,
        chain: peer.raw ? chainOf(peer) : [],
        authorized: t.authorized,
        authorizationError: authError
          ? typeof authError === 'string'
            ? authError
            : authError.message
          : null,
        ocspResponse,
      };
      const finish = (): void => {
        cleanup();
        t.destroy();
        resolve({ ...result, ocspResponse });
      };
      if (result.protocol !== 'TLSv1.3') {
        finish();
        return;
      }
      // See POST_HANDSHAKE_*: a certificate_required / bad_certificate alert fails via 'error'.
      const left = options.timeoutMs - (performance.now() - started) - 5;
      const grace = Math.max(
        0,
        Math.min(left, POST_HANDSHAKE_MAX_MS, Math.max(POST_HANDSHAKE_MIN_MS, 1.5 * handshakeMs)),
      );
      const wait = setTimeout(finish, grace);
      const done = (): void => {
        clearTimeout(wait);
        finish();
      };
      t.once('session', done);
      t.once('end', done);
      t.once('error', () => clearTimeout(wait));
    });
  });
}
