/**
 * @module probe/revocation/http
 * The one transport of revocation: an HTTP GET (CRL, RFC 5280 §4.2.1.13) or POST (OCSP, RFC 6960
 * Appendix A.1) to a URL taken from a certificate, bounded in size and time and abortable. node:http
 * rather than fetch/undici: nothing heavy to load at start-up, and the byte limit is enforced while
 * reading. Redirects are not followed (a responder has no reason to redirect, and a CRL URL that
 * redirects elsewhere is the certificate pointing us somewhere it did not name).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { isIP } from 'node:net';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import { openTcp } from '../connect.js';
import type { ProxySpec } from '../connect.js';

export interface RevocationRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: Uint8Array;
  contentType?: string;
  accept?: string;
  /** Refuse a body larger than this (bytes). */
  maxBytes: number;
  /** Epoch milliseconds after which the request is abandoned. */
  deadline: number;
  signal?: AbortSignal;
  /**
   * The check's `--proxy`: the responder and the CRL are reached through it too, so a host whose
   * only way out is the proxy can still check revocation, and no direct connection reveals it.
   */
  proxy?: ProxySpec;
}

/** The fetcher the revocation check uses; tests inject their own. Resolves the body of a 200. */
export type RevocationFetch = (req: RevocationRequest) => Promise<Uint8Array>;

/** Only plain http(s) URLs are fetched: an ldap:// or file: URL in a certificate is skipped. */
export function fetchableUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

export const httpRevocationFetch: RevocationFetch = (req) =>
  new Promise<Uint8Array>((resolve, reject) => {
    const shown = sanitizeText(req.url, { maxLength: 200 });
    const left = req.deadline - Date.now();
    if (left <= 0) {
      reject(new CertvigilError('REVOCATION_TIMEOUT', 'no time left for the request'));
      return;
    }
    if (req.signal?.aborted) {
      reject(new CertvigilError('REVOCATION_TIMEOUT', 'aborted'));
      return;
    }
    const url = new URL(req.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (error: CertvigilError | null, body?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
      if (error) {
        r.destroy();
        reject(error);
      } else resolve(body ?? new Uint8Array());
    };
    const timer = setTimeout(
      () => finish(new CertvigilError('REVOCATION_TIMEOUT', `no answer within ${Math.round(left)} ms`)),
      left,
    );
    const onAbort = (): void => finish(new CertvigilError('REVOCATION_TIMEOUT', 'aborted'));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string | number> = { 'user-agent': 'certvigil' };
    if (req.accept) headers.accept = req.accept;
    if (req.body) {
      headers['content-type'] = req.contentType ?? 'application/octet-stream';
      headers['content-length'] = req.body.length;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const proxy = req.proxy;
    // Through the proxy: our own tunnel (connect.ts), TLS on top of it for https.
    const viaProxy = proxy
      ? {
          createConnection: (
            _o: ClientRequestArgs,
            done: (e: Error | null, s: Duplex) => void,
          ): undefined => {
            openTcp(host, port, {
              timeoutMs: Math.max(1, req.deadline - Date.now()),
              proxy,
              ...(req.signal ? { signal: req.signal } : {}),
            })
              .then((raw) =>
                url.protocol === 'https:'
                  ? tlsConnect({ socket: raw, ...(isIP(host) ? {} : { servername: host }) })
                  : raw,
              )
              .then(
                (sock) => done(null, sock),
                // With an error Node's oncreate never looks at the socket; its type wants one anyway.
                (e: unknown) =>
                  done(e instanceof Error ? e : new Error(String(e)), undefined as unknown as Duplex),
              );
            return undefined;
          },
        }
      : {};
    const r = send(url, { method: req.method, headers, ...viaProxy }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        res.resume();
        const redirect =
          res.statusCode && res.statusCode >= 300 && res.statusCode < 400
            ? ' (redirects are not followed)'
            : '';
        finish(new CertvigilError('REVOCATION_HTTP', `HTTP ${res.statusCode ?? '?'}${redirect}`));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > req.maxBytes) {
        res.destroy();
        finish(
          new CertvigilError(
            'REVOCATION_TOO_LARGE',
            `the body (${declared} bytes) is over the ${req.maxBytes}-byte limit`,
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > req.maxBytes) {
          res.destroy();
          finish(
            new CertvigilError('REVOCATION_TOO_LARGE', `the body is over the ${req.maxBytes}-byte limit`),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.once('end', () => finish(null, new Uint8Array(Buffer.concat(chunks))));
      res.once('error', (e: Error) =>
        finish(new CertvigilError('REVOCATION_HTTP', `reading the body failed: ${e.message}`)),
      );
    });
    r.once('error', (e: Error) =>
      finish(
        new CertvigilError(
          'REVOCATION_HTTP',
          sanitizeText(e.message.replace(req.url, shown), { maxLength: 200 }),
        ),
      ),
    );
    r.end(req.body ? Buffer.from(req.body) : undefined);
  });
