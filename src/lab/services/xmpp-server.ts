/**
 * @module lab/services/xmpp-server
 * The server side of an XMPP client-to-server stream, as much as the lab needs (RFC 6120): the
 * plaintext phase of port 5222 up to `<proceed/>` (§5.4), and the minimal stream after TLS (the
 * stream restart of §5.4.3.3 on 5222, the first stream on a XEP-0368 direct-TLS port). Used by the
 * victim's services and, for the plaintext phase, by the interceptor, which plays the server up
 * to `<proceed/>` itself.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { MAX_PRE_TLS_BYTES } from './bounds.js';
import type { Scan } from './xmpp-wire.js';
import {
  FEATURES_AFTER_TLS,
  FEATURES_STARTTLS,
  PROCEED,
  STREAM_CLOSE,
  scanElement,
  scanStreamHeader,
  serverHeader,
  streamError,
} from './xmpp-wire.js';

export interface XmppServerOptions {
  /** The service's domain (`from` of our header); a client's `to` must name it (§4.7.2). */
  domain: string;
  /** The whole dialogue must finish within this (connection-timeout, §4.9.3.4, otherwise). */
  timeoutMs: number;
}

/** What the reader hands to a step: an item scanned, or one of the two bounds hit. */
type Found = Exclude<Scan, { kind: 'need-more' }> | { kind: 'too-much' } | { kind: 'timeout' };
type Step = (found: Found) => 'continue' | 'stop';

/**
 * Feeds what `socket` sends through `scanner`, calling `step` for each item found, bounded by
 * MAX_PRE_TLS_BYTES (`too-much`) and `timeoutMs` (`timeout`; the step must stop on both). `step`
 * returning 'stop' detaches the reader: every listener added here is removed and the socket is
 * left as the step left it (paused for a hand-off to TLS, otherwise drained so the peer's FIN
 * still closes it).
 */
function converse(
  socket: Duplex,
  options: XmppServerOptions,
  scanner: () => (text: string) => Scan,
  step: Step,
): void {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let bytes = 0;
  let scan = scanner();
  let done = false;
  const detach = (): void => {
    done = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', detach);
  };
  const handle = (found: Found): boolean => {
    if (step(found) === 'continue') return false;
    detach();
    if (!socket.isPaused()) socket.resume();
    return true;
  };
  const timer = setTimeout(() => {
    if (!done) handle({ kind: 'timeout' });
  }, options.timeoutMs);
  const onData = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (bytes > MAX_PRE_TLS_BYTES) {
      handle({ kind: 'too-much' });
      return;
    }
    text += decoder.write(chunk);
    for (;;) {
      const found = scan(text);
      if (found.kind === 'need-more') return;
      if (found.kind !== 'bad') text = text.slice(found.consumed);
      if (handle(found)) return;
      scan = scanner();
    }
  };
  socket.on('data', onData);
  socket.once('close', detach);
}

/**
 * Whether the `to` of a client's header names our domain (absent is tolerated, §4.7.2).
 * DEVIATION: an IP literal is accepted too (RFC 6120 §4.7.2 wants host-unknown for it): in the lab
 * every client addresses the services as 127.0.0.1, and `certvigil check endpoint 127.0.0.1
 * --starttls xmpp` without `--sni` sends that as `to`. Any other foreign name gets host-unknown.
 */
function forUs(to: string | undefined, domain: string): boolean {
  return (
    to === undefined || to.toLowerCase() === domain.toLowerCase() || isIP(to.replace(/^\[|\]$/g, '')) !== 0
  );
}

/**
 * Port 5222 before TLS: answers the stream header with ours and STARTTLS as the one (required)
 * feature, and `<starttls/>` with `<proceed/>`; then hands the socket, paused and exactly at the
 * client's ClientHello, to `onStartTls`. Plaintext the client sent after `<starttls/>` is dropped
 * (never carried into the TLS session: the STARTTLS command-injection class, CVE-2011-0411).
 * Garbage, a foreign domain, other elements, too many bytes or too slow: a stream error, closed.
 */
export function serveXmppBeforeTls(
  socket: Duplex,
  options: XmppServerOptions,
  onStartTls: (socket: Duplex) => void,
): void {
  let opened = false;
  let expectHeader = true;
  const fail = (condition: Parameters<typeof streamError>[0]): 'stop' => {
    // §4.9.1.1: an error before our header still needs our header first.
    socket.end(`${opened ? '' : serverHeader(options.domain, streamId())}${streamError(condition)}`);
    return 'stop';
  };
  converse(
    socket,
    options,
    () => (expectHeader ? scanStreamHeader : scanElement),
    (found) => {
      switch (found.kind) {
        case 'header':
          if (!forUs(found.to, options.domain)) return fail('host-unknown');
          socket.write(serverHeader(options.domain, streamId()) + FEATURES_STARTTLS);
          opened = true;
          expectHeader = false;
          return 'continue';
        case 'starttls':
          socket.write(PROCEED);
          // Paused before the reader detaches: the ClientHello must stay unread for the TLS layer.
          socket.pause();
          queueMicrotask(() => onStartTls(socket));
          return 'stop';
        case 'close':
          socket.end(STREAM_CLOSE);
          return 'stop';
        case 'element':
        case 'too-much':
          // §5.3.1: TLS is mandatory-to-negotiate here, nothing else is processed before it.
          return fail('policy-violation');
        case 'timeout':
          return fail('connection-timeout');
        default:
          return fail('not-well-formed');
      }
    },
  );
}

/**
 * After TLS: the client (re)opens the stream (§5.4.3.3); we answer with our header and empty
 * features, close the stream when the client closes it (§4.4), and answer anything else with
 * `not-authorized` (§4.9.3.12: no stanza before authentication, and the lab authenticates nobody).
 */
export function serveXmppAfterTls(socket: Duplex, options: XmppServerOptions): void {
  let expectHeader = true;
  converse(
    socket,
    options,
    () => (expectHeader ? scanStreamHeader : scanElement),
    (found) => {
      if (found.kind === 'header' && expectHeader) {
        if (!forUs(found.to, options.domain)) {
          socket.end(serverHeader(options.domain, streamId()) + streamError('host-unknown'));
          return 'stop';
        }
        socket.write(serverHeader(options.domain, streamId()) + FEATURES_AFTER_TLS);
        expectHeader = false;
        return 'continue';
      }
      const prefix = expectHeader ? serverHeader(options.domain, streamId()) : '';
      const condition =
        found.kind === 'bad'
          ? 'not-well-formed'
          : found.kind === 'timeout'
            ? 'connection-timeout'
            : found.kind === 'too-much'
              ? 'policy-violation'
              : 'not-authorized';
      if (found.kind === 'close') socket.end(STREAM_CLOSE);
      else socket.end(prefix + streamError(condition));
      return 'stop';
    },
  );
}

function streamId(): string {
  return randomBytes(8).toString('hex');
}
