/**
 * @module probe/starttls/xmpp
 * XMPP STARTTLS: RFC 6120 §5.4, client-to-server (5222) and server-to-server (5269) streams.
 */
import type { Conversation } from './conversation.js';
import { quote } from './conversation.js';

const XMPP_TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** A stream error (RFC 6120 §4.9) or the stream's end: the server gave up on us. */
const XMPP_GIVE_UP = /<(?:[\w.-]+:)?error[\s>][\s\S]*<\/(?:[\w.-]+:)?error\s*>|<\/(?:[\w.-]+:)?stream\s*>/;

function xmlEscape(value: string): string {
  return value.replace(/[&<>'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * RFC 6120 §5.4.2: open the stream, read the features, require `<starttls/>` in the TLS namespace,
 * send `<starttls/>`, expect `<proceed/>`. A tolerant scanner over the bytes, not an XML parser:
 * the features element is small and the namespaces are fixed.
 */
export async function xmpp(c: Conversation, domain: string, server: boolean): Promise<void> {
  const ns = server ? 'jabber:server' : 'jabber:client';
  c.write(
    `<?xml version='1.0'?><stream:stream to='${xmlEscape(domain)}' xmlns='${ns}'` +
      ` xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
  );
  const { text } = await c.readThrough(
    /<(?:[\w.-]+:)?features(?:\s[^>]*)?\/>|<\/(?:[\w.-]+:)?features\s*>/,
    XMPP_GIVE_UP,
  );
  const features = text.slice(Math.max(0, text.search(/<(?:[\w.-]+:)?features[\s>/]/)));
  const starttls = /<(?:[\w.-]+:)?starttls\b[^>]*>/.exec(features);
  if (starttls === null || !starttls[0].includes(XMPP_TLS_NS))
    throw c.error(`does not offer STARTTLS (stream features: ${quote(features)})`);
  c.write(`<starttls xmlns='${XMPP_TLS_NS}'/>`);
  const { match } = await c.readThrough(
    /<(?:[\w.-]+:)?(proceed|failure)\b[^>]*?(?:\/>|>[\s\S]*?<\/(?:[\w.-]+:)?\1\s*>)/,
    XMPP_GIVE_UP,
  );
  if (match[1] !== 'proceed') throw c.error(`refused STARTTLS (reply: ${quote(match[0])})`);
}
