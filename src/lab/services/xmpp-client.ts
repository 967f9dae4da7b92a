/**
 * @module lab/services/xmpp-client
 * The interceptor's STARTTLS towards the real server (RFC 6120 §5.4.2, client side): the proxy
 * terminates the victim's client's TLS itself, so it must open its own TLS session to the backend,
 * which on 5222 begins with the plaintext dialogue. (src/probe/starttls/xmpp.ts is certvigil's own
 * client for the same dialogue; lab sits beside probe on the module map and cannot import it, and
 * the attacker's software would not be certvigil anyway.)
 */
import type { Socket } from 'node:net';
import { MAX_PRE_TLS_BYTES } from './bounds.js';
import { NS_STREAMS, NS_TLS } from './xmpp-wire.js';

const FEATURES_END = /<(?:[\w.-]+:)?features(?:\s[^>]*)?\/>|<\/(?:[\w.-]+:)?features\s*>/;
const ANSWER = /<(?:[\w.-]+:)?(proceed|failure)\b[^>]*>/;
const GIVE_UP = /<(?:[\w.-]+:)?error[\s>]|<\/(?:[\w.-]+:)?stream\s*>/;

/**
 * Opens the stream to `domain`, requires `<starttls/>` among the features, asks for it and waits for
 * `<proceed/>`. Resolves with the socket paused at the point where TLS starts; rejects (and destroys
 * the socket) on anything else, on more than MAX_PRE_TLS_BYTES, or after `timeoutMs`.
 */
export function startTlsToBackend(socket: Socket, domain: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    let phase: 'features' | 'proceed' = 'features';
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', finish);
      socket.off('close', onClose);
      if (err === undefined) {
        socket.pause();
        resolve();
      } else {
        socket.destroy();
        reject(err);
      }
    };
    const onClose = (): void => finish(new Error('backend closed during STARTTLS'));
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (text.length > MAX_PRE_TLS_BYTES) return finish(new Error('backend sent too much before TLS'));
      if (GIVE_UP.test(text)) return finish(new Error('backend ended the stream before TLS'));
      if (phase === 'features') {
        const end = FEATURES_END.exec(text);
        if (end === null) return;
        if (!new RegExp(`<(?:[\\w.-]+:)?starttls\\b[^>]*${NS_TLS}`).test(text))
          return finish(new Error('backend does not offer STARTTLS'));
        text = text.slice(end.index + end[0].length);
        phase = 'proceed';
        socket.write(`<starttls xmlns='${NS_TLS}'/>`);
      }
      const answer = ANSWER.exec(text);
      if (answer === null) return;
      finish(answer[1] === 'proceed' ? undefined : new Error('backend refused STARTTLS'));
    };
    const timer = setTimeout(() => finish(new Error('backend STARTTLS timed out')), timeoutMs);
    socket.on('data', onData);
    socket.once('error', finish);
    socket.once('close', onClose);
    socket.write(
      `<?xml version='1.0'?><stream:stream to='${domain.replace(/[&<>'"]/g, '')}' xmlns='jabber:client'` +
        ` xmlns:stream='${NS_STREAMS}' version='1.0'>`,
    );
  });
}
